"""Box voting (Gidaris & Komodakis 2015; Detectron's ``TEST.BBOX_VOTE``): each detection kept
by NMS moves to the score-weighted mean of the boxes of its class that overlap it enough,
those NMS suppressed included. The scores stay; only where the box lies changes."""

from __future__ import annotations

from torch import Tensor
from torchvision.ops import box_iou


def vote_boxes(kept_boxes: Tensor, kept_labels: Tensor, boxes: Tensor, scores: Tensor, labels: Tensor, iou: float) -> Tensor:
    """The voted boxes of the detections NMS kept.

    Args:
        kept_boxes: ``[D, 4]`` xyxy, the boxes NMS kept; kept_labels: ``[D]``.
        boxes: ``[M, 4]`` xyxy, every candidate NMS saw (the kept ones among them), same pixels;
            scores: ``[M]``; labels: ``[M]``.
        iou: a candidate of the same label with at least this IoU with a kept box votes for it,
            weighted by its score.

    Returns:
        ``[D, 4]``: each kept box replaced by the weighted mean of its voters. A kept box is its
        own voter (IoU 1), so one that overlaps nothing stays where it was.
    """
    if kept_boxes.numel() == 0:
        return kept_boxes
    same_label = kept_labels[:, None] == labels[None, :]
    weights = ((box_iou(kept_boxes, boxes) >= iou) & same_label) * scores[None, :]
    total = weights.sum(dim=1, keepdim=True)
    voted = weights @ boxes / total.clamp_min(1e-12)
    return voted.where(total > 0, kept_boxes)

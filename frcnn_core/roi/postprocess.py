"""Inference post-processing: class-specific boxes, score threshold, per-class NMS, box voting."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor
from torchvision.ops import batched_nms, clip_boxes_to_image, remove_small_boxes

from ..boxes import decode_boxes
from .box_voting import vote_boxes


@dataclass
class Detections:
    """Final detections of one image, sorted by score.

    Attributes:
        boxes: ``[D, 4]`` xyxy; scores: ``[D]``; labels: ``[D]`` in 1..C.
        class_scores: ``[D, C + 1]`` softmax over classes of the RoI each detection came from.
        proposal_index: ``[D]`` index of that RoI among the image's proposals.
        deltas: ``[D, 4]`` the ``(dx, dy, dw, dh)`` the head applied to the proposal (weights
            undone). With box voting the box then moved to the mean of the boxes voting for it,
            so it is not exactly the proposal decoded by these deltas.

    Supports ``det["boxes"]`` as well as ``det.boxes``.
    """

    boxes: Tensor
    scores: Tensor
    labels: Tensor
    class_scores: Tensor
    proposal_index: Tensor
    deltas: Tensor

    def __getitem__(self, key: str) -> Tensor:
        return getattr(self, key)

    def __len__(self) -> int:
        return self.boxes.shape[0]

    def keys(self) -> list[str]:
        return [f.name for f in fields(self)]

    def map(self, fn) -> Detections:
        """A copy with ``fn`` applied to every tensor (e.g. ``lambda t: t.cpu()``)."""
        return Detections(**{f.name: fn(getattr(self, f.name)) for f in fields(self)})


def postprocess_detections(
    proposals: Tensor,
    class_logits: Tensor,
    deltas: Tensor,
    image_size: tuple[int, int],
    box_weights: tuple[float, float, float, float],
    score_thresh: float,
    nms_thresh: float,
    max_detections: int,
    vote_iou: float = 0.0,
) -> Detections:
    """Decode every foreground class's box for each RoI, then keep scores above
    ``score_thresh``, apply NMS per class and keep the best ``max_detections``; with
    ``vote_iou > 0`` each kept box then moves to the score-weighted mean of the boxes of its
    class (above ``score_thresh``) overlapping it at least that much (:func:`vote_boxes`).

    Args:
        proposals: ``[R, 4]`` xyxy; class_logits: ``[R, C + 1]``; deltas: ``[R, 4 * (C + 1)]``.
    """
    num_rois, num_columns = class_logits.shape
    num_classes = num_columns - 1
    probs = torch.softmax(class_logits.float(), dim=1)
    boxes = decode_boxes(proposals.float(), deltas.float(), box_weights).reshape(num_rois, num_columns, 4)
    boxes = clip_boxes_to_image(boxes, image_size)[:, 1:].reshape(-1, 4)
    scores = probs[:, 1:].reshape(-1)
    labels = torch.arange(1, num_columns, device=proposals.device).repeat(num_rois)
    roi = torch.arange(num_rois, device=proposals.device).repeat_interleave(num_classes)
    keep = torch.nonzero(scores > score_thresh, as_tuple=True)[0]
    candidates = keep[remove_small_boxes(boxes[keep], 1e-2)]
    keep = candidates[batched_nms(boxes[candidates], scores[candidates], labels[candidates], nms_thresh)[:max_detections]]
    label = labels[keep]
    applied = deltas.float().reshape(num_rois, num_columns, 4)[roi[keep], label] / deltas.new_tensor(box_weights).float()
    kept_boxes = boxes[keep]
    if vote_iou > 0:
        kept_boxes = vote_boxes(kept_boxes, label, boxes[candidates], scores[candidates], labels[candidates], vote_iou)
    return Detections(kept_boxes, scores[keep], label, probs[roi[keep]], roi[keep], applied)

"""Proposal layer (the seed's step 4): turn RPN outputs into a few hundred RoIs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torchvision.ops import clip_boxes_to_image, nms, remove_small_boxes

from ..boxes import decode_boxes


@dataclass
class Proposals:
    """Proposals of one image in network-input pixels.

    Attributes:
        boxes: ``[P, 4]`` xyxy after NMS and post-NMS top-N, sorted by score.
        scores: ``[P]`` objectness probabilities.
        anchor_index: ``[P]`` index of the anchor each proposal was decoded from.
        pre_nms_boxes, pre_nms_scores, pre_nms_anchor_index: the same before NMS
            (after decode, clip, small-box removal, pre-NMS top-N and the score threshold).
    """

    boxes: Tensor
    scores: Tensor
    anchor_index: Tensor
    pre_nms_boxes: Tensor
    pre_nms_scores: Tensor
    pre_nms_anchor_index: Tensor


def propose(
    anchors: Tensor,
    objectness: Tensor,
    deltas: Tensor,
    image_size: tuple[int, int],
    pre_nms_top_n: int,
    post_nms_top_n: int,
    nms_thresh: float,
    min_size: float,
    score_thresh: float = 0.0,
) -> Proposals:
    """Decode, clip, drop boxes smaller than ``min_size``, keep the top ``pre_nms_top_n``,
    drop those whose objectness probability is below ``score_thresh``, NMS at ``nms_thresh``,
    keep the top ``post_nms_top_n``.

    Args:
        anchors: ``[N, 4]`` xyxy; objectness: ``[N]`` logits; deltas: ``[N, 4]``.
        image_size: ``(height, width)`` the boxes are clipped to.
    """
    boxes = clip_boxes_to_image(decode_boxes(anchors, deltas.to(anchors.dtype)), image_size)
    keep = remove_small_boxes(boxes, min_size)
    scores = torch.sigmoid(objectness[keep].float())
    top = scores.topk(min(pre_nms_top_n, scores.numel())).indices
    if score_thresh > 0:
        top = top[scores[top] >= score_thresh]
    candidates = keep[top]
    pre_boxes, pre_scores = boxes[candidates], scores[top]
    kept = nms(pre_boxes.float(), pre_scores, nms_thresh)[:post_nms_top_n]
    return Proposals(pre_boxes[kept], pre_scores[kept], candidates[kept], pre_boxes, pre_scores, candidates)

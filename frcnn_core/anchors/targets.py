"""Anchor target creator: the seed's step 2, labelling anchors for the RPN losses."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from ..boxes import encode_boxes, pairwise_iou
from ..sampling import sample_balanced
from .grid import inside_image

if TYPE_CHECKING:
    from ..config import DetectorConfig

POSITIVE, NEGATIVE, IGNORED = 1, 0, -1  # anchor labels: the RPN's classification targets


@dataclass
class AnchorTargets:
    """Per-anchor assignment for one image; every tensor has ``N`` = number of anchors rows.

    Attributes:
        labels: ``[N]`` int64 after sampling: 1 positive, 0 negative, -1 ignored.
        candidate_labels: ``[N]`` the same labels before sampling (all candidates).
        deltas: ``[N, 4]`` ``(dx, dy, dw, dh)`` from each anchor to its matched GT (0 where no GT).
        matched_gt: ``[N]`` int64 index of the GT box with highest IoU (-1 where no GT or outside).
        max_iou: ``[N]`` that IoU (0 outside the image).
        inside: ``[N]`` bool, anchor inside the image (up to the allowed border): only these take part.
    """

    labels: Tensor
    candidate_labels: Tensor
    deltas: Tensor
    matched_gt: Tensor
    max_iou: Tensor
    inside: Tensor

    @property
    def num_positive(self) -> int:
        return int((self.labels == POSITIVE).sum())

    @property
    def num_negative(self) -> int:
        return int((self.labels == NEGATIVE).sum())


def assign_anchor_targets(
    anchors: Tensor,
    gt_boxes: Tensor,
    image_size: tuple[int, int],
    pos_iou: float = 0.7,
    neg_iou: float = 0.3,
    num_samples: int = 256,
    pos_fraction: float = 0.5,
    generator: torch.Generator | None = None,
    allowed_border: float = 0.0,
    positives_per_gt: int = 1,
) -> AnchorTargets:
    """Label anchors positive / negative / ignored and compute their regression targets.

    Rules (the seed's): anchors crossing the image border by more than ``allowed_border``
    pixels (the seed: 0) are ignored; among the rest, (a) the ``positives_per_gt`` anchors
    with the highest IoU for each GT box are positive (the seed: 1; ties included, only
    where that IoU is above 0), (b) IoU >= ``pos_iou`` is positive, (c) IoU < ``neg_iou``
    with every GT is negative. Then at most
    ``num_samples * pos_fraction`` positives and ``num_samples - n_positive``
    negatives are kept; the others become ignored.

    Args:
        anchors: ``[N, 4]`` xyxy in network-input pixels.
        gt_boxes: ``[G, 4]`` xyxy in the same pixels; ``G`` may be 0.
        image_size: ``(height, width)`` of the (unpadded) image.
    """
    num_anchors = anchors.shape[0]
    device = anchors.device
    inside = inside_image(anchors, image_size, allowed_border)
    labels = torch.full((num_anchors,), IGNORED, dtype=torch.int64, device=device)
    matched_gt = torch.full((num_anchors,), -1, dtype=torch.int64, device=device)
    max_iou = torch.zeros(num_anchors, dtype=torch.float32, device=device)
    deltas = torch.zeros((num_anchors, 4), dtype=torch.float32, device=device)

    if gt_boxes.shape[0] == 0:
        labels[inside] = NEGATIVE
    else:
        inside_index = torch.nonzero(inside, as_tuple=True)[0]
        iou = pairwise_iou(anchors[inside_index], gt_boxes.to(anchors.dtype))  # [Ni, G]
        best_iou, best_gt = iou.max(dim=1)
        inside_labels = torch.full_like(best_gt, IGNORED)
        inside_labels[best_iou < neg_iou] = NEGATIVE
        k = min(positives_per_gt, iou.shape[0])
        gt_kth_best = iou.topk(k, dim=0).values[-1] if k else iou.new_full((iou.shape[1],), math.inf)  # [G]
        is_gt_best = ((iou >= gt_kth_best.unsqueeze(0)) & (iou > 0)).any(dim=1)
        inside_labels[is_gt_best] = POSITIVE
        inside_labels[best_iou >= pos_iou] = POSITIVE
        labels[inside_index] = inside_labels
        matched_gt[inside_index] = best_gt
        max_iou[inside_index] = best_iou
        deltas[inside_index] = encode_boxes(anchors[inside_index], gt_boxes[best_gt].to(anchors.dtype))

    candidate_labels = labels.clone()
    sampled_pos, sampled_neg = sample_balanced(labels == POSITIVE, labels == NEGATIVE, num_samples, pos_fraction, generator)
    labels = torch.full_like(labels, IGNORED)
    labels[sampled_pos] = POSITIVE
    labels[sampled_neg] = NEGATIVE
    return AnchorTargets(labels, candidate_labels, deltas, matched_gt, max_iou, inside)


def assign_anchor_targets_for(
    config: DetectorConfig, anchors: Tensor, gt_boxes: Tensor, image_size: tuple[int, int], generator: torch.Generator | None = None
) -> AnchorTargets:
    """:func:`assign_anchor_targets` with the rule of ``config`` (its ``rpn_*`` fields): the one
    place where a configuration becomes an assignment, for the model and for the viewer."""
    return assign_anchor_targets(
        anchors, gt_boxes, image_size, config.rpn_pos_iou, config.rpn_neg_iou, config.rpn_num_samples, config.rpn_pos_fraction,
        generator, allowed_border=config.rpn_allowed_border, positives_per_gt=config.rpn_positives_per_gt,
    )

"""Proposal target creator (the seed's step 6): sample RoIs for the Fast R-CNN head."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .boxes import encode_boxes, pairwise_iou
from .sampling import sample_balanced


@dataclass
class RoiSamples:
    """RoIs sampled for the head in one image (network-input pixels).

    Attributes:
        boxes: ``[R, 4]`` xyxy, foreground first.
        labels: ``[R]`` int64 class 1..C for foreground, 0 for background.
        deltas: ``[R, 4]`` normalised regression targets to the matched GT (0 for background).
        matched_gt: ``[R]`` index of the best-overlapping GT (-1 when there is no GT).
        max_iou: ``[R]`` that IoU.
        source: ``[R]`` index into the proposals, or -1 for a GT box added as a RoI.
    """

    boxes: Tensor
    labels: Tensor
    deltas: Tensor
    matched_gt: Tensor
    max_iou: Tensor
    source: Tensor


def assign_proposal_targets(
    proposals: Tensor,
    gt_boxes: Tensor,
    gt_labels: Tensor,
    num_samples: int = 128,
    fg_fraction: float = 0.25,
    fg_iou: float = 0.5,
    bg_iou_high: float = 0.5,
    bg_iou_low: float = 0.0,
    weights=(10.0, 10.0, 5.0, 5.0),
    generator: torch.Generator | None = None,
) -> RoiSamples:
    """Add the GT boxes to the proposals, then sample foreground (IoU >= ``fg_iou``)
    and background (IoU in ``[bg_iou_low, bg_iou_high)``) RoIs, at most
    ``num_samples * fg_fraction`` foreground and ``num_samples`` in all.

    Args:
        proposals: ``[P, 4]`` xyxy; gt_boxes: ``[G, 4]``; gt_labels: ``[G]`` in 1..C.
    """
    device = proposals.device
    rois = torch.cat((proposals, gt_boxes.to(proposals.dtype)), dim=0)
    source = torch.cat((torch.arange(proposals.shape[0], device=device), torch.full((gt_boxes.shape[0],), -1, device=device)))
    if gt_boxes.shape[0] == 0:
        max_iou = torch.zeros(rois.shape[0], device=device)
        matched = torch.full((rois.shape[0],), -1, dtype=torch.int64, device=device)
    else:
        max_iou, matched = pairwise_iou(rois, gt_boxes.to(rois.dtype)).max(dim=1)
    foreground = max_iou >= fg_iou
    background = (max_iou < bg_iou_high) & (max_iou >= bg_iou_low)
    fg, bg = sample_balanced(foreground, background, num_samples, fg_fraction, generator)
    index = torch.cat((torch.nonzero(fg, as_tuple=True)[0], torch.nonzero(bg, as_tuple=True)[0]))
    num_fg = int(fg.sum())
    labels = torch.zeros(index.numel(), dtype=torch.int64, device=device)
    deltas = torch.zeros((index.numel(), 4), dtype=rois.dtype, device=device)
    if num_fg:
        fg_index = index[:num_fg]
        labels[:num_fg] = gt_labels[matched[fg_index]]
        deltas[:num_fg] = encode_boxes(rois[fg_index], gt_boxes[matched[fg_index]].to(rois.dtype), weights)
    return RoiSamples(rois[index], labels, deltas, matched[index], max_iou[index], source[index])

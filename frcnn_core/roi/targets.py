"""Proposal target creator (the seed's step 6): sample RoIs for the Fast R-CNN head."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torchvision.ops import clip_boxes_to_image

from ..boxes import encode_boxes, pairwise_iou
from ..sampling import sample_balanced

# a jittered copy of a GT box moves its centre by up to this fraction of the box's width and
# height and scales each side by a factor in [exp(-2 * JITTER), exp(2 * JITTER)]: IoU with
# the box 0.65-0.99, median 0.77
JITTER = 0.1

# RoiSamples.source of a RoI that is not a proposal (a proposal's source is its index, >= 0)
ROI_SOURCE_GT = -1  # a GT box added as a RoI
ROI_SOURCE_JITTERED_GT = -2  # a jittered copy of a GT box


@dataclass
class RoiSamples:
    """RoIs sampled for the head in one image (network-input pixels).

    Attributes:
        boxes: ``[R, 4]`` xyxy, foreground first.
        labels: ``[R]`` int64 class 1..C for foreground, 0 for background.
        deltas: ``[R, 4]`` normalised regression targets to the matched GT (0 for background).
        matched_gt: ``[R]`` index of the best-overlapping GT (-1 when there is no GT).
        max_iou: ``[R]`` that IoU.
        source: ``[R]`` index into the proposals, :data:`ROI_SOURCE_GT` for a GT box added as a
            RoI, :data:`ROI_SOURCE_JITTERED_GT` for a jittered copy of one.
    """

    boxes: Tensor
    labels: Tensor
    deltas: Tensor
    matched_gt: Tensor
    max_iou: Tensor
    source: Tensor


def jitter_boxes(boxes: Tensor, copies: int, generator: torch.Generator | None = None) -> Tensor:
    """``[copies * G, 4]`` randomly shifted and rescaled copies of ``boxes`` (``[G, 4]`` xyxy),
    by up to :data:`JITTER` (see there); drawn from ``generator``, else from the default
    generator of the boxes' device (no host-device copy on a GPU)."""
    repeated = boxes.repeat(copies, 1)
    size = (repeated[:, 2:] - repeated[:, :2]).clamp(min=1.0)
    device = generator.device if generator is not None else boxes.device
    uniform = torch.rand((repeated.shape[0], 4), generator=generator, device=device).to(boxes) * 2 - 1
    centre = (repeated[:, :2] + repeated[:, 2:]) / 2 + size * uniform[:, :2] * JITTER
    size = size * torch.exp(uniform[:, 2:] * 2 * JITTER)
    return torch.cat((centre - size / 2, centre + size / 2), dim=1)


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
    jittered_copies: int = 0,
    image_size: tuple[int, int] | None = None,
) -> RoiSamples:
    """Add the GT boxes to the proposals (and ``jittered_copies`` jittered copies of each,
    clipped to ``image_size`` ``(H, W)``), then sample foreground (IoU >= ``fg_iou``) and
    background (IoU in ``[bg_iou_low, bg_iou_high)``) RoIs, at most
    ``num_samples * fg_fraction`` foreground and ``num_samples`` in all.

    The copies give the head foreground RoIs that need regressing from the first iteration,
    while the young RPN's proposals rarely overlap any GT box (the seed adds the boxes only).

    Args:
        proposals: ``[P, 4]`` xyxy; gt_boxes: ``[G, 4]``; gt_labels: ``[G]`` in 1..C.
    """
    device = proposals.device
    added = gt_boxes.to(proposals.dtype)
    if jittered_copies and gt_boxes.shape[0]:
        copies = jitter_boxes(added, jittered_copies, generator)
        added = torch.cat((added, clip_boxes_to_image(copies, image_size) if image_size is not None else copies))
    rois = torch.cat((proposals, added), dim=0)
    num_gt = gt_boxes.shape[0]
    source = torch.cat((
        torch.arange(proposals.shape[0], device=device),
        torch.full((num_gt,), ROI_SOURCE_GT, device=device),
        torch.full((added.shape[0] - num_gt,), ROI_SOURCE_JITTERED_GT, device=device),
    ))
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

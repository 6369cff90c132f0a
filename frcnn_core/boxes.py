"""Box geometry shared by every stage.

Convention everywhere inside ``frcnn_core``: boxes are ``[N, 4]`` float tensors
``(x1, y1, x2, y2)`` in continuous pixel coordinates (pixel ``i`` covers
``[i, i + 1)``); regression deltas are ``(dx, dy, dw, dh)`` as in the seed
(which writes them ``(dy, dx, dh, dw)`` for ``yxyx`` boxes).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torchvision.ops import box_iou

# exp() of a larger dw/dh would overflow; the value bounds a box to 1000x its anchor.
MAX_LOG_SCALE = math.log(1000.0 / 16)
# Widths and heights are clamped to this before division or log, so degenerate
# (zero-width or zero-height) boxes give finite targets instead of inf/NaN.
MIN_EXTENT = 1e-3


def encode_boxes(reference: Tensor, target: Tensor, weights=(1.0, 1.0, 1.0, 1.0)) -> Tensor:
    """Regression targets that move ``reference`` boxes onto ``target`` boxes.

    Args:
        reference: ``[N, 4]`` xyxy (anchors or proposals).
        target: ``[N, 4]`` xyxy, matched one to one with ``reference``.
        weights: ``(wx, wy, ww, wh)`` multipliers; ``(10, 10, 5, 5)`` is the
            Fast R-CNN head's target normalisation by std ``(0.1, 0.1, 0.2, 0.2)``.

    Returns:
        ``[N, 4]`` deltas ``(dx, dy, dw, dh)``, always finite.
    """
    wx, wy, ww, wh = weights
    ref_w = (reference[:, 2] - reference[:, 0]).clamp(min=MIN_EXTENT)
    ref_h = (reference[:, 3] - reference[:, 1]).clamp(min=MIN_EXTENT)
    ref_cx = reference[:, 0] + 0.5 * ref_w
    ref_cy = reference[:, 1] + 0.5 * ref_h
    tgt_w = (target[:, 2] - target[:, 0]).clamp(min=MIN_EXTENT)
    tgt_h = (target[:, 3] - target[:, 1]).clamp(min=MIN_EXTENT)
    tgt_cx = target[:, 0] + 0.5 * tgt_w
    tgt_cy = target[:, 1] + 0.5 * tgt_h
    return torch.stack(
        (
            wx * (tgt_cx - ref_cx) / ref_w,
            wy * (tgt_cy - ref_cy) / ref_h,
            ww * torch.log(tgt_w / ref_w),
            wh * torch.log(tgt_h / ref_h),
        ),
        dim=1,
    )


def decode_boxes(reference: Tensor, deltas: Tensor, weights=(1.0, 1.0, 1.0, 1.0)) -> Tensor:
    """Apply ``deltas`` to ``reference`` boxes: the inverse of :func:`encode_boxes`.

    Args:
        reference: ``[N, 4]`` xyxy.
        deltas: ``[N, 4]`` or ``[N, 4 * K]`` ``(dx, dy, dw, dh)`` (K boxes per reference).
        weights: the same weights used for encoding.

    Returns:
        ``[N, 4]`` or ``[N, 4 * K]`` xyxy boxes. ``dw``/``dh`` are clamped so the
        result stays finite.
    """
    wx, wy, ww, wh = weights
    reference = reference.to(deltas.dtype)
    widths = (reference[:, 2] - reference[:, 0]).unsqueeze(1)
    heights = (reference[:, 3] - reference[:, 1]).unsqueeze(1)
    ctr_x = reference[:, 0].unsqueeze(1) + 0.5 * widths
    ctr_y = reference[:, 1].unsqueeze(1) + 0.5 * heights
    dx = deltas[:, 0::4] / wx
    dy = deltas[:, 1::4] / wy
    dw = (deltas[:, 2::4] / ww).clamp(max=MAX_LOG_SCALE)
    dh = (deltas[:, 3::4] / wh).clamp(max=MAX_LOG_SCALE)
    pred_ctr_x = dx * widths + ctr_x
    pred_ctr_y = dy * heights + ctr_y
    pred_w = torch.exp(dw) * widths
    pred_h = torch.exp(dh) * heights
    boxes = torch.stack(
        (
            pred_ctr_x - 0.5 * pred_w,
            pred_ctr_y - 0.5 * pred_h,
            pred_ctr_x + 0.5 * pred_w,
            pred_ctr_y + 0.5 * pred_h,
        ),
        dim=2,
    )
    return boxes.flatten(1)


def pairwise_iou(boxes_a: Tensor, boxes_b: Tensor) -> Tensor:
    """IoU matrix ``[N, M]`` between xyxy boxes, 0 (never NaN) for degenerate pairs.

    torchvision's :func:`box_iou` divides by the union, which is 0 when both
    boxes have zero area; such pairs are defined to have IoU 0 here.
    """
    return torch.nan_to_num(box_iou(boxes_a, boxes_b), nan=0.0)


def yxyx_to_xyxy(boxes: Tensor) -> Tensor:
    """Convert the seed's ``(y1, x1, y2, x2)`` boxes to ``(x1, y1, x2, y2)``."""
    return boxes[:, [1, 0, 3, 2]]


def scale_boxes(boxes: Tensor, scale_xy: tuple[float, float]) -> Tensor:
    """Multiply x coordinates by ``scale_xy[0]`` and y coordinates by ``scale_xy[1]``."""
    sx, sy = scale_xy
    return boxes * boxes.new_tensor([sx, sy, sx, sy])

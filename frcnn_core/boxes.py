"""Box geometry shared by every stage.

Convention everywhere inside ``frcnn_core``: boxes are ``[N, 4]`` float tensors
``(x1, y1, x2, y2)`` in continuous pixel coordinates (pixel ``i`` covers
``[i, i + 1)``); regression deltas are ``(dx, dy, dw, dh)`` as in the seed
(which writes them ``(dy, dx, dh, dw)`` for ``yxyx`` boxes).
"""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor
from torchvision.ops import box_iou

# exp() of a larger dw/dh would overflow; the value bounds a box to 1000x its anchor.
MAX_LOG_SCALE = math.log(1000.0 / 16)
# Widths and heights are clamped to this before division or log, so degenerate
# (zero-width or zero-height) boxes give finite targets instead of inf/NaN.
MIN_EXTENT = 1e-3


@functools.lru_cache(maxsize=32)
def _weight_row(weights: tuple[float, ...], dtype: torch.dtype, device: torch.device) -> Tensor:
    """``weights`` as a ``[4]`` tensor, made once per device: a fresh one would be a host to
    device copy, and a wait, on every call."""
    return torch.tensor(weights, dtype=dtype, device=device)


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
    ref_size = (reference[:, 2:] - reference[:, :2]).clamp(min=MIN_EXTENT)  # [N, 2] (w, h)
    tgt_size = (target[:, 2:] - target[:, :2]).clamp(min=MIN_EXTENT)
    weight = _weight_row(tuple(weights), reference.dtype, reference.device)
    shift = ((target[:, :2] + 0.5 * tgt_size) - (reference[:, :2] + 0.5 * ref_size)) * weight[:2] / ref_size
    return torch.cat((shift, torch.log(tgt_size / ref_size) * weight[2:]), dim=1)


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
    reference = reference.to(deltas.dtype)
    size = (reference[:, 2:] - reference[:, :2]).unsqueeze(1)  # [N, 1, 2] (w, h)
    center = reference[:, :2].unsqueeze(1) + 0.5 * size
    scaled = deltas.unflatten(1, (-1, 4)) / _weight_row(tuple(weights), deltas.dtype, deltas.device)  # [N, K, 4]
    pred_center = scaled[..., :2] * size + center
    pred_half = 0.5 * (torch.exp(scaled[..., 2:].clamp(max=MAX_LOG_SCALE)) * size)
    return torch.cat((pred_center - pred_half, pred_center + pred_half), dim=2).flatten(1)


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

"""Anchor boxes: the seed's ``anchor_base`` replicated over a feature grid.

Ordering (it must agree with the RPN's output layout, which the seed's own
loops get wrong by iterating x before y): anchors are row-major over feature
cells ``(y, x)`` and, inside a cell, ratio-major then scale, so anchor
``((y * Wf + x) * A + r * S + s)`` belongs to cell ``(y, x)``, ratio ``r`` and
scale ``s``. Boxes are ``(x1, y1, x2, y2)`` in network-input pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def anchor_base(stride: int = 16, scales: Sequence[float] = (8, 16, 32), ratios: Sequence[float] = (0.5, 1.0, 2.0)) -> Tensor:
    """The ``[A, 4]`` anchors of feature cell (0, 0), centred on ``(stride/2, stride/2)``.

    For ratio ``r`` and scale ``s`` the anchor has height ``stride * s * sqrt(r)``
    and width ``stride * s / sqrt(r)`` (``r`` is height / width), ``A = len(ratios) * len(scales)``.
    """
    ratios_t = torch.as_tensor(ratios, dtype=torch.float64)
    scales_t = torch.as_tensor(scales, dtype=torch.float64)
    heights = (stride * scales_t[None, :] * ratios_t.sqrt()[:, None]).reshape(-1)
    widths = (stride * scales_t[None, :] / ratios_t.sqrt()[:, None]).reshape(-1)
    centre = stride / 2.0
    base = torch.stack(
        (centre - widths / 2, centre - heights / 2, centre + widths / 2, centre + heights / 2), dim=1
    )
    return base.float()


def grid_anchors(
    feature_size: tuple[int, int],
    stride: int = 16,
    scales: Sequence[float] = (8, 16, 32),
    ratios: Sequence[float] = (0.5, 1.0, 2.0),
    device: torch.device | str | None = None,
) -> Tensor:
    """All anchors of a ``(Hf, Wf)`` feature map: ``[Hf * Wf * A, 4]`` xyxy.

    Ordered row-major over ``(y, x)`` then ratio-major, scale-minor inside a cell.
    """
    height, width = feature_size
    base = anchor_base(stride, scales, ratios).to(device)
    shift_y = torch.arange(height, dtype=torch.float32, device=device) * stride
    shift_x = torch.arange(width, dtype=torch.float32, device=device) * stride
    sy, sx = torch.meshgrid(shift_y, shift_x, indexing="ij")
    shifts = torch.stack((sx, sy, sx, sy), dim=-1).reshape(-1, 1, 4)
    return (shifts + base.unsqueeze(0)).reshape(-1, 4)


def anchor_cell_index(anchor_index: Tensor, feature_width: int, num_anchors_per_cell: int) -> tuple[Tensor, Tensor, Tensor]:
    """Inverse of the ordering: ``(cell_y, cell_x, a)`` for flat anchor indices."""
    cell = anchor_index // num_anchors_per_cell
    return cell // feature_width, cell % feature_width, anchor_index % num_anchors_per_cell


def inside_image(anchors: Tensor, image_size: tuple[int, int], allowed_border: float = 0.0) -> Tensor:
    """``[N]`` bool: anchors lying inside an image of ``(height, width)``, allowed to reach
    ``allowed_border`` pixels past each edge (0: entirely inside, the seed's rule)."""
    height, width = image_size
    b = allowed_border
    return (anchors[:, 0] >= -b) & (anchors[:, 1] >= -b) & (anchors[:, 2] <= width + b) & (anchors[:, 3] <= height + b)

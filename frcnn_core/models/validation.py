"""Checks on what users hand to the detector, raising ``ValueError`` that names the problem."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def validate_image(image, index: int = 0) -> None:
    """An image must be a float tensor ``[3, H, W]`` with finite values in 0..1."""
    where = f"image {index}"
    if not isinstance(image, Tensor):
        raise ValueError(f"{where}: expected a torch.Tensor, got {type(image).__name__}")
    if not image.is_floating_point():
        raise ValueError(f"{where}: expected a float tensor with values in 0..1, got dtype {image.dtype} (divide uint8 images by 255)")
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"{where}: expected shape [3, H, W], got {list(image.shape)}")
    if image.shape[1] < 1 or image.shape[2] < 1:
        raise ValueError(f"{where}: empty image of shape {list(image.shape)}")
    lo, hi = torch.stack(torch.aminmax(image)).tolist()  # one device sync (NaN propagates)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{where}: contains NaN or inf values")
    if lo < -1e-3 or hi > 1 + 1e-3:
        raise ValueError(f"{where}: values must be in 0..1, got range [{lo:.3g}, {hi:.3g}]")


def validate_target(target, num_classes: int, index: int = 0) -> None:
    """A target is a dict with ``boxes`` ``[G, 4]`` xyxy (x2 >= x1, y2 >= y1, finite) and ``labels`` ``[G]`` in 1..num_classes."""
    where = f"target {index}"
    if not isinstance(target, dict) or "boxes" not in target or "labels" not in target:
        raise ValueError(f"{where}: expected a dict with 'boxes' and 'labels'")
    boxes, labels = target["boxes"], target["labels"]
    if not isinstance(boxes, Tensor) or boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{where}: boxes must be a [G, 4] tensor, got {getattr(boxes, 'shape', type(boxes).__name__)}")
    if not isinstance(labels, Tensor) or labels.ndim != 1 or labels.shape[0] != boxes.shape[0]:
        raise ValueError(f"{where}: labels must be a [G] tensor matching {boxes.shape[0]} boxes, got {getattr(labels, 'shape', None)}")
    if boxes.numel() == 0:
        return
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"{where}: labels must be integers, got {labels.dtype}")
    finite = torch.isfinite(boxes.float()).all(dim=1)
    inverted = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    out_of_range = (labels < 1) | (labels > num_classes)
    problems = torch.stack([~finite.all(), inverted.any(), out_of_range.any()]).tolist()  # one device sync
    if not boxes.is_floating_point() or problems[0]:
        bad = torch.nonzero(~finite)[:1].flatten().tolist()
        raise ValueError(f"{where}: boxes must be finite floats; box {bad} is {boxes[bad].tolist() if bad else boxes.dtype}")
    if problems[1]:
        i = int(torch.nonzero(inverted)[0])
        raise ValueError(f"{where}: box {i} {boxes[i].tolist()} has x2 < x1 or y2 < y1 (boxes are x1, y1, x2, y2)")
    if problems[2]:
        i = int(torch.nonzero(out_of_range)[0])
        raise ValueError(f"{where}: label {int(labels[i])} of box {i} is outside 1..{num_classes} (0 is background)")

"""Anchor statistics: how many anchors an image gets and how well they cover GT boxes.

Helps choose anchor scales and ratios: a GT box whose best anchor IoU stays below
0.7 gets a positive label only through the "best anchor per GT" rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .assignment import padded_feature_size
from .coverage import AnchorLayout, GtBoxes, grid_coverage
from .grid import grid_anchors, inside_image


def anchor_counts(image_size: tuple[int, int], stride: int, scales, ratios) -> dict:
    """Total and inside-the-image anchor counts, and the anchor shapes ``(ratio, scale, w, h)``."""
    anchors = grid_anchors(padded_feature_size(image_size, stride), stride, scales, ratios)
    shapes = [
        {"ratio": r, "scale": s, "width": stride * s / math.sqrt(r), "height": stride * s * math.sqrt(r)}
        for r in ratios for s in scales
    ]
    return {
        "image_size": list(image_size),
        "feature_size": list(padded_feature_size(image_size, stride)),
        "anchors": int(anchors.shape[0]),
        "inside": int(inside_image(anchors, image_size).sum()),
        "shapes": shapes,
    }


@dataclass
class Coverage:
    """Best inside-anchor IoU of every GT box of a dataset (network-input pixels)."""

    best_iou: list[float] = field(default_factory=list)
    box_sizes: list[float] = field(default_factory=list)  # sqrt(area) in input pixels

    def summary(self) -> dict:
        ious = torch.tensor(self.best_iou)
        sizes = torch.tensor(self.box_sizes)
        n = len(self.best_iou)
        out = {
            "gt_boxes": n,
            "iou_ge_0.7": int((ious >= 0.7).sum()) if n else 0,
            "iou_ge_0.5": int((ious >= 0.5).sum()) if n else 0,
            "median_best_iou": float(ious.median()) if n else float("nan"),
        }
        buckets = {"small (<32 px)": sizes < 32, "medium (32-96 px)": (sizes >= 32) & (sizes < 96), "large (>=96 px)": sizes >= 96}
        out["by_size"] = {
            name: {"gt_boxes": int(mask.sum()), "iou_ge_0.7": int((ious[mask] >= 0.7).sum()), "iou_ge_0.5": int((ious[mask] >= 0.5).sum())}
            for name, mask in buckets.items() if n
        }
        return out


def dataset_coverage(
    dataset, min_size: int, max_size: int, stride: int, scales, ratios, allowed_border: float = 0.0, progress: Callable[[int, int], None] | None = None
) -> Coverage:
    """Each GT box's best IoU with an anchor inside its image resized as the model would
    (:func:`frcnn_core.anchors.coverage.grid_coverage`; difficult boxes left out, as in training).
    ``progress(done, total)`` is called while the boxes are read (about every 1 % of the images)."""
    layout = AnchorLayout(tuple(scales), tuple(ratios), stride, min_size, max_size, allowed_border)
    report = grid_coverage(GtBoxes.from_dataset(dataset, progress=progress), layout)
    return Coverage(report.best_iou.tolist(), report.box_sizes.tolist())

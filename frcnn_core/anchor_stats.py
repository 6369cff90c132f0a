"""Anchor statistics: how many anchors an image gets and how well they cover GT boxes.

Helps choose anchor scales and ratios: a GT box whose best anchor IoU stays below
0.7 gets a positive label only through the "best anchor per GT" rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .anchors import grid_anchors, inside_image
from .boxes import pairwise_iou, scale_boxes
from .image_batch import resized_size


def feature_size_for(image_size: tuple[int, int], stride: int) -> tuple[int, int]:
    """Feature map ``(Hf, Wf)`` of a ``(h, w)`` network input padded to a multiple of ``stride``."""
    return math.ceil(image_size[0] / stride), math.ceil(image_size[1] / stride)


def anchor_counts(image_size: tuple[int, int], stride: int, scales, ratios) -> dict:
    """Total and inside-the-image anchor counts, and the anchor shapes ``(ratio, scale, w, h)``."""
    anchors = grid_anchors(feature_size_for(image_size, stride), stride, scales, ratios)
    shapes = [
        {"ratio": r, "scale": s, "width": stride * s / math.sqrt(r), "height": stride * s * math.sqrt(r)}
        for r in ratios for s in scales
    ]
    return {
        "image_size": list(image_size),
        "feature_size": list(feature_size_for(image_size, stride)),
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


def dataset_coverage(dataset, min_size: int, max_size: int, stride: int, scales, ratios, progress: Callable[[int, int], None] | None = None) -> Coverage:
    """Resize each image as the model would and record each GT box's best inside-anchor IoU.

    ``progress(done, total)`` is called about every 1% of the images (and after the last)."""
    coverage = Coverage()
    every = max(len(dataset) // 100, 1)
    for i in range(len(dataset)):
        if progress is not None and (i % every == 0 or i == len(dataset) - 1):
            progress(i + 1, len(dataset))
        info = dataset.info(i)
        boxes = info["target"]["boxes"].float()
        if boxes.numel() == 0:
            continue
        height, width = info["size"]
        h, w = resized_size(height, width, min_size, max_size)
        boxes = scale_boxes(boxes, (w / width, h / height))
        anchors = grid_anchors(feature_size_for((h, w), stride), stride, scales, ratios)
        anchors = anchors[inside_image(anchors, (h, w))]
        best = pairwise_iou(boxes, anchors).max(dim=1).values if anchors.numel() else torch.zeros(boxes.shape[0])
        coverage.best_iou += best.tolist()
        coverage.box_sizes += ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clamp(min=0).sqrt().tolist()
    return coverage

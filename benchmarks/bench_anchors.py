"""Anchor generation for an 800x800 image (50x50 feature map, 9 anchors per cell):
the seed's per-anchor Python loops against our vectorised ``grid_anchors``, in one run.

    python benchmarks/bench_anchors.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from frcnn_core import grid_anchors


def seed_style_anchors(feature_size: int = 50, stride: int = 16, ratios=(0.5, 1, 2), scales=(8, 16, 32)) -> np.ndarray:
    """The tutorial's method: one Python iteration per anchor (yxyx, x-major centres)."""
    centres = [(y * stride + stride / 2, x * stride + stride / 2) for x in range(feature_size) for y in range(feature_size)]
    anchors = np.zeros((feature_size * feature_size * len(ratios) * len(scales), 4))
    index = 0
    for cy, cx in centres:
        for r in ratios:
            for s in scales:
                h = stride * s * np.sqrt(r)
                w = stride * s * np.sqrt(1.0 / r)
                anchors[index] = (cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2)
                index += 1
    return anchors


def median_seconds(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    seed = median_seconds(seed_style_anchors, 5)
    ours = median_seconds(lambda: grid_anchors((50, 50)), 50)
    print(f"800x800 image, 22500 anchors: seed loops {seed * 1e3:.1f} ms, grid_anchors {ours * 1e3:.3f} ms, {seed / ours:.0f}x faster")


if __name__ == "__main__":
    main()

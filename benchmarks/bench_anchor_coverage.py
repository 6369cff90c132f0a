"""Dataset-wide anchor coverage of 10 000 GT boxes (2 000 photo-sized images of 5 boxes):
our nearest-cell closed form (`grid_coverage`) against the brute force over every anchor
of each image's grid (`box_iou`, `full_grid_best_iou`), in one run, for the seed's
anchors at 800 px and the `cpu` preset's at 256 px; then one `optimize_anchors` run.

    OMP_NUM_THREADS=1 python benchmarks/bench_anchor_coverage.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from frcnn_core import DetectorConfig, cpu_config
from frcnn_core.anchors.coverage import AnchorLayout, GtBoxes, full_grid_best_iou, grid_coverage
from frcnn_core.anchors.optimizer import optimize_anchors

PHOTO_SIZES = ((480, 640), (375, 500), (600, 800), (640, 480), (333, 500), (427, 640), (1080, 1920))


def random_gt(num_images: int, boxes_per_image: int, seed: int = 0) -> GtBoxes:
    """Boxes with sqrt(area) log-uniform from 10 px to the shorter side, aspect 1/3..3, inside their image."""
    g = torch.Generator().manual_seed(seed)
    sizes = torch.tensor(PHOTO_SIZES)[torch.randint(len(PHOTO_SIZES), (num_images,), generator=g)]
    image_index = torch.arange(num_images).repeat_interleave(boxes_per_image)
    hw = sizes[image_index].float()
    n = image_index.numel()
    side = torch.exp(torch.rand(n, generator=g) * (hw.min(dim=1).values / 10).log() + torch.log(torch.tensor(10.0)))
    aspect = torch.exp((torch.rand(n, generator=g) * 2 - 1) * torch.log(torch.tensor(3.0)))
    w = (side * aspect.sqrt()).clamp(max=hw[:, 1])
    h = (side / aspect.sqrt()).clamp(max=hw[:, 0])
    x1 = torch.rand(n, generator=g) * (hw[:, 1] - w)
    y1 = torch.rand(n, generator=g) * (hw[:, 0] - h)
    return GtBoxes(torch.stack((x1, y1, x1 + w, y1 + h), dim=1), sizes[image_index], image_index)


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """Median wall-clock and CPU seconds of ``repeats`` calls (CPU time: on a shared machine
    the wall clock also counts the other jobs' turns), and the last result."""
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--boxes-per-image", type=int, default=5)
    args = parser.parse_args()
    gt = random_gt(args.images, args.boxes_per_image)
    print(f"{len(gt)} GT boxes in {args.images} images, {torch.get_num_threads()} thread(s)")
    for name, cfg in (("seed anchors at 800 px", DetectorConfig()), ("cpu preset at 256 px", cpu_config(1))):
        layout = AnchorLayout.from_config(cfg)
        fast_s, fast_cpu, fast = timed(lambda: grid_coverage(gt, layout), 7)
        brute_s, brute_cpu, brute = timed(lambda: full_grid_best_iou(gt, layout), 1)
        error = float((fast.best_iou - brute).abs().max())
        print(f"{name:24s} grid_coverage {1000 * fast_s:6.1f} ms (CPU {1000 * fast_cpu:6.1f} ms)   "
              f"brute force {1000 * brute_s:8.1f} ms (CPU {1000 * brute_cpu:8.1f} ms)   "
              f"ratio {brute_s / fast_s:4.0f}x (CPU {brute_cpu / fast_cpu:4.0f}x)   max |difference| {error:.1e}   share >= 0.5 {fast.share_at_least(0.5):.3f}")
    layout = AnchorLayout.from_config(cpu_config(1))
    search_s, search_cpu, search = timed(lambda: optimize_anchors(gt, layout), 1)
    print(f"optimize_anchors (cpu preset, {search.evaluations} coverage evaluations): {search_s:.1f} s (CPU {search_cpu:.1f} s), "
          f"share >= 0.5 {search.start.share_at_least(0.5):.3f} -> {search.result.share_at_least(0.5):.3f}, "
          f">= 0.7 {search.start.share_at_least(0.7):.3f} -> {search.result.share_at_least(0.7):.3f}")


if __name__ == "__main__":
    main()

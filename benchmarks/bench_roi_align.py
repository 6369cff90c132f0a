"""Time RoIAlign forward + backward: torchvision.ops.roi_align against our matrix-product
version (frcnn_core.roi.align), on the same features and boxes, alternated,
printing the ratio (theirs / ours: > 1 means we are faster). The two settings are the
`cpu` preset's training batch and the seed's (VGG16 at 800 px).

    python benchmarks/bench_roi_align.py [--device cpu] [--repeats 5]
"""

from __future__ import annotations

import argparse

import torch
from bench_detector import interleaved_medians
from torchvision.ops import roi_align

from frcnn_core.roi.align import separable_roi_align
from frcnn_core.train.devices import describe_device, select_device

# name: (images, channels, feature height/width, RoIs per image, input pixels)
SETTINGS = {
    "cpu preset: 4 x 128 RoIs, 256 x 16 x 16": (4, 256, 16, 128, 256),
    "512 px input: 2 x 128 RoIs, 256 x 32 x 32": (2, 256, 32, 128, 512),
    "seed: 1 x 128 RoIs, 512 x 50 x 50": (1, 512, 50, 128, 800),
}


def random_rois(images: int, count: int, size: int, device: torch.device) -> list[torch.Tensor]:
    corners = torch.rand(images, count, 2, device=device) * size * 0.8
    extents = 8 + torch.rand(images, count, 2, device=device) * size * 0.5
    return list(torch.cat([corners, corners + extents], dim=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = select_device(args.device)
    torch.manual_seed(0)
    print(f"device: {describe_device(device)}; forward + backward, sampling ratio 2, aligned, 7 x 7 output")
    print(f"{'setting':42s} {'ours (ms)':>10s} {'torchvision (ms)':>17s} {'ratio':>7s}")
    for name, (images, channels, cells, count, size) in SETTINGS.items():
        features = torch.randn(images, channels, cells, cells, device=device, requires_grad=True)
        rois = random_rois(images, count, size, device)

        def step(op):
            def run():
                features.grad = None
                op(features, rois, 7, cells / size, sampling_ratio=2, aligned=True).square().sum().backward()

            return run

        times = interleaved_medians({"ours": step(separable_roi_align), "torchvision": step(roi_align)}, device, args.repeats)
        ours, theirs = times["ours"], times["torchvision"]
        print(f"{name:42s} {ours * 1e3:10.1f} {theirs * 1e3:17.1f} {theirs / ours:6.2f}x")


if __name__ == "__main__":
    main()

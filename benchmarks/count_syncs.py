"""Count what makes a small detector slow on a GPU without needing one: the operators a
training step dispatches (each one at least one kernel launch on CUDA) and the points where
the host must wait for the device (``nonzero``, ``item``, ``tolist``), ours against
torchvision's FasterRCNN built the same way, on the same batch.

    python benchmarks/count_syncs.py [--data composite] [--batch-size 4] [--image-size 256]
"""

from __future__ import annotations

import argparse
import collections
from contextlib import contextmanager, nullcontext
from unittest import mock

import torch
from bench_detector import torchvision_peer
from torch.utils._python_dispatch import TorchDispatchMode

from frcnn_core import FasterRCNN, build_backbone, cpu_config, roi_head
from frcnn_core.data import open_dataset

SYNCING_OPERATORS = ("nonzero", "_local_scalar_dense", "masked_select", "_unique2", "repeat_interleave")


class OperatorCounter(TorchDispatchMode):
    """Counts every dispatched operator, and those that wait for the device."""

    def __init__(self) -> None:
        super().__init__()
        self.operators = 0
        self.syncs: collections.Counter[str] = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.operators += 1
        name = func.__name__.split(".")[0]
        if name in SYNCING_OPERATORS:
            self.syncs[name] += 1
        return func(*args, **(kwargs or {}))


@contextmanager
def counting_tolist(counter: OperatorCounter):
    """``Tensor.tolist`` copies to the host without dispatching an operator on the CPU: count it here."""
    original = torch.Tensor.tolist

    def tolist(self):
        counter.syncs["tolist"] += 1
        return original(self)

    torch.Tensor.tolist = tolist
    try:
        yield
    finally:
        torch.Tensor.tolist = original


def count_training_step(model, images, targets) -> OperatorCounter:
    model.train()
    sum(model(images, targets).values()).backward()  # warm-up: lazy initialisation is not counted
    counter = OperatorCounter()
    with counter, counting_tolist(counter):
        sum(model(images, targets).values()).backward()
    return counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="composite")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--backbone", default="small")
    args = parser.parse_args()

    dataset = open_dataset(args.data, split="train")
    cfg = cpu_config(
        len(dataset.class_names), tuple(dataset.class_names), backbone=args.backbone, min_size=args.image_size,
        max_size=args.image_size * 2, rpn_mid_channels=build_backbone(args.backbone).out_channels,
    )
    images, targets = [], []
    for index in range(args.batch_size):
        image, target = dataset[index]
        images.append(image)
        targets.append({"boxes": target["boxes"].float(), "labels": target["labels"]})

    print(f"one training step of {args.batch_size} {args.data} images, backbone {args.backbone} at {args.image_size} px (forward and backward)")
    print(f"{'':15s} {'operators':>10s} {'sync points':>12s}  of which")
    # on a CUDA device the head uses torchvision's RoIAlign kernel, not the CPU's matrix products
    gpu_path = mock.patch.object(roi_head, "SEPARABLE_ALIGN_MAX_CELLS", 0)
    rows = (("ours, CPU path", FasterRCNN, nullcontext()), ("ours, GPU path", FasterRCNN, gpu_path), ("torchvision", torchvision_peer, nullcontext()))
    for name, build, path in rows:
        torch.manual_seed(0)
        with path:
            counter = count_training_step(build(cfg), images, targets)
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counter.syncs.items()))
        print(f"{name:15s} {counter.operators:10d} {sum(counter.syncs.values()):12d}  {detail}")


if __name__ == "__main__":
    main()

"""frcnn_viewer.training.snapshots: step snapshots, flip detection and the bounded ring buffer."""

from __future__ import annotations

import torch

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.data.transforms import horizontal_flip
from frcnn_core.train import StepResult
from frcnn_viewer.training.snapshots import SnapshotBuffer, StepSnapshot, trace_nbytes, was_flipped

from .fakes import MemoryDataset


def _trace(flip: bool):
    image, target = MemoryDataset()[0]
    if flip:
        image, target = horizontal_flip(image, target)
    torch.manual_seed(0)
    model = FasterRCNN(cpu_config(2, ("red", "blue"), min_size=64, max_size=96)).train()
    return model.trace(image, {"boxes": target["boxes"], "labels": target["labels"]}), MemoryDataset().info(0)["target"]


def test_a_flipped_step_is_told_apart_from_a_plain_one():
    plain, target = _trace(flip=False)
    flipped, _ = _trace(flip=True)
    assert not was_flipped(plain, target)
    assert was_flipped(flipped, target)


def _snapshot(iteration: int, trace=None) -> StepSnapshot:
    return StepSnapshot(StepResult(iteration, {"total": 1.0}, 0.01, 0.1, {}, trace, 0 if trace is not None else None))


def test_buffer_is_bounded_by_count_and_bytes_keeping_the_newest():
    trace, _ = _trace(flip=False)
    size = trace_nbytes(trace)
    assert size > 0
    by_count = SnapshotBuffer(capacity=3, max_bytes=10**12)
    dropped = [by_count.append(_snapshot(i, trace)) for i in range(1, 6)]
    assert by_count.iterations() == [3, 4, 5] and dropped == [0, 0, 0, 1, 1]
    by_bytes = SnapshotBuffer(capacity=100, max_bytes=int(2.5 * size))
    for i in range(1, 6):
        by_bytes.append(_snapshot(i, trace))
    assert by_bytes.iterations() == [4, 5] and by_bytes.nbytes <= 2.5 * size
    tiny = SnapshotBuffer(capacity=5, max_bytes=1)
    tiny.append(_snapshot(1, trace))
    assert tiny.iterations() == [1]  # the newest stays even when it alone is too big

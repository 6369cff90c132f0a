"""frcnn_viewer.state.training.snapshots: step snapshots (mirrored as the step reports) and the bounded ring buffer."""

from __future__ import annotations

import torch

from frcnn_core.data.transforms import horizontal_flip
from frcnn_core.train import StepResult
from frcnn_viewer.state.training.snapshots import SnapshotBuffer, StepSnapshot, snapshot_of, trace_nbytes

from .fakes import MemoryDataset, traced_step


def test_the_snapshot_shows_the_image_mirrored_exactly_when_the_step_says_it_was_flipped():
    trace, _ = traced_step(flip=True)
    dataset = MemoryDataset()
    image = dataset[0][0]
    for flipped in (True, False):
        snapshot = snapshot_of(StepResult(1, {"total": 1.0}, 0.01, 0.1, {}, image_index=0, flipped=flipped, trace=trace), dataset)
        expected = horizontal_flip(image, dataset[0][1])[0] if flipped else image
        assert snapshot.flipped is flipped
        assert torch.equal(torch.from_numpy(snapshot.pixels).permute(2, 0, 1), (expected.clamp(0, 1) * 255).round().to(torch.uint8))


def test_the_snapshot_shows_what_the_step_saw_when_it_reports_it():
    from frcnn_core.train import SeenImage
    from frcnn_viewer.state.sources import Source
    from frcnn_viewer.state.training.display import training_image

    trace, _ = traced_step(flip=False)
    pixels = torch.rand(3, 10, 14)
    seen = SeenImage(pixels, torch.tensor([[1.0, 2.0, 5.0, 6.0]]), torch.tensor([2]))
    snapshot = snapshot_of(StepResult(1, {"total": 1.0}, 0.01, 0.1, {}, image_index=0, trace=trace, seen=seen), MemoryDataset())
    assert snapshot.pixels.shape == (10, 14, 3) and snapshot.gt_boxes.tolist() == [[1, 2, 5, 6]] and snapshot.gt_labels.tolist() == [2]
    entry = Source("memory", MemoryDataset(), annotated=True).entries[0]
    shown = training_image(entry, snapshot.pixels, False, snapshot.gt_boxes, snapshot.gt_labels)
    assert shown.gt_boxes.tolist() == [[1, 2, 5, 6]] and shown.gt_names == ["blue"] and shown.original_size == (10, 14)


def _snapshot(iteration: int, trace=None) -> StepSnapshot:
    return StepSnapshot(StepResult(iteration, {"total": 1.0}, 0.01, 0.1, {}, image_index=0, trace=trace))


def test_buffer_is_bounded_by_count_and_bytes_keeping_the_newest():
    trace, _ = traced_step(flip=False)
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

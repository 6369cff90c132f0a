"""Recorded training steps: what one iteration did, and a bounded ring buffer of them.

A :class:`StepSnapshot` is the CPU copy the training thread sends to the UI after each
step: losses, learning rate, timing, sampling statistics and, for traced steps, the
:class:`~frcnn_core.Trace` of the batch's first image. :class:`SnapshotBuffer` keeps the
newest traced steps for the timeline, bounded by count and by bytes, so memory stays
bounded for a run of any length.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
import torch

from frcnn_core import Trace
from frcnn_core.train import StepResult
from frcnn_core.train.validation import ValidationResult


@dataclass(frozen=True)
class StepSnapshot:
    """One finished iteration, as the UI sees it: the trainer's :class:`StepResult` plus the
    traced image.

    ``flipped`` says whether the step saw the traced image mirrored (training augmentation)
    and ``pixels`` ``[H, W, 3]`` uint8 is that image as the step saw it (decoded in the
    training thread, so the UI never waits on a decoder); ``False``/``None`` without a trace.
    ``gt_boxes`` ``[G, 4]`` float32 and ``gt_labels`` ``[G]`` are the boxes it trained on,
    in ``pixels`` (zoom and flip applied), when the step reported them.
    """

    step: StepResult
    flipped: bool = False
    pixels: np.ndarray | None = None
    gt_boxes: np.ndarray | None = None
    gt_labels: np.ndarray | None = None

    @property
    def iteration(self) -> int:
        return self.step.iteration

    @property
    def losses(self) -> dict[str, float]:
        return self.step.losses

    @property
    def lr(self) -> float:
        return self.step.lr

    @property
    def seconds(self) -> float:
        return self.step.seconds

    @property
    def stats(self) -> dict[str, float]:
        return self.step.stats

    @property
    def trace(self) -> Trace | None:
        return self.step.trace

    @property
    def validation(self) -> ValidationResult | None:
        """The validation run after this step (``None`` when there was none)."""
        return self.step.validation

    @property
    def image_index(self) -> int | None:
        """Dataset index of the traced image (``None`` without a trace)."""
        return self.step.trace_index

    def metrics(self) -> dict:
        """What ``metrics.jsonl`` holds for this step."""
        return self.step.metrics()

    @property
    def nbytes(self) -> int:
        pixels = self.pixels.nbytes if self.pixels is not None else 0
        return pixels + (trace_nbytes(self.trace) if self.trace is not None else 0)


def _uint8(image: torch.Tensor) -> np.ndarray:
    return (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def snapshot_of(result: StepResult, dataset) -> StepSnapshot:
    """The snapshot of a trainer step: a traced one carries the image and boxes the step
    saw (``result.seen``), or else its image read again from ``dataset``, mirrored when
    the step flipped it (as the step reports)."""
    pixels = None
    if result.trace is not None and result.seen is not None:
        seen = result.seen
        return StepSnapshot(result, result.flipped, _uint8(seen.pixels), seen.boxes.numpy().astype(np.float32).reshape(-1, 4),
                            seen.labels.numpy().reshape(-1))
    if result.trace is not None:
        image, _ = dataset[result.trace_index]
        pixels = _uint8(image)
        pixels = np.ascontiguousarray(pixels[:, ::-1] if result.flipped else pixels)
    return StepSnapshot(result, result.flipped and result.trace is not None, pixels)


def trace_nbytes(trace: Trace) -> int:
    """Bytes held by the tensors of a trace (its detections included)."""
    total = 0
    for f in fields(trace):
        value = getattr(trace, f.name)
        if isinstance(value, torch.Tensor):
            total += value.nelement() * value.element_size()
    detections = trace.detections
    for key in detections.keys():
        total += detections[key].nelement() * detections[key].element_size()
    return total


class SnapshotBuffer:
    """The newest traced snapshots, oldest first: at most ``capacity`` of them, holding at most
    ``max_bytes`` of traces and images.

    The newest snapshot is always kept, even when it alone is larger than ``max_bytes``.
    """

    def __init__(self, capacity: int = 200, max_bytes: int = 256 * 2**20) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._items: deque[StepSnapshot] = deque()
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, position: int) -> StepSnapshot:
        return self._items[position]

    def __iter__(self) -> Iterator[StepSnapshot]:
        return iter(self._items)

    def append(self, snapshot: StepSnapshot) -> int:
        """Add the newest snapshot; returns how many old ones were dropped to make room."""
        self._items.append(snapshot)
        self.nbytes += snapshot.nbytes
        dropped = 0
        while len(self._items) > 1 and (len(self._items) > self.capacity or self.nbytes > self.max_bytes):
            self.nbytes -= self._items.popleft().nbytes
            dropped += 1
        return dropped

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0

    def iterations(self) -> list[int]:
        return [s.iteration for s in self._items]

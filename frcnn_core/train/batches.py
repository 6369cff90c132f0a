"""Training batches: seeded, resumable, optionally drawn one step ahead in a thread."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import torch

from ..data.errors import DatasetError
from ..data.transforms import Augmentation
from .sampler import IndexStream

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """One training batch on the CPU: ``images`` ``[3, H, W]`` float tensors in [0, 1]
    (sizes may differ), ``targets`` dicts of ``boxes`` ``[N, 4]`` float xyxy in the
    image's pixels and ``labels`` ``[N]`` (difficult boxes removed), ``indices`` the
    dataset index of each image, ``flipped`` whether it was mirrored left-right."""

    images: list[torch.Tensor]
    targets: list[dict]
    indices: list[int]
    flipped: list[bool]


class BatchSource:
    """Draws batches in the order of an :class:`IndexStream`, each image augmented by
    ``augmentation`` (``flip``: a bool for the plain left-right flip with probability 0.5)
    from its own seeded generator.

    An image that fails to decode (truncated, deleted since the dataset was opened) is
    reported once, skipped for the rest of the run and replaced by the next index.
    ``state_dict()`` is the data order and flip RNG, so a resumed run draws the same batches.
    """

    def __init__(self, dataset, batch_size: int, flip: bool | Augmentation, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.dataset, self.batch_size = dataset, batch_size
        self.augmentation = flip if isinstance(flip, Augmentation) else Augmentation(flip=flip)
        self.stream = IndexStream(len(dataset), seed, rank, world_size)
        self.flip_generator = torch.Generator().manual_seed(seed + 1000 + rank)
        self.unreadable: set[int] = set()

    def _load(self, index: int) -> tuple[int, torch.Tensor, dict]:
        for _ in range(len(self.dataset)):
            if index not in self.unreadable:
                try:
                    return (index, *self.dataset[index])
                except DatasetError as exc:
                    self.unreadable.add(index)
                    log.warning("skipping image %d: %s", index, exc)
            index = self.stream.take(1)[0]
        raise DatasetError("no image of the dataset could be read")

    def next(self) -> Batch:
        batch = Batch([], [], [], [])
        for wanted in self.stream.take(self.batch_size):
            index, image, target = self._load(wanted)
            image, target, flipped = self.augmentation(image, target, self.flip_generator)
            batch.flipped.append(flipped)
            keep = ~target["difficult"] if "difficult" in target else slice(None)
            batch.indices.append(index)
            batch.images.append(image)
            batch.targets.append({"boxes": target["boxes"][keep].float(), "labels": target["labels"][keep]})
        return batch

    def state_dict(self) -> dict:
        return {"stream": self.stream.state_dict(), "flip": self.flip_generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.stream.load_state_dict(state["stream"])
        self.flip_generator.set_state(state["flip"])


class PrefetchingBatchSource:
    """A :class:`BatchSource` that prepares the next batch in a background thread while
    the caller trains on the current one (decoding and augmenting overlap GPU work).

    Batches come out exactly as from the plain source; ``state_dict()`` describes the
    position *before* the batch being prepared, so a checkpoint resumes with that batch.
    """

    def __init__(self, source: BatchSource) -> None:
        self.source = source
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="frcnn-batches")
        self._pending: Future | None = None
        self._state_before_pending: dict | None = None

    def _prepare(self) -> None:
        self._state_before_pending = self.source.state_dict()
        self._pending = self._executor.submit(self.source.next)

    def next(self) -> Batch:
        if self._pending is None:
            self._prepare()
        pending, self._pending = self._pending, None
        batch = pending.result()
        self._prepare()
        return batch

    def state_dict(self) -> dict:
        return self._state_before_pending if self._pending is not None else self.source.state_dict()

    def load_state_dict(self, state: dict) -> None:
        if self._pending is not None:
            self._pending.exception()  # wait: its thread must stop drawing before the state changes
            self._pending = None
        self.source.load_state_dict(state)


def batch_source(dataset, config, device: torch.device, rank: int = 0, world_size: int = 1) -> BatchSource | PrefetchingBatchSource:
    """The batches of a run with :class:`TrainConfig` ``config`` on ``device``: prefetched
    on CUDA when ``config.prefetch`` (on a CPU a loader thread would compete with the math
    for the same cores)."""
    augmentation = Augmentation(config.horizontal_flip, config.color_jitter, config.zoom_range)
    source = BatchSource(dataset, config.batch_size, augmentation, config.seed, rank, world_size)
    return PrefetchingBatchSource(source) if config.prefetch and device.type == "cuda" else source

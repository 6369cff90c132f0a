"""Batched prediction over a dataset, returning CPU detections; sharded under torchrun."""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
import torch.distributed as dist

from .data.errors import DatasetError
from .models.detector import StagedDetector
from .roi.postprocess import Detections
from .train.distributed import ProcessGroup

log = logging.getLogger(__name__)


def no_detections(num_classes: int) -> Detections:
    """The detections of an image that could not be read: none, with every field's shape."""
    return Detections(
        boxes=torch.zeros(0, 4), scores=torch.zeros(0), labels=torch.zeros(0, dtype=torch.int64),
        class_scores=torch.zeros(0, num_classes + 1), proposal_index=torch.zeros(0, dtype=torch.int64), deltas=torch.zeros(0, 4),
    )


def _batches(num_images: int, batch_size: int, group: ProcessGroup) -> list[range]:
    """This process's batches: every ``world_size``-th batch of the single-process order, so each
    batch holds the same images (padded together the same way) whatever the number of processes."""
    every = [range(start, min(start + batch_size, num_images)) for start in range(0, num_images, batch_size)]
    return every[group.rank :: group.world_size]


def _load(dataset, index: int, device) -> torch.Tensor | None:
    try:
        return dataset[index][0].to(device)
    except DatasetError as exc:  # e.g. a file deleted or cut short since the set was opened
        log.warning("image %d gets no detections: %s", index, exc)
        return None


@torch.no_grad()
def predict_dataset(
    model: StagedDetector,
    dataset,
    batch_size: int = 1,
    device: torch.device | str = "cpu",
    progress: Callable[[int, int], None] | None = None,
    process_group: ProcessGroup | None = None,
) -> list[Detections]:
    """Detections (original pixels, on the CPU) for every image of ``dataset`` in order.

    ``progress(done, total)`` is called after each batch, counting this process's images.
    An image that cannot be read gets no detections (a warning is logged, and the dataset
    reports it in its ``problems``). Under ``torchrun`` (``process_group`` with several
    processes, ``torch.distributed`` initialised) each process predicts every
    ``world_size``-th batch and every process returns the whole list, the same as one
    process would. The model's mode is restored.
    """
    group = process_group or ProcessGroup()
    batches = _batches(len(dataset), batch_size, group)
    total = sum(len(b) for b in batches)
    was_training = model.training
    model.eval()
    mine: list[list[Detections]] = []
    done = 0
    try:
        for indices in batches:
            images = [_load(dataset, i, device) for i in indices]
            readable = [image for image in images if image is not None]
            found = iter([d.map(lambda t: t.cpu()) for d in model(readable)] if readable else [])
            mine.append([next(found) if image is not None else no_detections(model.config.num_classes) for image in images])
            done += len(indices)
            if progress is not None:
                progress(done, total)
    finally:
        model.train(was_training)
    return [d for batch in gather_shards(mine, group) for d in batch]


def gather_shards(mine: list, group: ProcessGroup) -> list:
    """Every process's ``mine`` (items ``rank, rank + world_size, …`` of one list, in order,
    as :func:`predict_dataset` shares its batches) merged back into that list, on every
    process; ``mine`` itself without several processes. The items travel pickled."""
    if not group.distributed:
        return list(mine)
    shards: list = [None] * group.world_size
    dist.all_gather_object(shards, mine)
    ordered = [None] * sum(len(s) for s in shards)
    for rank, shard in enumerate(shards):
        ordered[rank :: group.world_size] = shard
    return ordered

"""Batched prediction over a dataset, returning CPU detections."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .model import FasterRCNN
from .postprocess import Detections


@torch.no_grad()
def predict_dataset(
    model: FasterRCNN,
    dataset,
    batch_size: int = 1,
    device: torch.device | str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> list[Detections]:
    """Detections (original pixels, on the CPU) for every image of ``dataset`` in order.

    ``progress(done, total)`` is called after each batch. The model's mode is restored.
    """
    was_training = model.training
    model.eval()
    results: list[Detections] = []
    try:
        for start in range(0, len(dataset), batch_size):
            indices = range(start, min(start + batch_size, len(dataset)))
            images = [dataset[i][0].to(device) for i in indices]
            results += [d.map(lambda t: t.cpu()) for d in model(images)]
            if progress is not None:
                progress(len(results), len(dataset))
    finally:
        model.train(was_training)
    return results

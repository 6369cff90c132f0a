"""A dataset in memory with the interface of ``frcnn_core.data`` datasets, for Qt-free tests."""

from __future__ import annotations

import torch

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.data.transforms import horizontal_flip
from frcnn_viewer.state.sources import Source

from .conftest import BOXES, CLASSES, LABELS, draw_image


class MemoryDataset:
    """``n`` copies of the conftest image with its two boxes; index ``broken`` fails to decode."""

    class_names = CLASSES
    category_ids = (7, 9)
    problems: list[str] = []

    def __init__(self, n: int = 2, broken: int | None = None) -> None:
        self.n, self.broken = n, broken

    def __len__(self) -> int:
        return self.n

    def _target(self) -> dict:
        return {"boxes": torch.tensor(BOXES), "labels": torch.tensor(LABELS), "difficult": torch.zeros(len(BOXES), dtype=torch.bool)}

    def info(self, i: int) -> dict:
        return {"path": None, "size": (120, 160), "image_id": 100 + i, "target": self._target()}

    def __getitem__(self, i: int):
        if i == self.broken:
            raise OSError("image file is truncated")
        return torch.from_numpy(draw_image(seed=i)).permute(2, 0, 1).float() / 255, self._target()


def memory_source(n: int = 2, broken: int | None = None) -> Source:
    return Source("memory", MemoryDataset(n, broken), annotated=True)


TRAINING_TIMEOUT_MS = 60_000  # how long a training test waits for the worker


def curve_points(curve) -> int:
    """Points drawn by a pyqtgraph curve."""
    x, _ = curve.getData()
    return 0 if x is None else len(x)


def traced_step(flip: bool):
    """``(trace, target)``: a training-mode trace of :class:`MemoryDataset`'s first image
    (mirrored when ``flip``) and the dataset's own, unmirrored target."""
    image, target = MemoryDataset()[0]
    if flip:
        image, target = horizontal_flip(image, target)
    torch.manual_seed(0)
    model = FasterRCNN(cpu_config(2, ("red", "blue"), min_size=64, max_size=96)).train()
    return model.trace(image, {"boxes": target["boxes"], "labels": target["labels"]}), MemoryDataset().info(0)["target"]

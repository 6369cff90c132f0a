"""Training-time augmentation; boxes follow the pixels."""

from __future__ import annotations

import torch
from torch import Tensor


def horizontal_flip(image: Tensor, target: dict) -> tuple[Tensor, dict]:
    """Mirror ``image`` ``[3, H, W]`` left-right, and its ``target["boxes"]`` ``[G, 4]`` xyxy.

    In continuous pixels a column ``x`` maps to ``W - x``, so ``x1' = W - x2`` and
    ``x2' = W - x1``. Returns a new image and a shallow copy of ``target`` with new boxes;
    the other keys are shared.
    """
    width = image.shape[-1]
    boxes = target["boxes"]
    flipped = dict(target)
    flipped["boxes"] = torch.stack((width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]), dim=1)
    return image.flip(-1), flipped


class RandomHorizontalFlip:
    """:func:`horizontal_flip` with probability ``p``, drawn from ``generator`` (seed it for
    reproducible training; ``None`` uses torch's global generator)."""

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        self.p = p
        self.generator = generator

    def __call__(self, image: Tensor, target: dict) -> tuple[Tensor, dict]:
        if torch.rand((), generator=self.generator).item() < self.p:
            return horizontal_flip(image, target)
        return image, target

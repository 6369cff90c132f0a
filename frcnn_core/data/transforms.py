"""Training-time augmentation; boxes follow the pixels."""

from __future__ import annotations

import torch
from torch import Tensor


def horizontal_flip(image: Tensor, target: dict) -> tuple[Tensor, dict]:
    """Mirror ``image`` ``[3, H, W]`` left-right; boxes map ``x1' = W - x2``, ``x2' = W - x1``."""
    width = image.shape[-1]
    flipped = dict(target)
    boxes = target["boxes"]
    flipped["boxes"] = torch.stack((width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]), dim=1) if boxes.numel() else boxes.clone()
    return image.flip(-1), flipped


class RandomHorizontalFlip:
    """Flip with probability ``p`` using its own seeded generator."""

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        self.p = p
        self.generator = generator

    def __call__(self, image: Tensor, target: dict) -> tuple[Tensor, dict]:
        if torch.rand((), generator=self.generator) < self.p:
            return horizontal_flip(image, target)
        return image, target

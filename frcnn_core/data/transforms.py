"""Training-time augmentation; boxes follow the pixels."""

from __future__ import annotations

import math
from dataclasses import dataclass

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


PER_BOX_KEYS = ("labels", "difficult", "iscrowd", "area")  # target entries with one row per box


def _keep_boxes(target: dict, keep: Tensor, boxes: Tensor) -> dict:
    """``target`` with ``boxes`` and only the ``keep`` rows of its :data:`PER_BOX_KEYS`."""
    kept = {k: v[keep] if k in PER_BOX_KEYS else v for k, v in target.items()}
    kept["boxes"] = boxes
    return kept


def zoom(image: Tensor, target: dict, factor: float, position: tuple[float, float]) -> tuple[Tensor, dict]:
    """Magnify ``image`` ``[3, H, W]`` by ``factor`` at the same output framing, boxes following.

    ``factor > 1`` crops a window of ``round(H / factor) x round(W / factor)`` pixels; boxes
    (``[G, 4]`` xyxy) are shifted into it and clipped, and a box whose centre falls outside
    the window is dropped with its label (SSD's rule). ``factor < 1`` places the image on a
    canvas ``1 / factor`` as large filled with the image's mean colour; no box is dropped.
    ``position`` ``(u, v)`` in ``[0, 1]`` puts the window (the image on the canvas) from the
    left/top (0) to the right/bottom (1). Whole pixels, so a box covers exactly the pixels
    it covered. The network resizes the result to its input size, so objects come out
    larger (``> 1``) or smaller (``< 1``)."""
    height, width = image.shape[-2:]
    rows, cols = max(1, round(height / factor)), max(1, round(width / factor))
    if (rows, cols) == (height, width):
        return image, target
    boxes = target["boxes"]
    if factor > 1:
        top, left = round(position[1] * (height - rows)), round(position[0] * (width - cols))
        moved = boxes - boxes.new_tensor([left, top, left, top])
        centre_x, centre_y = (moved[:, 0] + moved[:, 2]) / 2, (moved[:, 1] + moved[:, 3]) / 2
        clipped = torch.stack((moved[:, 0].clamp(0, cols), moved[:, 1].clamp(0, rows), moved[:, 2].clamp(0, cols), moved[:, 3].clamp(0, rows)), dim=1)
        keep = (centre_x > 0) & (centre_x < cols) & (centre_y > 0) & (centre_y < rows)
        keep &= (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
        return image[:, top : top + rows, left : left + cols], _keep_boxes(target, keep, clipped[keep])
    top, left = round(position[1] * (rows - height)), round(position[0] * (cols - width))
    canvas = image.mean(dim=(1, 2), keepdim=True).expand(-1, rows, cols).clone()
    canvas[:, top : top + height, left : left + width] = image
    moved = dict(target)
    moved["boxes"] = boxes + boxes.new_tensor([left, top, left, top])
    return canvas, moved


def photometric(image: Tensor, brightness: float, contrast: float, saturation: float) -> Tensor:
    """``image`` ``[3, H, W]`` in 0..1 with its brightness, contrast (about the mean grey)
    and saturation scaled by the three factors (1: unchanged), torchvision's
    ``adjust_brightness``/``adjust_contrast``/``adjust_saturation`` in that order."""
    from torchvision.transforms.v2 import functional

    image = functional.adjust_brightness(image, brightness)
    image = functional.adjust_contrast(image, contrast)
    return functional.adjust_saturation(image, saturation)


@dataclass(frozen=True)
class Augmentation:
    """What training does to each image, drawn per image from a seeded generator.

    ``flip``: mirror left-right with probability 0.5. ``color_jitter`` ``s``: brightness,
    contrast and saturation each scaled by a factor drawn uniformly from ``[1 - s, 1 + s]``
    (0: off). ``zoom_range`` ``(lo, hi)``: a :func:`zoom` factor drawn log-uniformly from it
    at a uniform position (``(1, 1)``: off)."""

    flip: bool = True
    color_jitter: float = 0.0
    zoom_range: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self) -> None:
        low, high = self.zoom_range
        if not 0 < low <= high:
            raise ValueError(f"zoom_range must be two factors 0 < lo <= hi, got {self.zoom_range}")
        if not 0 <= self.color_jitter < 1:
            raise ValueError(f"color_jitter must be in [0, 1), got {self.color_jitter}")

    def __call__(self, image: Tensor, target: dict, generator: torch.Generator) -> tuple[Tensor, dict, bool]:
        """The augmented image and target, and whether it was flipped. Draws one number for
        the flip, then, when zoom or colour are on, six more whatever the image (so the
        sequence is the plain flip's when they are off)."""
        flipped = bool(self.flip and torch.rand((), generator=generator) < 0.5)
        if flipped:
            image, target = horizontal_flip(image, target)
        low, high = self.zoom_range
        if high == low and self.color_jitter == 0:
            return image, target, flipped
        scale, u, v, *colour = torch.rand(6, generator=generator, dtype=torch.float64).tolist()
        if high > low:
            image, target = zoom(image, target, math.exp(math.log(low) + scale * (math.log(high) - math.log(low))), (u, v))
        if self.color_jitter > 0:
            image = photometric(image, *(1 - self.color_jitter + 2 * self.color_jitter * d for d in colour))
        return image, target, flipped

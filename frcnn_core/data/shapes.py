"""A generated set of flat shapes, learnable from scratch on a CPU in minutes.

Four classes told apart by SHAPE only (every class takes any colour): ``circle``,
``square``, ``triangle`` (upright, as wide as tall) and ``cross`` (a plus sign with
arms a third of its size thick). Each 256x256 image (by default) holds 1 to 6 of them,
20 px to half the shorter side across, fully inside the image, possibly overlapping
but never hiding more than 30% of an earlier shape or any of its extremes
(:func:`.synthetic.place_objects`). Backgrounds are a colour gradient, soft stripes
or low-frequency blotches, plus pixel noise; shape colours keep a distance from the
background's colours and from the shapes they touch. Boxes are the exact extents of
the drawn pixels. See :mod:`.synthetic` for determinism and splits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .synthetic import Placed, Scene, SyntheticDataset, distinct_colour, pixel_centres, place_objects

SHAPE_CLASSES = ("circle", "square", "triangle", "cross")
MIN_OBJECT_SIZE = 20.0
MAX_OBJECTS = 6
# Least RGB distance of a shape's colour from the background's and its neighbours'.
COLOUR_MARGIN = 100.0


@dataclass(frozen=True)
class Shape:
    """One shape: ``label`` in 1..4, centre and size in pixels, fill colour and shading."""

    label: int
    cx: float
    cy: float
    size: float
    colour: tuple[float, float, float]
    shade_angle: float
    shade_amount: float


@dataclass(frozen=True)
class Background:
    """``kind`` is ``"gradient"``, ``"stripes"`` or ``"blotches"``; ``colours`` two RGB triples."""

    kind: str
    colours: tuple[tuple[float, ...], tuple[float, ...]]
    angle: float
    period: float
    noise_sigma: float

    def key_colours(self) -> list[np.ndarray]:
        first, second = (np.asarray(c) for c in self.colours)
        return [first, second, (first + second) / 2]


def shape_mask(label: int, cx: float, cy: float, size: float, image_size: tuple[int, int]) -> np.ndarray:
    """``[H, W]`` bool mask of a shape of class ``label`` (1..4) centred at ``(cx, cy)``."""
    xs, ys = pixel_centres(image_size)
    dx, dy, half = np.abs(xs - cx), np.abs(ys - cy), size / 2
    name = SHAPE_CLASSES[label - 1]
    if name == "circle":
        return (xs - cx) ** 2 + (ys - cy) ** 2 <= half**2
    if name == "square":
        return (dx <= half) & (dy <= half)
    if name == "triangle":
        top = cy - half
        return (ys >= top) & (ys <= cy + half) & (dx <= (ys - top) / 2)
    arm = size / 6
    return ((dx <= half) & (dy <= arm)) | ((dy <= half) & (dx <= arm))


def _direction(angle: float, image_size: tuple[int, int]) -> np.ndarray:
    """``[H, W]`` coordinate along ``angle`` in pixels."""
    xs, ys = pixel_centres(image_size)
    return xs * math.cos(angle) + ys * math.sin(angle)


class ShapesDataset(SyntheticDataset):
    """Deterministic generated shapes (see the module docstring).

    Args:
        num_images: default 1000 for ``"train"``, 200 for ``"val"``.
        image_size: ``(H, W)``, both at least 64.
        seed: non-negative; with ``split`` it fixes every image.
        split: ``"train"`` or ``"val"`` (disjoint streams).
    """

    CLASS_NAMES = SHAPE_CLASSES

    def __init__(self, num_images: int | None = None, image_size: tuple[int, int] = (256, 256), seed: int = 0, split: str = "train") -> None:
        super().__init__(num_images, image_size, seed, split)

    def _background(self, rng: np.random.Generator) -> Background:
        kind = ("gradient", "stripes", "blotches")[rng.integers(3)]
        first = rng.uniform(0, 255, size=3)
        if kind == "gradient":
            second = rng.uniform(0, 255, size=3)
        else:
            second = np.clip(first + rng.uniform(-45, 45, size=3), 0, 255)
        return Background(kind, (tuple(first), tuple(second)), float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(8, 40)), float(rng.uniform(2, 10)))

    def _propose(self, rng: np.random.Generator) -> tuple[tuple, np.ndarray]:
        height, width = self.image_size
        label = int(rng.integers(1, len(SHAPE_CLASSES) + 1))
        size = math.exp(rng.uniform(math.log(MIN_OBJECT_SIZE), math.log(min(height, width) / 2)))
        cx = rng.uniform(size / 2, width - size / 2)
        cy = rng.uniform(size / 2, height - size / 2)
        return (label, cx, cy, size), shape_mask(label, cx, cy, size, self.image_size)

    def layout(self, index: int, rng: np.random.Generator) -> Scene:
        background = self._background(rng)
        placed = place_objects(rng, int(rng.integers(1, MAX_OBJECTS + 1)), self._propose)
        shapes = []
        for k, p in enumerate(placed):
            near = [np.asarray(shapes[j].colour) for j in range(k) if _touch(placed[j], p)]
            colour = distinct_colour(rng, background.key_colours() + near, COLOUR_MARGIN)
            shapes.append(Shape(*p.obj, tuple(colour), float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(0, 25))))
        return Scene(self.make_record(index, placed, [s.label for s in shapes]), background, tuple(shapes))

    def _render_background(self, background: Background, rng: np.random.Generator) -> np.ndarray:
        height, width = self.image_size
        first, second = (np.asarray(c)[None, None, :] for c in background.colours)
        along = _direction(background.angle, self.image_size)
        if background.kind == "gradient":
            t = (along - along.min()) / max(float(np.ptp(along)), 1e-6)
        elif background.kind == "stripes":
            t = 0.5 + 0.5 * np.sin(2 * math.pi * along / background.period)
        else:
            grid = rng.integers(0, 256, size=(int(rng.integers(3, 9)), int(rng.integers(3, 9))), dtype=np.uint8)
            t = np.asarray(Image.fromarray(grid).resize((width, height), Image.BICUBIC), np.float64) / 255
        return first + (second - first) * t[:, :, None]

    def render(self, scene: Scene, rng: np.random.Generator) -> np.ndarray:
        image = self._render_background(scene.background, rng)
        for shape in scene.objects:
            mask = shape_mask(shape.label, shape.cx, shape.cy, shape.size, self.image_size)
            ramp = (_direction(shape.shade_angle, self.image_size) - _direction(shape.shade_angle, (1, 1))[0, 0]) / max(shape.size, 1.0)
            shade = np.asarray(shape.colour)[None, None, :] + shape.shade_amount * np.clip(ramp - ramp[mask].mean(), -1, 1)[:, :, None]
            image[mask] = shade[mask]
        image += rng.normal(0.0, scene.background.noise_sigma, size=image.shape)
        return np.clip(np.round(image), 0, 255).astype(np.uint8)


def _touch(a: Placed, b: Placed, gap: float = 2.0) -> bool:
    """Whether the boxes of ``a`` and ``b`` overlap or come within ``gap`` pixels."""
    return a.box[0] - gap < b.box[2] and b.box[0] - gap < a.box[2] and a.box[1] - gap < b.box[3] and b.box[1] - gap < a.box[3]

"""What the generated sets (:mod:`.shapes`, :mod:`.composite`) share.

- Seeded streams: image ``i`` of a split is drawn from its own
  ``numpy.random.SeedSequence((seed, split, i, stream))``, so any item can be made
  alone, in any order, and is identical every time; train and val use different
  streams and never share an image. Stream 0 draws the layout (what :meth:`info`
  needs: boxes and labels), stream 1 the pixel noise.
- Masks on the pixel grid: a pixel belongs to a shape when its centre
  ``(x + 0.5, y + 0.5)`` is inside, and a box is the exact extent of its mask, so
  boxes are tight by construction.
- Placement that keeps objects identifiable: an object goes on top of the earlier
  ones only if each of them keeps most of its area visible and its visible pixels
  still span its whole box.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import DatasetError
from .sample import DetectionDataset, Record

SPLITS = {"train": 0, "val": 1}
DEFAULT_NUM_IMAGES = {"train": 1000, "val": 200}
LAYOUT_STREAM, PIXEL_STREAM = 0, 1

# Placement: tries per object before it is left out, and the share of an earlier
# object's area that must stay visible.
PLACEMENT_ATTEMPTS = 30
MIN_VISIBLE = 0.7


def item_rng(seed: int, split: str, index: int, stream: int) -> np.random.Generator:
    """The generator for one stream of one item of one split."""
    return np.random.default_rng(np.random.SeedSequence((seed, SPLITS[split], index, stream)))


def pixel_centres(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)``: ``[1, W]`` and ``[H, 1]`` float grids of pixel-centre coordinates."""
    height, width = size
    return np.arange(width, dtype=np.float64)[None, :] + 0.5, np.arange(height, dtype=np.float64)[:, None] + 0.5


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    """Tight ``(x1, y1, x2, y2)`` continuous box of a non-empty ``[H, W]`` bool mask."""
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)


@dataclass
class Placed:
    """An accepted object: its description, full mask, tight box and what is still visible."""

    obj: object
    mask: np.ndarray
    box: tuple[float, float, float, float]
    visible: np.ndarray


def _identifiable(visible: np.ndarray, placed: Placed) -> bool:
    return visible.sum() >= MIN_VISIBLE * placed.mask.sum() and visible.any() and mask_box(visible) == placed.box


def place_objects(rng: np.random.Generator, count: int, propose: Callable[[np.random.Generator], tuple[object, np.ndarray]]) -> list[Placed]:
    """Up to ``count`` objects from ``propose(rng) -> (obj, mask)``, later ones on top.

    A proposal is rejected when it would hide too much of an earlier object (see the
    module docstring); after :data:`PLACEMENT_ATTEMPTS` rejections that object is
    left out, so an image may hold fewer than ``count``.
    """
    placed: list[Placed] = []
    for _ in range(count):
        for _ in range(PLACEMENT_ATTEMPTS):
            obj, mask = propose(rng)
            if not mask.any():
                continue
            visible = [p.visible & ~mask for p in placed]
            if all(_identifiable(v, p) for v, p in zip(visible, placed)):
                for p, v in zip(placed, visible):
                    p.visible = v
                placed.append(Placed(obj, mask, mask_box(mask), mask.copy()))
                break
    return placed


def distinct_colour(rng: np.random.Generator, avoid: list[np.ndarray], min_distance: float, attempts: int = 50) -> np.ndarray:
    """A random RGB colour (float, 0..255) at least ``min_distance`` from every colour in
    ``avoid`` (Euclidean), or the farthest of ``attempts`` draws."""
    best, best_distance = None, -1.0
    for _ in range(attempts):
        colour = rng.uniform(0, 255, size=3)
        distance = min((float(np.linalg.norm(colour - a)) for a in avoid), default=np.inf)
        if distance >= min_distance:
            return colour
        if distance > best_distance:
            best, best_distance = colour, distance
    return best


def check_generator_args(num_images: int, image_size: tuple[int, int], seed: int, split: str, min_side: int) -> None:
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r} for a generated set; use one of {', '.join(SPLITS)}")
    if num_images < 0:
        raise DatasetError(f"num_images must be >= 0, got {num_images}")
    if seed < 0:
        raise DatasetError(f"seed must be >= 0, got {seed}")
    if len(image_size) != 2 or min(image_size) < min_side:
        raise DatasetError(f"image_size must be (H, W) with both sides >= {min_side}, got {image_size}")


@dataclass(frozen=True)
class Scene:
    """One generated image before rendering: its record and what to draw."""

    record: Record
    background: object
    objects: tuple


class SyntheticDataset(DetectionDataset):
    """Base of the generated sets: scenes made lazily per index and cached.

    Subclasses set ``CLASS_NAMES`` and ``MIN_SIDE`` and implement :meth:`layout`
    (from the layout stream) and :meth:`render` (a scene plus the pixel stream).
    """

    CLASS_NAMES: tuple[str, ...] = ()
    MIN_SIDE = 64

    def __init__(self, num_images: int | None, image_size: tuple[int, int], seed: int, split: str) -> None:
        num_images = DEFAULT_NUM_IMAGES.get(split, 0) if num_images is None else int(num_images)
        image_size = tuple(int(v) for v in image_size)
        check_generator_args(num_images, image_size, seed, split, self.MIN_SIDE)
        self.num_images, self.image_size, self.seed, self.split = num_images, image_size, int(seed), split
        self.class_names = self.CLASS_NAMES
        self.category_ids = tuple(range(1, len(self.CLASS_NAMES) + 1))
        self.problems = []
        self._scenes: dict[int, Scene] = {}

    def __len__(self) -> int:
        return self.num_images

    def layout(self, index: int, rng: np.random.Generator) -> Scene:
        raise NotImplementedError

    def render(self, scene: Scene, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def scene(self, index: int) -> Scene:
        """The (cached) scene of image ``index``."""
        if index not in self._scenes:
            self._scenes[index] = self.layout(index, item_rng(self.seed, self.split, index, LAYOUT_STREAM))
        return self._scenes[index]

    def record(self, index: int) -> Record:
        return self.scene(index).record

    def pixels(self, index: int, record: Record) -> np.ndarray:
        return self.render(self.scene(index), item_rng(self.seed, self.split, index, PIXEL_STREAM))

    def make_record(self, index: int, placed: list[Placed], labels: list[int]) -> Record:
        """The record of a generated image: tight boxes of ``placed`` with ``labels``."""
        return Record(
            path="",
            size=self.image_size,
            image_id=index,
            boxes=np.array([p.box for p in placed], np.float32).reshape(-1, 4),
            labels=np.array(labels, np.int64),
            difficult=np.zeros(len(placed), bool),
        )

"""A second generated set, not drawn by the shapes generator: photo crops pasted on photos.

For benchmarking generalisation. Objects are crops of five kinds cut from the bundled
photographs (``resources/photos``, public domain / CC0, see its ``LICENSE.md``):

======= ===================== ===================== =======
class   photo                 crop                  outline
======= ===================== ===================== =======
cat     chelsea.jpg           the cat's face        ellipse
cup     coffee.jpg            the espresso cup      rectangle
rocket  rocket.jpg            the Falcon 9 rocket   rectangle
face    astronaut.jpg         the astronaut's face  ellipse
patch   astronaut.jpg         the mission patch     ellipse
======= ===================== ===================== =======

Each image (256x256 by default) is a random region of one of the other photos
(camera, Hubble deep field, brick, grass, gravel), flipped and colour-tinted at
random, with 1 to 5 crops (``max_objects``) pasted at random positions, scales (square
root of the area from 24 px to 45% of the shorter side, the longer side at most 90% of it), slight
aspect changes, flips and brightness, overlapping as :func:`.synthetic.place_objects`
allows. A crop is pasted through its outline (an ellipse inscribed in the pasted
rectangle, or the rectangle), and its box is the exact extent of that outline.
Deterministic from ``seed`` and ``split`` (see :mod:`.synthetic`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import DatasetError
from .synthetic import Scene, SyntheticDataset, pixel_centres, place_objects

PHOTO_DIR = Path(__file__).resolve().parents[2] / "resources" / "photos"


@dataclass(frozen=True)
class CropKind:
    """A class of pasted object: a rectangle of a photo and the outline it is pasted through."""

    name: str
    photo: str
    rect: tuple[int, int, int, int]
    outline: str  # "ellipse" or "rectangle"

    @property
    def aspect(self) -> float:
        """Width over height."""
        return (self.rect[2] - self.rect[0]) / (self.rect[3] - self.rect[1])


CROP_KINDS = (
    CropKind("cat", "chelsea.jpg", (95, 35, 385, 290), "ellipse"),
    CropKind("cup", "coffee.jpg", (145, 10, 360, 252), "rectangle"),
    CropKind("rocket", "rocket.jpg", (236, 95, 278, 330), "rectangle"),
    CropKind("face", "astronaut.jpg", (178, 12, 305, 178), "ellipse"),
    CropKind("patch", "astronaut.jpg", (132, 348, 213, 430), "ellipse"),
)
BACKGROUND_PHOTOS = ("camera.jpg", "hubble_deep_field.jpg", "brick.jpg", "grass.jpg", "gravel.jpg")
MIN_OBJECT_SIZE = 24.0
MAX_OBJECTS = 5


@dataclass(frozen=True)
class Paste:
    """One pasted crop: ``label`` in 1..5, its rectangle in the image, flip and brightness gain."""

    label: int
    x: int
    y: int
    width: int
    height: int
    flip: bool
    gain: float


@dataclass(frozen=True)
class PhotoRegion:
    """The background: a ``rect`` of ``photo`` resized to the image, flipped, tinted per channel."""

    photo: str
    rect: tuple[int, int, int, int]
    flip: bool
    tint: tuple[float, float, float]
    noise_sigma: float


def _photo_size(path: Path) -> tuple[int, int]:
    """``(W, H)`` from the header."""
    with Image.open(path) as im:
        return im.size


def outline_mask(kind: CropKind, x: int, y: int, width: int, height: int, image_size: tuple[int, int]) -> np.ndarray:
    """``[H, W]`` bool mask of a crop's outline pasted at ``(x, y)`` with the given extent."""
    xs, ys = pixel_centres(image_size)
    if kind.outline == "rectangle":
        return (xs >= x) & (xs < x + width) & (ys >= y) & (ys < y + height)
    cx, cy = x + width / 2, y + height / 2
    return ((xs - cx) / (width / 2)) ** 2 + ((ys - cy) / (height / 2)) ** 2 <= 1.0


class CompositeDataset(SyntheticDataset):
    """Deterministic photo composites (see the module docstring).

    Args:
        num_images: default 1000 for ``"train"``, 200 for ``"val"``.
        image_size: ``(H, W)``, both at least 96.
        seed: non-negative; with ``split`` it fixes every image.
        split: ``"train"`` or ``"val"`` (disjoint streams).
        photo_dir: folder holding the photos; default the repository's ``resources/photos``.
        max_objects: each image gets 1 to this many crops.
    """

    CLASS_NAMES = tuple(kind.name for kind in CROP_KINDS)
    MIN_SIDE = 96

    def __init__(
        self,
        num_images: int | None = None,
        image_size: tuple[int, int] = (256, 256),
        seed: int = 0,
        split: str = "train",
        photo_dir: str | os.PathLike | None = None,
        max_objects: int = MAX_OBJECTS,
    ) -> None:
        super().__init__(num_images, image_size, seed, split)
        if int(max_objects) < 1:
            raise ValueError(f"max_objects must be >= 1, got {max_objects}")
        self.max_objects = int(max_objects)
        self.photo_dir = Path(photo_dir) if photo_dir is not None else PHOTO_DIR
        needed = sorted({kind.photo for kind in CROP_KINDS} | set(BACKGROUND_PHOTOS))
        missing = [name for name in needed if not (self.photo_dir / name).is_file()]
        if missing:
            raise DatasetError(f"{self.photo_dir}: the composite set needs the bundled photos; missing {', '.join(missing)}")
        self._photo_sizes = {name: _photo_size(self.photo_dir / name) for name in needed}
        self._photos: dict[str, Image.Image] = {}

    def _photo(self, name: str) -> Image.Image:
        if name not in self._photos:
            with Image.open(self.photo_dir / name) as im:
                self._photos[name] = im.convert("RGB")
        return self._photos[name]

    def _background(self, rng: np.random.Generator) -> PhotoRegion:
        name = BACKGROUND_PHOTOS[rng.integers(len(BACKGROUND_PHOTOS))]
        photo_w, photo_h = self._photo_sizes[name]
        height, width = self.image_size
        scale = rng.uniform(0.4, 1.0) * min(photo_w / width, photo_h / height)
        crop_w, crop_h = max(1, round(width * scale)), max(1, round(height * scale))
        x, y = int(rng.integers(0, photo_w - crop_w + 1)), int(rng.integers(0, photo_h - crop_h + 1))
        tint = tuple(float(v) for v in rng.uniform(0.75, 1.25, size=3))
        return PhotoRegion(name, (x, y, x + crop_w, y + crop_h), bool(rng.integers(2)), tint, float(rng.uniform(1, 4)))

    def _propose(self, rng: np.random.Generator) -> tuple[Paste, np.ndarray]:
        height, width = self.image_size
        label = int(rng.integers(1, len(CROP_KINDS) + 1))
        kind = CROP_KINDS[label - 1]
        side = math.exp(rng.uniform(math.log(MIN_OBJECT_SIZE), math.log(0.45 * min(height, width))))
        aspect = kind.aspect * math.exp(rng.uniform(-0.1, 0.1))
        w, h = side * math.sqrt(aspect), side / math.sqrt(aspect)
        shrink = min(1.0, 0.9 * min(height, width) / max(w, h))
        w, h = max(4, round(w * shrink)), max(4, round(h * shrink))
        x, y = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
        paste = Paste(label, x, y, w, h, bool(rng.integers(2)), float(rng.uniform(0.8, 1.2)))
        return paste, outline_mask(kind, x, y, w, h, self.image_size)

    def layout(self, index: int, rng: np.random.Generator) -> Scene:
        background = self._background(rng)
        placed = place_objects(rng, int(rng.integers(1, self.max_objects + 1)), self._propose)
        pastes = tuple(p.obj for p in placed)
        return Scene(self.make_record(index, placed, [p.label for p in pastes]), background, pastes)

    def render(self, scene: Scene, rng: np.random.Generator) -> np.ndarray:
        height, width = self.image_size
        region: PhotoRegion = scene.background
        backdrop = self._photo(region.photo).crop(region.rect).resize((width, height), Image.BICUBIC)
        if region.flip:
            backdrop = backdrop.transpose(Image.FLIP_LEFT_RIGHT)
        image = np.asarray(backdrop, np.float64) * np.asarray(region.tint)[None, None, :]
        for paste in scene.objects:
            kind = CROP_KINDS[paste.label - 1]
            crop = self._photo(kind.photo).crop(kind.rect).resize((paste.width, paste.height), Image.BICUBIC)
            if paste.flip:
                crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
            mask = outline_mask(kind, paste.x, paste.y, paste.width, paste.height, self.image_size)
            canvas = np.zeros_like(image)
            canvas[paste.y : paste.y + paste.height, paste.x : paste.x + paste.width] = np.asarray(crop, np.float64) * paste.gain
            image[mask] = canvas[mask]
        image += rng.normal(0.0, region.noise_sigma, size=image.shape)
        return np.clip(np.round(image), 0, 255).astype(np.uint8)

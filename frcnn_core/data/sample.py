"""The contract every dataset follows, and a base class that implements it.

A dataset ``ds`` of ``N`` images offers:

- ``len(ds)`` and ``ds[i] -> (image, target)``: ``image`` is a float32 tensor
  ``[3, H, W]`` in 0..1 (RGB) at the ORIGINAL size (the detector resizes);
  ``target`` is a dict:

  ========== ================ =====================================================
  key        type             meaning
  ========== ================ =====================================================
  boxes      Float[G, 4]      ``(x1, y1, x2, y2)`` continuous pixels of the original
                              image (pixel ``i`` covers ``[i, i + 1)``)
  labels     Long[G]          1..C (0 is background); ``class_names[k - 1]`` names k
  difficult  Bool[G]          ignored by training and by evaluation (VOC
                              ``difficult``, COCO ``iscrowd``)
  image_id   int              the source's own id where it has one
  path       str              the image file, ``""`` for generated images
  size       (H, W)           ints
  ========== ================ =====================================================

- ``ds.info(i)``: ``{"path", "size", "image_id", "target"}`` without decoding pixels
  (the viewer lists thousands of images).
- ``ds.class_names: tuple[str, ...]``, ``ds.category_ids: tuple[int, ...]`` (the
  source's own id of each label, e.g. COCO category ids; ``1..C`` otherwise),
  ``ds.image_ids: list[int]`` and ``ds.problems: list[str]``: one human-readable
  message per bad record that was skipped or fixed, naming the file and the record.

Loaders validate at index time: a record whose image is missing, unreadable or
truncated is skipped and reported in ``problems`` (see :mod:`.images` for the check),
so one bad file never sinks a whole set. Pixels that still fail to decode later raise
:class:`DatasetError` naming the file, for that item only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .errors import DatasetError
from .images import read_rgb


@dataclass(frozen=True)
class Record:
    """Everything about one image except its pixels.

    Attributes:
        path: image file, ``""`` for generated images.
        size: ``(H, W)`` of the original image.
        image_id: the source's own id.
        boxes: ``[G, 4]`` float32 xyxy, continuous pixels, inside the image.
        labels: ``[G]`` int64 in 1..C.
        difficult: ``[G]`` bool.
    """

    path: str
    size: tuple[int, int]
    image_id: int
    boxes: np.ndarray
    labels: np.ndarray
    difficult: np.ndarray

    @classmethod
    def unlabelled(cls, path: str, size: tuple[int, int], image_id: int) -> Record:
        return cls(path, size, image_id, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, bool))

    def target(self) -> dict:
        """A fresh target dict (new tensors, so callers may modify it)."""
        return {
            "boxes": torch.tensor(self.boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor(self.labels, dtype=torch.int64).reshape(-1),
            "difficult": torch.tensor(self.difficult, dtype=torch.bool).reshape(-1),
            "image_id": int(self.image_id),
            "path": self.path,
            "size": (int(self.size[0]), int(self.size[1])),
        }


def pixels_to_tensor(pixels: np.ndarray) -> Tensor:
    """``[H, W, 3]`` uint8 RGB to a float32 ``[3, H, W]`` tensor in 0..1."""
    channels_first = pixels.transpose(2, 0, 1).astype(np.float32)  # numpy: far faster than torch for this copy
    channels_first /= 255.0
    return torch.from_numpy(channels_first)


class DetectionDataset:
    """Base class: subclasses provide ``__len__``, :meth:`record` and :meth:`pixels`.

    ``class_names``, ``category_ids`` and ``problems`` are set by the subclass's
    constructor; everything else of the contract is derived here.
    """

    class_names: tuple[str, ...] = ()
    category_ids: tuple[int, ...] = ()
    problems: list[str]

    def __len__(self) -> int:
        raise NotImplementedError

    def record(self, index: int) -> Record:
        """The :class:`Record` of image ``index`` (already range-checked)."""
        raise NotImplementedError

    def pixels(self, index: int, record: Record) -> np.ndarray:
        """``[H, W, 3]`` uint8 RGB pixels of image ``index``."""
        raise NotImplementedError

    def _checked(self, index: int) -> int:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"image index {index} out of range for {n} images")
        return index % n

    @property
    def image_ids(self) -> list[int]:
        return [self.record(i).image_id for i in range(len(self))]

    def info(self, index: int) -> dict:
        """``{"path", "size", "image_id", "target"}`` of image ``index``, no pixels decoded."""
        record = self.record(self._checked(index))
        return {"path": record.path, "size": record.size, "image_id": record.image_id, "target": record.target()}

    def __getitem__(self, index: int) -> tuple[Tensor, dict]:
        index = self._checked(index)
        record = self.record(index)
        return pixels_to_tensor(self.pixels(index, record)), record.target()


class FileDataset(DetectionDataset):
    """A dataset of image files described by a list of :class:`Record`."""

    def __init__(self, records: list[Record], class_names: tuple[str, ...], category_ids: tuple[int, ...], problems: list[str]) -> None:
        self.records = records
        self.class_names = tuple(class_names)
        self.category_ids = tuple(category_ids)
        self.problems = problems

    def __len__(self) -> int:
        return len(self.records)

    def record(self, index: int) -> Record:
        return self.records[index]

    def pixels(self, index: int, record: Record) -> np.ndarray:
        pixels = read_rgb(record.path)
        if pixels.shape[:2] != tuple(record.size):
            raise DatasetError(f"{record.path}: decoded {pixels.shape[1]}x{pixels.shape[0]} pixels, expected {record.size[1]}x{record.size[0]}")
        return pixels

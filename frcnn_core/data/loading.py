"""Opening a dataset from what a user types, batching, and held-out splits."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path

import numpy as np
from torch import Tensor

from ..annotations.yolo import DATA_YAML
from .coco import CocoDataset
from .composite import CompositeDataset
from .cvat import CvatDataset, is_cvat_xml
from .errors import DatasetError
from .folder import ImageFolderDataset
from .images import is_image_file
from .labelme import LabelmeDataset, is_labelme_folder
from .shapes import ShapesDataset
from .video import VideoDataset, is_video_file
from .voc import VocDataset
from .yolo import YoloDataset, is_yolo_tree

SPEC_HELP = (
    "expected 'shapes', 'composite', a COCO .json file, a VOC directory (with Annotations/), "
    "a folder of images with labelImg .xml files, a YOLO data.yaml or folder with images/ and labels/, "
    "a CVAT .xml export, a folder of labelme .json files, a video file, or a folder of images"
)


class SpecKind(Enum):
    """What a path on disk holds, as :func:`spec_kind` recognises it."""

    COCO = "COCO JSON"
    YOLO = "YOLO dataset"
    CVAT = "CVAT XML"
    VOC = "Pascal VOC"
    LABELME = "labelme folder"
    VIDEO = "video"
    IMAGES = "images"

    @property
    def annotated(self) -> bool:
        """Whether datasets of this kind carry boxes (videos and image folders do not)."""
        return self not in (SpecKind.VIDEO, SpecKind.IMAGES)


def spec_kind(path: str | os.PathLike) -> SpecKind | None:
    """What :func:`open_dataset` would open ``path`` as (see its table), or ``None``.

    Only names and the first bytes of files are looked at; nothing is parsed in full.
    """
    path = Path(path).expanduser()
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".json":
            return SpecKind.COCO
        if suffix in (".yaml", ".yml"):
            return SpecKind.YOLO
        if is_cvat_xml(path):
            return SpecKind.CVAT
        if is_video_file(path):
            return SpecKind.VIDEO
        return SpecKind.IMAGES if is_image_file(path) else None
    if not path.is_dir():
        return None
    if (path / "Annotations").is_dir():
        return SpecKind.VOC
    if (path / DATA_YAML).is_file() or is_yolo_tree(path):
        return SpecKind.YOLO
    xml_files = list(path.glob("*.xml"))
    if len(xml_files) == 1 and is_cvat_xml(xml_files[0]):
        return SpecKind.CVAT
    if xml_files:
        return SpecKind.VOC
    if is_labelme_folder(path):
        return SpecKind.LABELME
    if any(p.is_file() and is_image_file(p) for p in path.iterdir()):
        return SpecKind.IMAGES
    return None


def open_dataset(spec: str | os.PathLike, split: str = "train", progress: Callable[[int, int], None] | None = None, **kwargs):
    """The dataset that ``spec`` names.

    ========================== ======================================================
    spec                       dataset
    ========================== ======================================================
    ``"shapes"``               :class:`ShapesDataset` of ``split`` (train/val)
    ``"composite"``            :class:`CompositeDataset` of ``split`` (train/val)
    ``*.json`` file            :class:`CocoDataset` (the file is the split)
    ``*.yaml`` file            :class:`YoloDataset` of ``split`` (Ultralytics)
    ``*.xml`` file, CVAT root  :class:`CvatDataset` (``split`` picks a subset)
    video file (mp4, avi...)   :class:`VideoDataset` of its frames (no split)
    folder with Annotations/   :class:`VocDataset` of ``split`` (ImageSets/Main)
    folder with data.yaml, or  :class:`YoloDataset` of ``split``
    images/ and labels/
    folder with one CVAT xml   :class:`CvatDataset` of that file
    folder with ``*.xml``      :class:`VocDataset`, flat labelImg layout (no split)
    folder of labelme JSON     :class:`LabelmeDataset` (no split)
    folder of images, image    :class:`ImageFolderDataset` (unlabelled, no split)
    ========================== ======================================================

    ``kwargs`` go to the dataset's constructor (e.g. ``num_images`` for shapes).
    ``progress(done, total)`` is called about 100 times while a COCO file opens.

    Raises:
        DatasetError: ``spec`` is none of these; the message says what was expected.
    """
    text = str(spec)
    if text == "shapes":
        return ShapesDataset(split=split, **kwargs)
    if text == "composite":
        return CompositeDataset(split=split, **kwargs)
    path = Path(text).expanduser()
    kind = spec_kind(path)
    if kind is None and path.is_file():
        raise DatasetError(f"{path}: not a dataset file; {SPEC_HELP}")
    if kind is None and not path.is_dir():
        raise DatasetError(f"{text}: no such file or folder; {SPEC_HELP}")
    if kind is None:
        raise DatasetError(f"{path}: no images, annotations or COCO file found; {SPEC_HELP}")
    if kind is SpecKind.COCO:
        return CocoDataset(path, progress=progress, **kwargs)
    if kind is SpecKind.YOLO:
        return YoloDataset(path, split=split, **kwargs)
    if kind is SpecKind.CVAT:
        return CvatDataset(path if path.is_file() else next(path.glob("*.xml")), split=split, **kwargs)
    if kind is SpecKind.VOC:
        return VocDataset(path, split=split, **kwargs)
    if kind is SpecKind.LABELME:
        return LabelmeDataset(path, **kwargs)
    if kind is SpecKind.VIDEO:
        return VideoDataset(path, **kwargs)
    return ImageFolderDataset([path] if path.is_file() else path, **kwargs)


def open_validation_split(spec: str | os.PathLike, val_spec: str | os.PathLike | None = None, train=None, **kwargs):
    """The set to validate a run on ``spec`` with: ``val_spec`` (its ``val`` split) when
    given, else the ``val`` split of ``spec`` when it has one of its own, else ``None``.

    A set has a val split of its own when it is generated (``shapes``, ``composite``) or when
    its ``val`` split holds other images than ``train`` (its opened train split): a flat
    labelImg or labelme folder ignores ``split``, a VOC folder without
    ``ImageSets/Main/val.txt`` falls back to all its files, a COCO file is its own split;
    validating on the training images would only measure memory. ``kwargs`` go to the
    dataset's constructor. Raises :class:`DatasetError` when ``val_spec`` cannot be opened."""
    if val_spec is not None:
        return open_dataset(val_spec, split="val", **kwargs)
    text = str(spec)
    if text in ("shapes", "composite"):
        return open_dataset(text, split="val", **kwargs)
    try:
        val = open_dataset(spec, split="val", **kwargs)
    except DatasetError:  # no such split (YOLO, CVAT)
        return None
    trained_on = {train.info(i)["path"] for i in range(len(train))} if train is not None else set()
    paths = [val.info(i)["path"] for i in range(len(val))]
    if not paths or all(p in trained_on for p in paths) or any("no such split" in problem for problem in val.problems):
        return None
    return val


def collate(batch: Sequence[tuple[Tensor, dict]]) -> tuple[list[Tensor], list[dict]]:
    """``[(image, target), ...]`` to ``([image, ...], [target, ...])``; images keep their sizes."""
    return [image for image, _ in batch], [target for _, target in batch]


class Subset:
    """The images ``indices`` of ``dataset``, with the same contract (classes, ids, ``info``)."""

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.dataset.class_names

    @property
    def category_ids(self) -> tuple[int, ...]:
        return self.dataset.category_ids

    @property
    def problems(self) -> list[str]:
        return self.dataset.problems

    @property
    def image_ids(self) -> list[int]:
        return [self.dataset.info(i)["image_id"] for i in self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def info(self, index: int) -> dict:
        return self.dataset.info(self.indices[index])

    def __getitem__(self, index: int) -> tuple[Tensor, dict]:
        return self.dataset[self.indices[index]]


def split_dataset(dataset, val_fraction: float = 0.2, seed: int = 0) -> tuple[Subset, Subset]:
    """``(train, val)`` subsets for a labelled set that has no split of its own.

    A seeded permutation picks ``round(len * val_fraction)`` images (at least one when
    there are two or more) for ``val``; both subsets keep the dataset's order, and the
    same ``seed`` always gives the same split.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    n = len(dataset)
    n_val = min(max(round(n * val_fraction), 1), n - 1) if n >= 2 else 0
    order = np.random.default_rng(seed).permutation(n)
    val = np.sort(order[:n_val])
    train = np.sort(order[n_val:])
    return Subset(dataset, train.tolist()), Subset(dataset, val.tolist())

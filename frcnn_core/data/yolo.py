"""Ultralytics/YOLO datasets: a ``data.yaml``, or an ``images/`` + ``labels/`` tree with ``classes.txt``.

``data.yaml`` (Ultralytics' schema)::

    path: ../datasets/coco8    # optional root; default: the yaml's folder
    train: images/train        # a folder, a .txt list of image paths, or a list of them
    val: images/val
    test: images/test          # optional
    names: {0: person, 1: bicycle}   # or a list

Paths are resolved as Ultralytics resolves them: ``path`` relative to the yaml's folder
(or, failing that, the working folder), the splits relative to ``path`` (a leading
``../`` that leads nowhere is dropped, as in Roboflow's exports); a folder contributes
its image files recursively, a ``.txt`` list one path per line (``./x`` and other
relative lines relative to the list's folder). Each image's label file is its path
with the last ``/images/`` replaced by ``/labels/`` and the extension by ``.txt``.

Without a yaml, ``ROOT/images/`` holds the images (all of them, or ``images/<split>/``
when that folder exists) and ``ROOT/labels/`` the labels; the class names come from
``classes.txt`` in ``ROOT``, ``ROOT/labels/`` or ``ROOT/labels/<split>/``.

``split`` picks the yaml's entry (``train``, ``val``, ``test``); ``trainval`` is
``train`` and ``val`` together. An image without a label file has no objects (as in
Ultralytics; counted in one ``problems`` line). Bad label lines (an unknown class
index, pixels instead of fractions, no area) are skipped and reported naming the file
and the line; the rest of the file is kept. Label ``k`` is ``names[k - 1]`` and
``image_id`` is the position in the list.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..annotations.model import AnnotationError, ImageAnnotation
from ..annotations.yolo import CLASSES_FILE, DATA_YAML, read_classes_txt, read_data_yaml, read_yolo_txt
from .annotated import FoundImage, records_of
from .errors import DatasetError
from .images import is_image_file, probe_image
from .sample import FileDataset

SPLITS = ("train", "val", "test")
# The split that means "everything labelled" (what the viewer opens).
ALL_LABELLED = "trainval"


def label_path(image: Path) -> Path:
    """Ultralytics' rule: the last ``/images/`` of the path becomes ``/labels/``, the extension ``.txt``."""
    images, labels = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return Path(labels.join(str(image).rsplit(images, 1))).with_suffix(".txt")


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_file(p))


def _listed_images(source: Path, problems: list[str]) -> list[Path]:
    """The images of one split entry: a folder (recursive) or a ``.txt`` list of paths."""
    if source.is_dir():
        return _image_files(source)
    try:
        lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{source}: cannot read the image list: {exc}") from None
    images = []
    for line in lines:
        path = Path(line)
        path = path if path.is_absolute() else source.parent / path
        if is_image_file(path):
            images.append(path)
        else:
            problems.append(f"{source}: {line!r} is not an image file name; skipped")
    return images


def _resolve(root: Path, entry: str, yaml_path: Path) -> Path:
    """A split entry as Ultralytics resolves it (see the module docstring)."""
    path = Path(entry).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [root / path]
        if entry.startswith("../"):
            candidates.append(root / entry[3:])
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    raise DatasetError(f"{yaml_path}: {entry!r} not found (looked for {', '.join(str(c) for c in candidates)})")


def _yaml_root(document: dict, yaml_path: Path) -> Path:
    value = document.get("path")
    if value in (None, ""):
        return yaml_path.parent
    path = Path(str(value)).expanduser()
    candidates = [path] if path.is_absolute() else [yaml_path.parent / path, Path.cwd() / path]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise DatasetError(f"{yaml_path}: path {value!r} not found (looked for {', '.join(str(c) for c in candidates)})")


def _split_keys(split: str, available: list[str], where: Path) -> list[str]:
    if split in available:
        return [split]
    if split == ALL_LABELLED and any(key in available for key in ("train", "val")):
        return [key for key in ("train", "val") if key in available]
    raise DatasetError(f"{where}: no '{split}' split; it has {', '.join(available) or 'none'}")


def _from_yaml(yaml_path: Path, split: str, problems: list[str]) -> tuple[list[str], list[Path]]:
    """Class names and images of ``split`` of a ``data.yaml``."""
    try:
        document = read_data_yaml(yaml_path)
    except AnnotationError as exc:
        raise DatasetError(str(exc)) from None
    root = _yaml_root(document, yaml_path)
    available = [key for key in SPLITS if document.get(key)]
    images: list[Path] = []
    for key in _split_keys(split, available, yaml_path):
        entries = document[key] if isinstance(document[key], list) else [document[key]]
        for entry in entries:
            images += _listed_images(_resolve(root, str(entry), yaml_path), problems)
    return document["names"], images


def _from_tree(root: Path, split: str, problems: list[str]) -> tuple[list[str] | None, list[Path]]:
    """Class names (``None`` without ``classes.txt``) and images of an ``images/`` + ``labels/`` tree."""
    images_dir = root / "images"
    if split == ALL_LABELLED and not (images_dir / split).is_dir():
        folders = [images_dir / key for key in ("train", "val") if (images_dir / key).is_dir()]
    else:
        folders = [images_dir / split] if (images_dir / split).is_dir() else []
    if not folders:
        subfolders = sorted(p.name for p in images_dir.iterdir() if p.is_dir())
        if subfolders and not any(is_image_file(p) for p in images_dir.iterdir() if p.is_file()):
            raise DatasetError(f"{images_dir}: no '{split}' folder; it has {', '.join(subfolders)}")
        folders = [images_dir]
    images = [image for folder in folders for image in _image_files(folder)]
    for candidate in (root / CLASSES_FILE, root / "labels" / CLASSES_FILE, root / "labels" / split / CLASSES_FILE):
        if candidate.is_file():
            try:
                return read_classes_txt(candidate), images
            except AnnotationError as exc:
                raise DatasetError(str(exc)) from None
    return None, images


def is_yolo_tree(folder: Path) -> bool:
    """Whether ``folder`` holds ``images/`` and ``labels/`` folders."""
    return (folder / "images").is_dir() and (folder / "labels").is_dir()


class YoloDataset(FileDataset):
    """An Ultralytics/YOLO dataset (see the module docstring).

    Args:
        source: a ``data.yaml`` (any ``*.yaml``), or a folder holding one
            (``data.yaml``) or holding ``images/`` and ``labels/``.
        split: ``train``, ``val``, ``test`` or ``trainval``.
        class_names: override the file's names (label ``k + 1`` is index ``k``).
    """

    def __init__(self, source: str | os.PathLike, split: str = "train", class_names: tuple[str, ...] | list[str] | None = None) -> None:
        self.source = Path(source)
        problems: list[str] = []
        if self.source.is_dir() and (self.source / DATA_YAML).is_file():
            self.source = self.source / DATA_YAML
        if self.source.is_file():
            names, images = _from_yaml(self.source, split, problems)
        elif self.source.is_dir() and is_yolo_tree(self.source):
            names, images = _from_tree(self.source, split, problems)
        else:
            raise DatasetError(f"{self.source}: neither a YOLO data.yaml nor a folder with images/ and labels/")
        if class_names is not None:
            names = list(class_names)
        found = self._read_labels(images, names, problems)
        if names is None:
            highest = max((int(b.label) for item in found for b in item.annotation.boxes), default=-1)
            names = [str(k) for k in range(highest + 1)]
            problems.append(f"{self.source}: no classes.txt or data.yaml; classes are named by their index (0..{highest})")
        records = records_of(found, tuple(names), check_images=False, problems=problems)
        super().__init__(records, tuple(names), tuple(range(1, len(names) + 1)), problems)

    def _read_labels(self, images: list[Path], names: list[str] | None, problems: list[str]) -> list[FoundImage]:
        """Each readable image with the boxes of its label file (none when it has no file)."""
        # Without class names the index itself is the name, for any index in the files.
        lookup = names if names is not None else _IndexNames()
        found, unlabelled, seen = [], [], set()
        for image in images:
            if image in seen:
                continue
            seen.add(image)
            try:
                height, width = probe_image(image)
            except DatasetError as exc:
                problems.append(f"{exc}; skipped")
                continue
            labels = label_path(image)
            annotation = ImageAnnotation(image.name, width, height)
            if labels.is_file():
                try:
                    annotation.boxes = read_yolo_txt(labels, width, height, lookup, problems)
                except AnnotationError as exc:
                    problems.append(f"{exc}; read as an image without objects")
            else:
                unlabelled.append(labels)
            found.append(FoundImage(str(labels), image, annotation, len(found)))
        if unlabelled:
            problems.append(f"{self.source}: {len(unlabelled)} images have no label file and are read as images without objects (e.g. {unlabelled[0]} is missing)")
        return found


class _IndexNames:
    """``names[k] == str(k)`` for every ``k``: class indices of a set whose names are unknown."""

    def __len__(self) -> int:
        return 1 << 31

    def __getitem__(self, index: int) -> str:
        return str(index)

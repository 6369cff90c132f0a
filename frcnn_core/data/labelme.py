"""A folder of labelme JSON files as a dataset (the file format is in :mod:`frcnn_core.annotations.labelme`).

Every ``*.json`` file of the folder (not its subfolders) that is a labelme file is one
image: ``imagePath`` relative to the JSON file, or else the image with the JSON's stem
beside it (``.jpg``, ``.JPG``...); embedded ``imageData`` is never used. Images without a
JSON file are not listed (labelme writes none for an image without shapes, so it is
not known to be empty), said in one ``problems`` line. ``split`` does not apply.

A JSON file that is not a labelme file, an image that is missing or unreadable, a
malformed shape, and a shape whose label is not among the class names are skipped and
reported in ``problems`` naming the file and the shape; the rest loads. ``image_id``
is the position in the list (files sorted by name).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..annotations.labelme import read_labelme_json
from ..annotations.model import AnnotationError
from .annotated import FoundImage, find_image_file, records_of
from .errors import DatasetError
from .images import is_image_file
from .sample import FileDataset

# How much of a JSON file is read to tell a labelme file from another JSON file.
_SNIFF_BYTES = 1 << 16


def is_labelme_folder(folder: Path) -> bool:
    """Whether the first ``*.json`` file of ``folder`` (by name) has labelme's ``"shapes"`` key near its start."""
    files = sorted(folder.glob("*.json"))
    if not files:
        return False
    with open(files[0], "rb") as f:
        head = f.read(_SNIFF_BYTES)
    return b'"shapes"' in head


def _image_of(json_path: Path, image_path: str) -> Path | None:
    named = json_path.parent / image_path
    if named.is_file():
        return named
    return find_image_file(json_path.parent, json_path.stem)


class LabelmeDataset(FileDataset):
    """The images and boxes of a folder of labelme files (see the module docstring).

    Args:
        folder: the folder of ``*.json`` files.
        class_names: label ``k`` is ``class_names[k - 1]``. Default: the labels found,
            sorted (pass ``class_names`` to fix the numbering across folders).
        check_images: probe every image while indexing; ``False`` trusts
            ``imageWidth``/``imageHeight`` and only checks that the file exists.
    """

    def __init__(self, folder: str | os.PathLike, class_names: tuple[str, ...] | list[str] | None = None, check_images: bool = True) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DatasetError(f"{self.folder}: no such folder")
        files = sorted(self.folder.glob("*.json"))
        if not files:
            raise DatasetError(f"{self.folder}: no labelme .json files")
        problems: list[str] = []
        found: list[FoundImage] = []
        used: set[Path] = set()
        for json_path in files:
            try:
                annotation = read_labelme_json(json_path)
            except AnnotationError as exc:
                problems.append(f"{exc}; skipped")
                continue
            problems += annotation.warnings
            image = _image_of(json_path, annotation.filename)
            if image is None:
                problems.append(f"{json_path}: image {annotation.filename!r} not found (imageData is not used); skipped")
                continue
            used.add(image.resolve())
            found.append(FoundImage(str(json_path), image, annotation, len(found)))
        unlisted = sorted(p for p in self.folder.iterdir() if p.is_file() and is_image_file(p) and p.resolve() not in used)
        if unlisted:
            problems.append(f"{self.folder}: {len(unlisted)} images have no labelme file and are not listed (e.g. {unlisted[0].name})")
        names = tuple(class_names) if class_names is not None else tuple(sorted({b.label for item in found for b in item.annotation.boxes}))
        records = records_of(found, names, check_images, problems)
        super().__init__(records, names, tuple(range(1, len(names) + 1)), problems)

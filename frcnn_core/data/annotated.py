"""From annotations read out of a tool's files to dataset records, for the YOLO, CVAT and labelme readers.

A reader turns its files into :class:`FoundImage` entries (an image file and its
:class:`~frcnn_core.annotations.ImageAnnotation`, boxes already in continuous pixels
of the size the annotation states); :func:`records_of` then checks each image, fits
the boxes to the file's real size, maps class names to labels and reports what it
drops, the same way for every format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..annotations.model import AnnotationError, ImageAnnotation, fit_box, format_box
from .errors import DatasetError
from .images import IMAGE_EXTENSIONS, probe_image
from .sample import Record


@dataclass
class FoundImage:
    """One annotated image as a reader found it.

    Attributes:
        where: the annotation file and record, prefixed to messages.
        image: the image file.
        annotation: its boxes, in pixels of ``annotation.width x annotation.height``.
        image_id: the source's own id.
    """

    where: str
    image: Path
    annotation: ImageAnnotation
    image_id: int


def find_image_file(folder: Path, stem: str) -> Path | None:
    """``folder/<stem>.<ext>`` for an image extension in lower or upper case (``.jpg``, ``.JPG``), or ``None``."""
    for ext in IMAGE_EXTENSIONS:
        for candidate in (folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"):
            if candidate.is_file():
                return candidate
    return None


def records_of(found: list[FoundImage], class_names: tuple[str, ...], check_images: bool, problems: list[str]) -> list[Record]:
    """One :class:`Record` per usable image of ``found``, in order.

    With ``check_images`` each file is probed (:func:`.images.probe_image`): an
    unreadable one is skipped, and when its size differs from the annotation's the
    boxes are refitted to the file (reported). A box whose label is not in
    ``class_names`` is skipped and reported. Label ``k`` is ``class_names[k - 1]``.
    """
    labels = {name: k + 1 for k, name in enumerate(class_names)}
    records = []
    for item in found:
        size = _checked_size(item, problems) if check_images else (item.annotation.height, item.annotation.width)
        if size is None:
            continue
        kept = []
        for box in item.annotation.boxes:
            if box.label in labels:
                kept.append(box)
            else:
                problems.append(f"{item.where}: box {box.label!r} {format_box(box.box)}: label not in the class names {list(class_names)}; skipped")
        records.append(Record(
            path=str(item.image),
            size=size,
            image_id=item.image_id,
            boxes=np.array([b.box for b in kept], np.float32).reshape(-1, 4),
            labels=np.array([labels[b.label] for b in kept], np.int64),
            difficult=np.array([b.difficult for b in kept], bool),
        ))
    return records


def _checked_size(item: FoundImage, problems: list[str]) -> tuple[int, int] | None:
    """The file's ``(H, W)``, boxes refitted when it disagrees with the annotation; ``None`` if unreadable."""
    annotation = item.annotation
    try:
        size = probe_image(item.image)
    except DatasetError as exc:
        problems.append(f"{item.where}: {exc}; skipped")
        return None
    listed = (annotation.height, annotation.width)
    if size == listed:
        return size
    problems.append(f"{item.where}: the annotation says {listed[1]}x{listed[0]} but {item.image.name} is {size[1]}x{size[0]}; using the file's size")
    refit_boxes(annotation, size, f"{item.where}: box", problems)
    return size


def refit_boxes(annotation, size: tuple[int, int], where: str, problems: list[str]) -> None:
    """Fit ``annotation``'s boxes into an image of ``size`` ``(H, W)`` (the file's, where it
    disagrees with the annotation); a box left without area is dropped, each said in ``problems``."""
    kept = []
    for box in annotation.boxes:
        try:
            fitted, warning = fit_box(box.box, size[1], size[0], f"{where} {box.label!r}")
        except AnnotationError as exc:
            problems.append(f"{exc}; dropped")
            continue
        if warning:
            problems.append(warning)
        box.box = fitted
        kept.append(box)
    annotation.boxes = kept

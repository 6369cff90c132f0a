"""The annotated set as a whole: export (COCO, YOLO labels or a YOLO dataset, CVAT XML,
labelme JSON), COCO import, verified status.

Per image the truth is its VOC XML file; these functions gather or scatter them through
:mod:`frcnn_core.annotations` (which does every format conversion and writes atomically).
Plain Python, no Qt. Files that cannot be read are reported, never rewritten.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from frcnn_core.annotations import (
    AnnotationError,
    ImageAnnotation,
    class_names_of,
    export_coco,
    export_yolo,
    import_coco,
    read_voc_xml,
    write_voc_xml,
)
from frcnn_core.annotations.cvat import export_cvat
from frcnn_core.annotations.labelme import export_labelme
from frcnn_core.annotations.yolo import export_yolo_dataset

# (image file, its VOC XML file)
Pair = tuple[Path, Path]


def is_verified(xml_path: Path) -> bool:
    """Whether the VOC file is marked ``verified="yes"`` (``False`` when absent or unreadable)."""
    if not xml_path.exists():
        return False
    try:
        return read_voc_xml(xml_path, strict=False).verified
    except AnnotationError:
        return False


def collect(pairs: Sequence[Pair]) -> tuple[list[ImageAnnotation], list[str]]:
    """The annotations of the images that have a readable VOC file, and one problem per
    unreadable one. Images without a file are left out (nothing says they are empty)."""
    annotations, _images, problems = collect_with_images(pairs)
    return annotations, problems


def collect_with_images(pairs: Sequence[Pair]) -> tuple[list[ImageAnnotation], list[Path], list[str]]:
    """:func:`collect`, with the image file of each annotation."""
    annotations, images, problems = [], [], []
    for image, xml in pairs:
        if not xml.exists():
            continue
        try:
            annotations.append(read_voc_xml(xml, strict=True))
            images.append(Path(image))
        except AnnotationError as exc:
            problems.append(f"{exc}; not exported")
    return annotations, images, problems


def _names(annotations: Sequence[ImageAnnotation], class_names: Sequence[str]) -> list[str]:
    """``class_names`` then any other label found, so every box has a class."""
    names = list(class_names)
    return names + [n for n in class_names_of(annotations) if n not in names]


def export_set_coco(pairs: Sequence[Pair], class_names: Sequence[str], path: str | os.PathLike) -> tuple[Path, int, list[str]]:
    """Write one COCO JSON of every annotated image; returns ``(path, images, problems)``.

    Raises:
        AnnotationError: nothing is annotated yet, or the exporter refused (nothing written).
    """
    annotations, problems = collect(pairs)
    if not annotations:
        raise AnnotationError("no image has a readable annotation file to export")
    return export_coco(annotations, _names(annotations, class_names), path), len(annotations), problems


def export_set_yolo(pairs: Sequence[Pair], class_names: Sequence[str], out_dir: str | os.PathLike) -> tuple[list[Path], list[str]]:
    """Write YOLO labels (and ``classes.txt``) of every annotated image; returns ``(files, problems)``."""
    annotations, problems = collect(pairs)
    if not annotations:
        raise AnnotationError("no image has a readable annotation file to export")
    return export_yolo(annotations, _names(annotations, class_names), out_dir), problems


def _annotated(pairs: Sequence[Pair]) -> tuple[list[ImageAnnotation], list[Path], list[str]]:
    annotations, images, problems = collect_with_images(pairs)
    if not annotations:
        raise AnnotationError("no image has a readable annotation file to export")
    return annotations, images, problems


def export_set_yolo_dataset(pairs: Sequence[Pair], class_names: Sequence[str], root: str | os.PathLike, split: str = "train") -> tuple[Path, list[str]]:
    """An Ultralytics dataset in ``root`` (``images/<split>``, ``labels/<split>``, ``data.yaml``)
    of every annotated image; returns ``(data.yaml, problems)``."""
    annotations, images, problems = _annotated(pairs)
    return export_yolo_dataset(annotations, _names(annotations, class_names), root, split, images), problems


def export_set_cvat(pairs: Sequence[Pair], class_names: Sequence[str], path: str | os.PathLike) -> tuple[Path, list[str]]:
    """One CVAT for images 1.1 XML of every annotated image; returns ``(path, problems)``."""
    annotations, _images, problems = _annotated(pairs)
    return export_cvat(annotations, _names(annotations, class_names), path), problems


def export_set_labelme(pairs: Sequence[Pair], out_dir: str | os.PathLike) -> tuple[list[Path], list[str]]:
    """One labelme JSON per annotated image in ``out_dir`` (``imagePath`` relative to it);
    returns ``(files, problems)``."""
    annotations, images, problems = _annotated(pairs)
    return export_labelme(annotations, out_dir, images), problems


def import_set_coco(json_path: str | os.PathLike, pairs: Sequence[Pair], overwrite: bool = False) -> tuple[list[Path], list[str]]:
    """Write a VOC file for every image of ``pairs`` that the COCO file annotates (matched by
    file name); returns ``(written, problems)``.

    An existing VOC file is kept unless ``overwrite``; COCO images that are not in ``pairs``
    are reported.

    Raises:
        AnnotationError: the COCO file is malformed (nothing is written).
    """
    annotations, _names_found = import_coco(json_path)
    by_name = {image.name: (image, xml) for image, xml in pairs}
    written, problems = [], []
    for annotation in annotations:
        name = Path(annotation.filename).name
        if name not in by_name:
            problems.append(f"{json_path}: image {annotation.filename!r} is not among the open images; skipped")
            continue
        image, xml = by_name[name]
        if xml.exists() and not overwrite:
            problems.append(f"{xml} exists; kept (not overwritten by {json_path})")
            continue
        annotation.filename, annotation.folder, annotation.path = image.name, image.parent.name, str(image.resolve())
        try:
            written.append(write_voc_xml(annotation, xml))
        except (AnnotationError, OSError) as exc:
            problems.append(f"{xml}: not written: {exc}")
    return written, problems

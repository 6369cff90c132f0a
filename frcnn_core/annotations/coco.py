"""COCO instances JSON: many images in one file, for exchange with COCO tools.

Written layout (what :func:`export_coco` produces and :func:`import_coco` expects)::

    {"info": {...}, "licenses": [],
     "images":      [{"id": 1, "file_name": "cat.jpg", "width": 500, "height": 375}],
     "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                      "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
                      "segmentation": [[x, y, x, y + h, x + w, y + h, x + w, y]],
                      "ignore": 0, "truncated": 0}],
     "categories":  [{"id": 1, "name": "cat"}]}

``bbox`` uses the same continuous pixels as :mod:`.model` (no offset):
``(x1, y1, x2, y2) = (x, y, x + w, y + h)``. Category ids are 1-based in
``class_names`` order; image and annotation ids count from 1 unless given.

Flags COCO has no field for ride along as extra keys on each annotation, which COCO
readers ignore: VOC's ``difficult`` is ``"ignore": 1`` (mmdetection-style loaders skip
such boxes; ``iscrowd`` stays 0 because it promises an RLE crowd region) and
``truncated`` is ``"truncated": 1``. The segmentation is the box's rectangle, so
tools that insist on one get a consistent mask. ``pose`` is not stored.

On import, ``"ignore": 1`` and ``"iscrowd": 1`` both become ``difficult`` (regions
to ignore in training and evaluation).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from ..files.atomic import atomic_write_text
from ..files.json_input import load_json
from .model import AnnotationError, Box, BoxAnnotation, ImageAnnotation, fit_box


def export_coco(
    annotations: Sequence[ImageAnnotation],
    class_names: Sequence[str],
    path: str | os.PathLike,
    image_ids: Sequence[int] | None = None,
) -> Path:
    """Write ``annotations`` as one COCO instances JSON file, atomically.

    Args:
        annotations: one per image; boxes are clipped to their image.
        class_names: category ``k + 1`` is ``class_names[k]``; every label must be here.
        image_ids: the COCO id of each image (unique ints); ``1..N`` when not given.

    Raises:
        AnnotationError: a label is not in ``class_names``, a box has no area inside
            its image, or ``image_ids`` does not fit (nothing is written).
    """
    category_of = _category_ids(class_names)
    ids = list(range(1, len(annotations) + 1)) if image_ids is None else list(image_ids)
    if len(ids) != len(annotations) or len(set(ids)) != len(ids):
        raise AnnotationError(f"export_coco: image_ids must be {len(annotations)} unique ids, got {ids!r}")
    images, records = [], []
    for image_id, annotation in zip(ids, annotations):
        images.append({"id": image_id, "file_name": annotation.filename, "width": annotation.width, "height": annotation.height})
        for b in annotation.clipped_boxes():
            if b.label not in category_of:
                raise AnnotationError(f"{annotation.filename}: label {b.label!r} is not one of the classes {list(class_names)}")
            records.append(_coco_record(len(records) + 1, image_id, category_of[b.label], b))
    document = {
        "info": {"description": "exported by frcnn-viewer"},
        "licenses": [],
        "images": images,
        "annotations": records,
        "categories": [{"id": k, "name": name} for name, k in category_of.items()],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def import_coco(path: str | os.PathLike) -> tuple[list[ImageAnnotation], list[str]]:
    """Read a COCO instances JSON file (see the module docstring).

    Returns:
        ``(annotations, class_names)``: one :class:`ImageAnnotation` per image in file
        order, boxes in file order as ``(x1, y1, x2, y2)`` continuous pixels (clipped
        to the image; by more than a pixel, with a warning in ``warnings``), and the
        category names sorted by category id.

    Raises:
        AnnotationError: the file cannot be read or is not JSON, a required key is
            missing or has the wrong type, an id is duplicated, an annotation names an
            unknown image or category, or a size or box is not positive. The message
            names the file and the record.
    """
    path = Path(path)
    document = _load(path)
    names = _categories(document, path)
    by_id: dict[int, ImageAnnotation] = {}
    for i, record in enumerate(_list(document, "images", path)):
        where = f"{path}: images[{i}]"
        image_id = _field(record, "id", int, where)
        if image_id in by_id:
            raise AnnotationError(f"{where}: duplicate image id {image_id}")
        file_name = _field(record, "file_name", str, where)
        width, height = (_field(record, key, int, where) for key in ("width", "height"))
        if not file_name or width <= 0 or height <= 0:
            raise AnnotationError(f"{where}: needs a file_name and a positive size, got {file_name!r} {width}x{height}")
        by_id[image_id] = ImageAnnotation(filename=file_name, width=width, height=height)
    for i, record in enumerate(_list(document, "annotations", path, optional=True)):
        where = f"{path}: annotations[{i}]"
        if isinstance(record, dict) and "id" in record:
            where += f" (id {record['id']!r})"
        image_id, category_id = _field(record, "image_id", int, where), _field(record, "category_id", int, where)
        if image_id not in by_id:
            raise AnnotationError(f"{where}: image_id {image_id} is not among the images")
        if category_id not in names:
            raise AnnotationError(f"{where}: category_id {category_id} is not among the categories")
        image = by_id[image_id]
        box, warning = fit_box(_bbox(record, where), image.width, image.height, where)
        image.boxes.append(BoxAnnotation(
            label=names[category_id],
            box=box,
            difficult=_flag(record, "ignore", where) or _flag(record, "iscrowd", where),
            truncated=_flag(record, "truncated", where),
        ))
        if warning:
            image.warnings.append(warning)
    return list(by_id.values()), [names[k] for k in sorted(names)]


def _category_ids(class_names: Sequence[str]) -> dict[str, int]:
    if len(set(class_names)) != len(class_names):
        raise AnnotationError(f"export: class names must be unique, got {list(class_names)}")
    return {name: k for k, name in enumerate(class_names, start=1)}


def _coco_record(annotation_id: int, image_id: int, category_id: int, b: BoxAnnotation) -> dict:
    x1, y1, x2, y2 = (_compact(v) for v in b.box)
    w, h = _compact(x2 - x1), _compact(y2 - y1)
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": [x1, y1, w, h],
        "area": _compact(w * h),
        "iscrowd": 0,
        "segmentation": [[x1, y1, x1, y2, x2, y2, x2, y1]],
        "ignore": int(b.difficult),
        "truncated": int(b.truncated),
    }


def _compact(value: float) -> int | float:
    """Whole numbers as JSON integers (``12`` rather than ``12.0``)."""
    return int(value) if float(value).is_integer() else float(value)


def _load(path: Path) -> dict:
    document = load_json(path, "a COCO file", AnnotationError)
    if not isinstance(document, dict):
        raise AnnotationError(f"{path}: the top level is a {type(document).__name__}, not a COCO object")
    return document


def _list(document: dict, key: str, path: Path, optional: bool = False) -> list:
    """``document[key]`` as a list; an ``optional`` key may be absent (image-info files have no annotations)."""
    if optional and key not in document:
        return []
    if not isinstance(document.get(key), list):
        raise AnnotationError(f"{path}: {key!r} is missing or not a list")
    return document[key]


def _categories(document: dict, path: Path) -> dict[int, str]:
    names: dict[int, str] = {}
    for i, record in enumerate(_list(document, "categories", path)):
        where = f"{path}: categories[{i}]"
        category_id, name = _field(record, "id", int, where), _field(record, "name", str, where)
        if category_id in names:
            raise AnnotationError(f"{where}: duplicate category id {category_id}")
        if not name or name in names.values():
            raise AnnotationError(f"{where}: category name {name!r} is empty or used twice")
        names[category_id] = name
    return names


def _field(record: object, key: str, kind: type, where: str):
    """``record[key]``, which must be of ``kind`` (``bool`` is not an ``int`` here)."""
    if not isinstance(record, dict):
        raise AnnotationError(f"{where}: is a {type(record).__name__}, not an object")
    if key not in record:
        raise AnnotationError(f"{where}: {key!r} is missing")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise AnnotationError(f"{where}: {key!r} is {value!r}, not {'an integer' if kind is int else 'a string'}")
    return value


def _flag(record: dict, key: str, where: str) -> bool:
    """A 0/1 (or boolean) flag; absent means 0."""
    value = record.get(key, 0)
    if value not in (0, 1):
        raise AnnotationError(f"{where}: {key!r} is {value!r}, not 0 or 1")
    return bool(value)


def _bbox(record: dict, where: str) -> Box:
    """COCO ``[x, y, w, h]`` -> ``(x1, y1, x2, y2)``, checking four finite numbers with ``w, h > 0``."""
    bbox = record.get("bbox")
    if (
        not isinstance(bbox, list)
        or len(bbox) != 4
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in bbox)
    ):
        raise AnnotationError(f"{where}: bbox {bbox!r} is not [x, y, w, h] with four finite numbers")
    x, y, w, h = (float(v) for v in bbox)
    if w <= 0 or h <= 0:
        raise AnnotationError(f"{where}: bbox {bbox!r} has a width or height that is not positive")
    return (x, y, x + w, y + h)

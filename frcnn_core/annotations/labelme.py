"""labelme JSON, one file per image, as labelme saves it.

Layout (what :func:`write_labelme_json` writes and :func:`read_labelme_json` reads)::

    {"version": "5.5.0", "flags": {},
     "shapes": [{"label": "cat", "points": [[x1, y1], [x2, y2]], "group_id": null,
                 "description": "", "shape_type": "rectangle", "flags": {}, "mask": null}],
     "imagePath": "cat.jpg",            # relative to the JSON file
     "imageData": null,                 # base64 pixels when embedded; never read here
     "imageHeight": 375, "imageWidth": 500}

Points are continuous pixels with the origin at the image's top-left corner, the same
convention as :mod:`.model`, read and written unchanged. A ``rectangle`` is its two
corners in any order (labelme stores them in drawing order); a ``polygon`` is read as
its bounding box and a ``circle`` (centre, point on the rim) as the circle's bounding
box, each said once per file in the warnings; lines, line strips, points and masks
are not boxes and are skipped (counted in one warning). A shape's ``"difficult":
true`` (kept by labelme as extra shape data, written by some labelme forks) is VOC's
``difficult``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from ..files.atomic import atomic_write_text
from .model import AnnotationError, Box, BoxAnnotation, ImageAnnotation, fit_box

VERSION = "5.5.0"
_NOT_BOXES = ("line", "linestrip", "point", "points", "mask")


def read_labelme_json(path: str | os.PathLike) -> ImageAnnotation:
    """Read one labelme file (see the module docstring).

    Returns:
        The annotation: ``filename`` is ``imagePath`` as written (relative to the JSON
        file; Windows separators become ``/``), the size is ``imageWidth`` x
        ``imageHeight``, and ``warnings`` lists the shapes skipped or converted, each
        naming the file and the shape (``shapes[3]``).

    Raises:
        AnnotationError: the file cannot be read, is not JSON, or lacks a usable
            ``imagePath``, ``imageWidth``, ``imageHeight`` or ``shapes`` list.
    """
    path = Path(path)
    document = _load(path)
    image_path = document.get("imagePath")
    if not isinstance(image_path, str) or not image_path:
        raise AnnotationError(f"{path}: 'imagePath' must be the image's file name, got {image_path!r}")
    size = tuple(document.get(key) for key in ("imageWidth", "imageHeight"))
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in size):
        raise AnnotationError(f"{path}: 'imageWidth' and 'imageHeight' must be positive integers, got {size[0]!r} and {size[1]!r}")
    shapes = document.get("shapes")
    if not isinstance(shapes, list):
        raise AnnotationError(f"{path}: 'shapes' must be a list, got {type(shapes).__name__}")
    annotation = ImageAnnotation(image_path.replace("\\", "/"), size[0], size[1])
    converted: dict[str, list[int]] = {}
    skipped: dict[str, list[int]] = {}
    for k, shape in enumerate(shapes):
        where = f"{path}: shapes[{k}]"
        try:
            kind = _shape_type(shape, where)
            if kind in _NOT_BOXES:
                skipped.setdefault(kind, []).append(k)
                continue
            box, warning = fit_box(_shape_box(shape, kind, where), annotation.width, annotation.height, f"{where} ({shape['label']!r})")
        except AnnotationError as exc:
            annotation.warnings.append(f"{exc}; skipped")
            continue
        if kind != "rectangle":
            converted.setdefault(kind, []).append(k)
        if warning:
            annotation.warnings.append(warning)
        annotation.boxes.append(BoxAnnotation(label=shape["label"], box=box, difficult=shape.get("difficult") is True))
    annotation.warnings += [f"{path}: {len(ks)} {kind}s read as their bounding boxes (first: shapes[{ks[0]}])" for kind, ks in converted.items()]
    annotation.warnings += [f"{path}: {len(ks)} {kind} shapes are not boxes and were skipped (first: shapes[{ks[0]}])" for kind, ks in skipped.items()]
    return annotation


def write_labelme_json(annotation: ImageAnnotation, path: str | os.PathLike) -> Path:
    """Write ``annotation`` as a labelme file of rectangles, atomically.

    ``imagePath`` is ``annotation.filename`` (give it relative to ``path``'s folder, as
    labelme does); no image data is embedded. The folder is created if needed.

    Raises:
        AnnotationError: a box has no area inside the image (nothing is written).
    """
    shapes = []
    for b in annotation.clipped_boxes():
        x1, y1, x2, y2 = b.box
        shape = {"label": b.label, "points": [[x1, y1], [x2, y2]], "group_id": None, "description": "", "shape_type": "rectangle", "flags": {}, "mask": None}
        if b.difficult:
            shape["difficult"] = True
        shapes.append(shape)
    document = {"version": VERSION, "flags": {}, "shapes": shapes, "imagePath": annotation.filename, "imageData": None,
                "imageHeight": annotation.height, "imageWidth": annotation.width}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return path


def export_labelme(annotations: Sequence[ImageAnnotation], out_dir: str | os.PathLike, image_files: Sequence[str | os.PathLike] | None = None) -> list[Path]:
    """Write one labelme file ``<image stem>.json`` per annotation into ``out_dir``, each atomically.

    Args:
        image_files: the image of each annotation; ``imagePath`` is then written
            relative to ``out_dir`` (so labelme and :class:`frcnn_core.data.LabelmeDataset`
            find it). Without it, ``imagePath`` is ``annotation.filename``.

    Raises:
        AnnotationError: two images share a stem, ``image_files`` does not match, or a
            box has no area inside its image. All of it is checked before writing.
    """
    out_dir = Path(out_dir)
    if image_files is not None and len(image_files) != len(annotations):
        raise AnnotationError(f"export_labelme: {len(image_files)} image files for {len(annotations)} annotations")
    planned: dict[Path, ImageAnnotation] = {}
    for k, annotation in enumerate(annotations):
        target = out_dir / f"{Path(annotation.filename).stem}.json"
        if target in planned:
            raise AnnotationError(f"{annotation.filename}: its labelme file {target.name} would overwrite another one")
        annotation.clipped_boxes()  # raises before anything is written
        if image_files is not None:
            relative = Path(os.path.relpath(Path(image_files[k]).resolve(), out_dir.resolve())).as_posix()
            annotation = ImageAnnotation(relative, annotation.width, annotation.height, boxes=annotation.boxes)
        planned[target] = annotation
    return [write_labelme_json(annotation, target) for target, annotation in planned.items()]


def _load(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: cannot read ({exc})") from None
    except RecursionError:
        raise AnnotationError(f"{path}: nested too deeply to be a labelme file") from None
    if not isinstance(document, dict):
        raise AnnotationError(f"{path}: expected a labelme object with 'shapes' and 'imagePath', found a JSON {type(document).__name__}")
    return document


def _shape_type(shape, where: str) -> str:
    if not isinstance(shape, dict) or not isinstance(shape.get("label"), str) or not shape["label"].strip():
        raise AnnotationError(f"{where}: needs a non-empty 'label'")
    kind = shape.get("shape_type") or "polygon"  # labelme's default for files that omit it
    if not isinstance(kind, str):
        raise AnnotationError(f"{where}: 'shape_type' {kind!r} is not a string")
    return kind


def _points(shape: dict, where: str) -> list[tuple[float, float]]:
    points = shape.get("points")
    if not isinstance(points, list) or not points:
        raise AnnotationError(f"{where}: 'points' must be a list of [x, y], got {points!r}")
    result = []
    for point in points:
        if not (isinstance(point, list) and len(point) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in point)):
            raise AnnotationError(f"{where}: point {point!r} is not [x, y] with finite numbers")
        result.append((float(point[0]), float(point[1])))
    return result


def _shape_box(shape: dict, kind: str, where: str) -> Box:
    points = _points(shape, where)
    if kind == "rectangle":
        if len(points) != 2:
            raise AnnotationError(f"{where}: a rectangle needs 2 points, got {len(points)}")
    elif kind == "circle":
        if len(points) != 2:
            raise AnnotationError(f"{where}: a circle needs 2 points (centre, rim), got {len(points)}")
        (cx, cy), (px, py) = points
        r = math.hypot(px - cx, py - cy)
        return (cx - r, cy - r, cx + r, cy + r)
    elif kind != "polygon":
        raise AnnotationError(f"{where}: unknown shape_type {kind!r}")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))

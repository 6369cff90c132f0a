"""YOLO text labels: one ``<image stem>.txt`` per image plus ``classes.txt``.

Each line of an image's file is one box::

    <class> <cx> <cy> <w> <h>

``class`` is the 0-based index into ``classes.txt`` (one name per line); the centre
and size are fractions of the image width and height (0..1, six decimals), i.e.
``cx = (x1 + x2) / 2 / W`` and ``w = (x2 - x1) / W`` in the continuous pixels of
:mod:`.model`. An image without boxes gets an empty file. YOLO has no ``difficult``,
``truncated`` or ``pose``: every box is written as an ordinary box and the flags are
lost. Six decimals keep a box within ``W * 5e-7`` pixels of the original.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

from ..atomic import atomic_write_text
from .model import AnnotationError, Box, BoxAnnotation, ImageAnnotation, fit_box

log = logging.getLogger(__name__)

CLASSES_FILE = "classes.txt"


def export_yolo(annotations: Sequence[ImageAnnotation], class_names: Sequence[str], out_dir: str | os.PathLike) -> list[Path]:
    """Write YOLO labels for ``annotations`` into ``out_dir`` (created if needed), each file atomically.

    Returns:
        The label files written, in ``annotations`` order (``classes.txt`` last).

    Raises:
        AnnotationError: two images share a stem (or one is named ``classes``), a
            label is not in ``class_names``, or a box has no area inside its image.
            All of it is checked before the first file is written.
    """
    if len(set(class_names)) != len(class_names):
        raise AnnotationError(f"export_yolo: class names must be unique, got {list(class_names)}")
    index = {name: k for k, name in enumerate(class_names)}
    out_dir = Path(out_dir)
    contents: dict[Path, str] = {}
    for annotation in annotations:
        target = out_dir / f"{Path(annotation.filename).stem}.txt"
        if target in contents or target.name == CLASSES_FILE:
            raise AnnotationError(f"{annotation.filename}: its label file {target.name} would overwrite another one")
        lines = []
        for b in annotation.clipped_boxes():
            if b.label not in index:
                raise AnnotationError(f"{annotation.filename}: label {b.label!r} is not one of the classes {list(class_names)}")
            lines.append(_yolo_line(index[b.label], b.box, annotation.width, annotation.height))
        contents[target] = "".join(line + "\n" for line in lines)
    contents[out_dir / CLASSES_FILE] = "".join(name + "\n" for name in class_names)
    out_dir.mkdir(parents=True, exist_ok=True)
    for target, text in contents.items():
        atomic_write_text(target, text)
    return list(contents)


def read_yolo_txt(path: str | os.PathLike, width: int, height: int, class_names: Sequence[str]) -> list[BoxAnnotation]:
    """Read one image's YOLO label file.

    Args:
        width, height: the image size in pixels (YOLO files store fractions).
        class_names: ``class_names[k]`` names class index ``k`` (see ``classes.txt``).

    Returns:
        The boxes in file order, ``(x1, y1, x2, y2)`` continuous pixels, clipped to the
        image (clipping by more than a pixel is logged). Blank lines are ignored.

    Raises:
        AnnotationError: the file cannot be read, or a line does not have five fields,
            has an unknown class index, a non-finite number, or a box with no area;
            the message names the file and the line number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: cannot read ({exc})") from None
    boxes = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        label, box = _parse_line(line, class_names, width, height, where)
        box, warning = fit_box(box, width, height, where)
        if warning:
            log.warning(warning)
        boxes.append(BoxAnnotation(label=label, box=box))
    return boxes


def _yolo_line(class_index: int, box: Box, width: int, height: int) -> str:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
    w, h = (x2 - x1) / width, (y2 - y1) / height
    return f"{class_index} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


def _parse_line(line: str, class_names: Sequence[str], width: int, height: int, where: str) -> tuple[str, Box]:
    """``class cx cy w h`` -> ``(label, (x1, y1, x2, y2))`` in pixels, unclipped."""
    fields = line.split()
    if len(fields) != 5:
        raise AnnotationError(f"{where}: expected 'class cx cy w h', got {line.strip()!r}")
    if not fields[0].isdecimal() or int(fields[0]) >= len(class_names):
        raise AnnotationError(f"{where}: class index {fields[0]!r} is not in 0..{len(class_names) - 1}")
    try:
        cx, cy, w, h = (float(v) for v in fields[1:])
    except ValueError:
        raise AnnotationError(f"{where}: {line.strip()!r} has a value that is not a number") from None
    if not all(math.isfinite(v) for v in (cx, cy, w, h)) or w <= 0 or h <= 0:
        raise AnnotationError(f"{where}: {line.strip()!r} needs finite numbers and a positive width and height")
    box = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
    return class_names[int(fields[0])], box

"""YOLO text labels: one ``<image stem>.txt`` per image plus ``classes.txt`` or ``data.yaml``.

Each line of an image's file is one box::

    <class> <cx> <cy> <w> <h>

``class`` is the 0-based index into ``classes.txt`` (one name per line) or the
``names`` of ``data.yaml``; the centre and size are fractions of the image width and
height (0..1, six decimals), i.e. ``cx = (x1 + x2) / 2 / W`` and ``w = (x2 - x1) / W``
in the continuous pixels of :mod:`.model`. A line ``<class> x1 y1 x2 y2 x3 y3 ...``
(an Ultralytics segmentation polygon, normalised) is read as the polygon's bounding
box, as Ultralytics' detection loader does. An image without boxes gets an empty
file. YOLO has no ``difficult``, ``truncated`` or ``pose``: every box is written as an
ordinary box and the flags are lost. Six decimals keep a box within ``W * 5e-7``
pixels of the original.

An Ultralytics dataset (:func:`export_yolo_dataset`, read by
:class:`frcnn_core.data.YoloDataset`) puts images in ``images/<split>/``, their labels
in ``labels/<split>/`` (Ultralytics finds a label by replacing the last ``/images/`` of
the image's path with ``/labels/`` and its extension with ``.txt``), and a
``data.yaml`` beside them::

    train: images/train        # relative to the yaml's folder (no 'path' key)
    val: images/val
    names: {0: cat, 1: dog}
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import yaml

from ..files.atomic import atomic_write_bytes, atomic_write_text
from .model import AnnotationError, Box, BoxAnnotation, ImageAnnotation, fit_box

log = logging.getLogger(__name__)

CLASSES_FILE = "classes.txt"
DATA_YAML = "data.yaml"

# Coordinates above this are taken for pixels, not fractions (exporters write 1.000001).
_NORMALISED_LIMIT = 1.01


def export_yolo(annotations: Sequence[ImageAnnotation], class_names: Sequence[str], out_dir: str | os.PathLike) -> list[Path]:
    """Write YOLO labels for ``annotations`` into ``out_dir`` (created if needed), each file atomically.

    Returns:
        The label files written, in ``annotations`` order (``classes.txt`` last).

    Raises:
        AnnotationError: two images share a stem (or one is named ``classes``), a
            label is not in ``class_names``, or a box has no area inside its image.
            All of it is checked before the first file is written.
    """
    out_dir = Path(out_dir)
    contents = _label_files(annotations, class_names, out_dir)
    contents[out_dir / CLASSES_FILE] = "".join(name + "\n" for name in class_names)
    _write_all(contents)
    return list(contents)


def _label_files(annotations: Sequence[ImageAnnotation], class_names: Sequence[str], out_dir: Path) -> dict[Path, str]:
    """The text of each image's label file in ``out_dir``; raises what :func:`export_yolo` documents."""
    if len(set(class_names)) != len(class_names):
        raise AnnotationError(f"export_yolo: class names must be unique, got {list(class_names)}")
    index = {name: k for k, name in enumerate(class_names)}
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
    return contents


def _write_all(contents: dict[Path, str]) -> None:
    for target in contents:
        target.parent.mkdir(parents=True, exist_ok=True)
    for target, text in contents.items():
        atomic_write_text(target, text)


def export_yolo_dataset(
    annotations: Sequence[ImageAnnotation],
    class_names: Sequence[str],
    root: str | os.PathLike,
    split: str = "train",
    image_files: Sequence[str | os.PathLike] | None = None,
) -> Path:
    """Write an Ultralytics dataset (layout in the module docstring) and return its ``data.yaml``.

    Labels go to ``root/labels/<split>/`` (no ``classes.txt``: the names are in
    ``data.yaml``, and tools that read every ``.txt`` of a label folder would take it
    for labels) and, when ``image_files`` (one per annotation) are given, copies of
    the images to ``root/images/<split>/`` (named ``annotation.filename``). ``data.yaml``
    gains the ``split`` entry and keeps its others, so calling this for ``train`` and
    then ``val`` builds a two-split set. Every file is written atomically.

    Raises:
        AnnotationError: what :func:`export_yolo` refuses, ``image_files`` does not
            match ``annotations`` (or two share a file name), or an existing
            ``data.yaml`` has other class names.
            Nothing is written then.
    """
    root = Path(root)
    yaml_path = root / DATA_YAML
    document = read_data_yaml(yaml_path) if yaml_path.is_file() else {}
    if document and document["names"] != list(class_names):
        raise AnnotationError(f"{yaml_path}: its names {document['names']} differ from {list(class_names)}; export into another folder")
    if image_files is not None and len(image_files) != len(annotations):
        raise AnnotationError(f"export_yolo_dataset: {len(image_files)} image files for {len(annotations)} annotations")
    labels = _label_files(annotations, class_names, root / "labels" / split)
    if image_files is not None and len({Path(a.filename).name for a in annotations}) != len(annotations):
        raise AnnotationError(f"export_yolo_dataset: two images share a file name; their copies in images/{split} would collide")
    _write_all(labels)
    if image_files is not None:
        images = root / "images" / split
        images.mkdir(parents=True, exist_ok=True)
        for annotation, source in zip(annotations, image_files):
            atomic_write_bytes(images / Path(annotation.filename).name, Path(source).read_bytes())
    document = {key: value for key, value in document.items() if key != "names"}
    document[split] = f"images/{split}"
    document["names"] = dict(enumerate(class_names))
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    atomic_write_text(yaml_path, text)
    return yaml_path


def read_data_yaml(path: str | os.PathLike) -> dict:
    """An Ultralytics ``data.yaml`` as a dict, with ``names`` made a list of strings.

    ``names`` may be a list or a ``{index: name}`` mapping with indices ``0..C-1``.

    Raises:
        AnnotationError: unreadable, not YAML, not a mapping, or ``names`` missing or
            malformed; the message names the file and the value.
    """
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: cannot read ({exc})") from None
    except yaml.YAMLError as exc:
        raise AnnotationError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(document, dict):
        raise AnnotationError(f"{path}: expected a mapping with 'names' and 'train'/'val', found {type(document).__name__}")
    names = document.get("names")
    if isinstance(names, dict):
        if sorted(names) != list(range(len(names))):
            raise AnnotationError(f"{path}: 'names' keys must be the class indices 0..{len(names) - 1}, got {list(names)}")
        names = [names[k] for k in range(len(names))]
    if not isinstance(names, list) or not names:
        raise AnnotationError(f"{path}: 'names' must be a non-empty list or {{index: name}} mapping, got {names!r}")
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        raise AnnotationError(f"{path}: 'names' has duplicates: {names}")
    return {**document, "names": names}


def read_classes_txt(path: str | os.PathLike) -> list[str]:
    """The class names of a ``classes.txt`` file (one per line, blank lines ignored).

    Raises:
        AnnotationError: unreadable, empty, or a name repeated.
    """
    path = Path(path)
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: cannot read ({exc})") from None
    if not names or len(set(names)) != len(names):
        raise AnnotationError(f"{path}: expected distinct class names, one per line, got {names}")
    return names


def read_yolo_txt(
    path: str | os.PathLike, width: int, height: int, class_names: Sequence[str], problems: list[str] | None = None
) -> list[BoxAnnotation]:
    """Read one image's YOLO label file.

    Args:
        width, height: the image size in pixels (YOLO files store fractions).
        class_names: ``class_names[k]`` names class index ``k`` (see ``classes.txt``).
        problems: when given, a bad line is reported here (naming the file and the
            line) and skipped, and the other lines are kept; so are clipping warnings
            and a note on polygon lines. When ``None`` a bad line raises.

    Returns:
        The boxes in file order, ``(x1, y1, x2, y2)`` continuous pixels, clipped to the
        image (clipping by more than a pixel is logged or reported). Blank lines are
        ignored; polygon lines become their bounding box.

    Raises:
        AnnotationError: the file cannot be read; without ``problems`` also a line
            that does not have five fields (or a polygon's), has an unknown class
            index, a non-finite or non-normalised number, or a box with no area. The
            message names the file and the line number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: cannot read ({exc})") from None
    boxes = []
    polygons = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            label, box, polygon = _parse_line(line, class_names, width, height, where)
            box, warning = fit_box(box, width, height, where)
        except AnnotationError as exc:
            if problems is None:
                raise
            problems.append(f"{exc}; skipped")
            continue
        if polygon:
            polygons.append(number)
        if warning and problems is not None:
            problems.append(warning)
        elif warning:
            log.warning(warning)
        boxes.append(BoxAnnotation(label=label, box=box))
    if polygons:
        note = f"{path}: {len(polygons)} polygon lines (e.g. line {polygons[0]}) read as their bounding boxes"
        if problems is not None:
            problems.append(note)
        else:
            log.info(note)
    return boxes


def _yolo_line(class_index: int, box: Box, width: int, height: int) -> str:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
    w, h = (x2 - x1) / width, (y2 - y1) / height
    return f"{class_index} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


def _parse_line(line: str, class_names: Sequence[str], width: int, height: int, where: str) -> tuple[str, Box, bool]:
    """``class cx cy w h`` (or ``class x1 y1 x2 y2 x3 y3 ...``) -> ``(label, (x1, y1, x2, y2), is_polygon)``
    in pixels, unclipped."""
    fields = line.split()
    polygon = len(fields) >= 7 and len(fields) % 2 == 1
    if len(fields) != 5 and not polygon:
        raise AnnotationError(f"{where}: expected 'class cx cy w h', got {line.strip()!r}")
    if not fields[0].isdecimal() or int(fields[0]) >= len(class_names):
        raise AnnotationError(f"{where}: class index {fields[0]!r} is not in 0..{len(class_names) - 1}")
    try:
        values = [float(v) for v in fields[1:]]
    except ValueError:
        raise AnnotationError(f"{where}: {line.strip()!r} has a value that is not a number") from None
    if not all(math.isfinite(v) for v in values):
        raise AnnotationError(f"{where}: {line.strip()!r} needs finite numbers and a positive width and height")
    if max(abs(v) for v in values) > _NORMALISED_LIMIT:
        raise AnnotationError(f"{where}: {line.strip()!r} has coordinates outside 0..1 (YOLO stores fractions of the image size, not pixels)")
    if polygon:
        xs, ys = values[0::2], values[1::2]
        box = (min(xs) * width, min(ys) * height, max(xs) * width, max(ys) * height)
        return class_names[int(fields[0])], box, True
    cx, cy, w, h = values
    if w <= 0 or h <= 0:
        raise AnnotationError(f"{where}: {line.strip()!r} needs finite numbers and a positive width and height")
    box = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
    return class_names[int(fields[0])], box, False

"""CVAT for images 1.1 XML: every image of a task in one file, as CVAT exports and imports it.

Layout (what :func:`export_cvat` writes and :func:`read_cvat_xml` reads)::

    <annotations>
      <version>1.1</version>
      <meta><task><name>…</name><size>2</size><labels>
        <label><name>cat</name><type>rectangle</type><attributes/></label>
      </labels></task></meta>
      <image id="0" name="cat.jpg" width="500" height="375" subset="Train">
        <box label="cat" source="manual" occluded="0" xtl="10.50" ytl="20.00" xbr="200.25" ybr="300.00" z_order="0">
          <attribute name="colour">black</attribute>
        </box>
        <polygon label="cat" points="10.0,20.0;50.0,20.0;30.0,60.0" occluded="0" z_order="0"/>
      </image>
    </annotations>

Coordinates are continuous pixels with the origin at the image's top-left corner, the
same convention as :mod:`.model` (a box over a whole ``W x H`` image is
``0, 0, W, H``), so they are read and written unchanged (written with full precision,
so a file round-trips exactly). A box with a ``rotation`` becomes its axis-aligned
bounding box; a ``<polygon>`` or ``<ellipse>`` becomes its bounding box (each said
once per file in the warnings); polylines, points, masks, cuboids and skeletons are
not boxes and are skipped (counted in one warning). ``occluded``, ``z_order`` and
attributes are not kept; a VOC ``difficult`` flag is written and read as the
attribute ``difficult`` (``true``).

Tracks of a CVAT video export (``<track label=…><box frame=F outside=0 …/></track>``)
add their boxes to frame ``F``: the ``<image id=F>`` when the file lists images, or
else a frame named ``frame_<F:06d>`` (CVAT's name for video frames) of the task's
``original_size`` (only frames with a box are listed then). Boxes marked ``outside="1"`` (the object has left) are skipped.

Class names are the ``<label>`` names of the ``<meta>`` section in file order (tag
and skeleton-part labels excluded), or the labels used, sorted, when it has none.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..files.atomic import atomic_write_text
from .model import AnnotationError, Box, BoxAnnotation, ImageAnnotation, fit_box
from .voc import parse_xml

VERSION = "1.1"
# Shapes that are not boxes; skipped with a count.
_NOT_BOXES = ("polyline", "points", "mask", "cuboid", "skeleton")
_PLURALS = {"box": "rotated boxes", "polygon": "polygons", "ellipse": "ellipses", "polyline": "polylines", "points": "point sets",
            "mask": "masks", "cuboid": "cuboids", "skeleton": "skeletons"}
DIFFICULT_ATTRIBUTE = "difficult"


@dataclass
class CvatImage:
    """One ``<image>`` (or video frame) of a CVAT file.

    Attributes:
        image_id: CVAT's frame id (``id`` attribute).
        subset: the project's subset (``Train``, ``Validation``...), ``""`` if none.
        annotation: name, size and boxes (continuous pixels, clipped to the image).
    """

    image_id: int
    subset: str
    annotation: ImageAnnotation


@dataclass
class CvatFile:
    """What :func:`read_cvat_xml` found: the images, the class names and what it skipped."""

    images: list[CvatImage]
    class_names: list[str]
    warnings: list[str] = field(default_factory=list)


def read_cvat_xml(path: str | os.PathLike) -> CvatFile:
    """Read a CVAT for images 1.1 (or for video 1.1) export (see the module docstring).

    A malformed shape (a missing label, a coordinate that is not a finite number, no
    area inside its image) is skipped with a warning naming the file, the image and
    the shape; so is an image without a name or a positive size, with its shapes.

    Raises:
        AnnotationError: the file cannot be read, is not well-formed XML, or its root
            is not ``<annotations>``.
    """
    path = Path(path)
    root = parse_xml(path)
    if root.tag != "annotations":
        raise AnnotationError(f"{path}: not a CVAT XML file (the root is <{root.tag}>, expected <annotations>)")
    warnings: list[str] = []
    shapes = _ShapeCounts()
    images: dict[int, CvatImage] = {}
    for k, element in enumerate(root.iter("image")):
        image = _read_image(element, k, path, shapes, warnings)
        if image is None:
            continue
        if image.image_id in images:
            warnings.append(f"{path}: image #{k} ({image.annotation.filename!r}): duplicate id {image.image_id}; skipped")
            continue
        images[image.image_id] = image
    _read_tracks(root, path, images, shapes, warnings)
    warnings += shapes.notes(path)
    declared = _declared_labels(root)
    names = declared or sorted({b.label for image in images.values() for b in image.annotation.boxes})
    return CvatFile(sorted(images.values(), key=lambda image: image.image_id), names, warnings)


def export_cvat(
    annotations: Sequence[ImageAnnotation],
    class_names: Sequence[str],
    path: str | os.PathLike,
    image_ids: Sequence[int] | None = None,
    task_name: str = "exported by frcnn-viewer",
) -> Path:
    """Write ``annotations`` as one CVAT for images 1.1 XML file, atomically.

    Args:
        class_names: the task's labels, in order; every box label must be one.
        image_ids: CVAT's frame id of each image (unique); ``0..N-1`` when not given.

    Raises:
        AnnotationError: a label is not in ``class_names``, a box has no area inside
            its image, or ``image_ids`` does not fit (nothing is written).
    """
    ids = list(range(len(annotations))) if image_ids is None else [int(i) for i in image_ids]
    if len(ids) != len(annotations) or len(set(ids)) != len(ids):
        raise AnnotationError(f"export_cvat: image_ids must be {len(annotations)} unique ids, got {ids!r}")
    known = set(class_names)
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = VERSION
    task = ET.SubElement(ET.SubElement(root, "meta"), "task")
    ET.SubElement(task, "name").text = task_name
    ET.SubElement(task, "size").text = str(len(annotations))
    ET.SubElement(task, "mode").text = "annotation"
    labels = ET.SubElement(task, "labels")
    for name in class_names:
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = name
        ET.SubElement(label, "type").text = "rectangle"
        ET.SubElement(label, "attributes")
    for image_id, annotation in zip(ids, annotations):
        image = ET.SubElement(root, "image", {"id": str(image_id), "name": annotation.filename, "width": str(annotation.width), "height": str(annotation.height)})
        for b in annotation.clipped_boxes():
            if b.label not in known:
                raise AnnotationError(f"{annotation.filename}: label {b.label!r} is not one of the classes {list(class_names)}")
            x1, y1, x2, y2 = (repr(float(v)) for v in b.box)
            box = ET.SubElement(image, "box", {"label": b.label, "source": "manual", "occluded": "0", "xtl": x1, "ytl": y1, "xbr": x2, "ybr": y2, "z_order": "0"})
            if b.difficult:
                ET.SubElement(box, "attribute", {"name": DIFFICULT_ATTRIBUTE}).text = "true"
    ET.indent(root, space="  ")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")
    return path


class _ShapeCounts:
    """Which non-box shapes a file had, for one warning each."""

    def __init__(self) -> None:
        self.as_bounds: dict[str, tuple[int, str]] = {}
        self.skipped: dict[str, tuple[int, str]] = {}

    def add(self, table: dict[str, tuple[int, str]], tag: str, where: str) -> None:
        count, first = table.get(tag, (0, where))
        table[tag] = (count + 1, first)

    def notes(self, path: Path) -> list[str]:
        def first_of(where: str) -> str:
            return where.removeprefix(f"{path}: ")

        notes = [f"{path}: {n} {_PLURALS[tag]} read as their bounding boxes (first: {first_of(first)})" for tag, (n, first) in self.as_bounds.items()]
        notes += [f"{path}: {n} {_PLURALS[tag]} are not boxes and were skipped (first: {first_of(first)})" for tag, (n, first) in self.skipped.items()]
        return notes


def _declared_labels(root: ET.Element) -> list[str]:
    """The box-capable labels of ``<meta>`` in file order, without duplicates."""
    names: list[str] = []
    meta = root.find("meta")
    if meta is None:
        return names
    for label in meta.iter("label"):
        name = (label.findtext("name") or "").strip()
        if name and label.findtext("type", "").strip() != "tag" and not (label.findtext("parent") or "").strip() and name not in names:
            names.append(name)
    return names


def _number(element: ET.Element, key: str, where: str) -> float:
    text = element.get(key)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise AnnotationError(f"{where}: {key}={text!r} is not a number") from None
    if not math.isfinite(value):
        raise AnnotationError(f"{where}: {key}={text!r} is not finite")
    return value


def _size(element: ET.Element, where: str) -> tuple[int, int]:
    width, height = _number(element, "width", where), _number(element, "height", where)
    if not (width.is_integer() and height.is_integer() and width >= 1 and height >= 1):
        raise AnnotationError(f"{where}: width={element.get('width')!r} height={element.get('height')!r} is not a positive whole size")
    return int(width), int(height)


def _rotated_bounds(box: Box, degrees: float) -> Box:
    """The axis-aligned bounds of ``box`` turned by ``degrees`` about its centre (CVAT's rotation)."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    c, s = abs(math.cos(math.radians(degrees))), abs(math.sin(math.radians(degrees)))
    half_w = ((x2 - x1) * c + (y2 - y1) * s) / 2
    half_h = ((x2 - x1) * s + (y2 - y1) * c) / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _shape_box(element: ET.Element, where: str, shapes: _ShapeCounts) -> Box:
    """The box of a ``<box>``, ``<polygon>`` or ``<ellipse>``, unclipped."""
    if element.tag == "box":
        box = tuple(_number(element, key, where) for key in ("xtl", "ytl", "xbr", "ybr"))
        if element.get("rotation") is not None and _number(element, "rotation", where) % 360:
            shapes.add(shapes.as_bounds, "box", where)
            return _rotated_bounds(box, _number(element, "rotation", where))
        return box
    shapes.add(shapes.as_bounds, element.tag, where)
    if element.tag == "ellipse":
        cx, cy, rx, ry = (_number(element, key, where) for key in ("cx", "cy", "rx", "ry"))
        return (cx - rx, cy - ry, cx + rx, cy + ry)
    try:
        points = [tuple(float(v) for v in pair.split(",")) for pair in element.get("points", "").split(";")]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
    except (ValueError, IndexError):
        raise AnnotationError(f"{where}: points={element.get('points')!r} is not 'x,y;x,y;...'") from None
    return (min(xs), min(ys), max(xs), max(ys))


def _box_annotation(element: ET.Element, label: str, width: int, height: int, where: str, shapes: _ShapeCounts) -> tuple[BoxAnnotation, str | None]:
    label = label.strip()
    if not label:
        raise AnnotationError(f"{where}: no label")
    where = f"{where} ({label!r})"
    box, warning = fit_box(_shape_box(element, where, shapes), width, height, where)
    difficult = any(a.get("name") == DIFFICULT_ATTRIBUTE and (a.text or "").strip().lower() == "true" for a in element.iter("attribute"))
    return BoxAnnotation(label=label, box=box, difficult=difficult), warning


def _add_shape(element: ET.Element, label: str, annotation: ImageAnnotation, where: str, shapes: _ShapeCounts, warnings: list[str]) -> None:
    """Add the box of ``element`` (labelled ``label``) to ``annotation``, or report why not."""
    if element.tag in _NOT_BOXES:
        shapes.add(shapes.skipped, element.tag, where)
        return
    if element.tag not in ("box", "polygon", "ellipse"):
        return  # <tag> (an image-level label) and unknown elements carry no box
    try:
        box, warning = _box_annotation(element, label, annotation.width, annotation.height, where, shapes)
    except AnnotationError as exc:
        warnings.append(f"{exc}; skipped")
        return
    if warning:
        warnings.append(warning)
    annotation.boxes.append(box)


def _read_image(element: ET.Element, k: int, path: Path, shapes: _ShapeCounts, warnings: list[str]) -> CvatImage | None:
    name = element.get("name") or ""
    where = f"{path}: image #{k} ({name!r})"
    try:
        if not name:
            raise AnnotationError(f"{where}: no name")
        image_id = _number(element, "id", where) if element.get("id") is not None else float(k)
        if not image_id.is_integer():
            raise AnnotationError(f"{where}: id={element.get('id')!r} is not a whole number")
        width, height = _size(element, where)
    except AnnotationError as exc:
        warnings.append(f"{exc}; skipped with its shapes")
        return None
    annotation = ImageAnnotation(name, width, height)
    for n, shape in enumerate(element, start=1):
        _add_shape(shape, shape.get("label") or "", annotation, f"{where} <{shape.tag}> #{n}", shapes, warnings)
    return CvatImage(int(image_id), element.get("subset", ""), annotation)


def _frame_size(root: ET.Element, path: Path) -> tuple[int, int]:
    """``(width, height)`` of the video's frames from ``<meta>``'s ``original_size``."""
    original = root.find("meta//original_size")
    if original is None:
        raise AnnotationError(f"{path}: tracks without <image> elements need <original_size> in <meta>")
    try:
        width, height = int(original.findtext("width", "")), int(original.findtext("height", ""))
    except ValueError:
        raise AnnotationError(f"{path}: <original_size> is not two whole numbers") from None
    return width, height


def _read_tracks(root: ET.Element, path: Path, images: dict[int, CvatImage], shapes: _ShapeCounts, warnings: list[str]) -> None:
    """Add the boxes of every ``<track>`` to its frames (see the module docstring)."""
    tracks = root.findall("track")
    if not tracks:
        return
    listed = bool(images)
    size = None
    for track in tracks:
        where = f"{path}: track {track.get('id', '?')}"
        label = track.get("label") or ""
        for n, shape in enumerate(track, start=1):
            if shape.get("outside", "0") == "1":
                continue
            try:
                frame = _number(shape, "frame", f"{where} <{shape.tag}> #{n}")
            except AnnotationError as exc:
                warnings.append(f"{exc}; skipped")
                continue
            frame = int(frame)
            image = images.get(frame)
            if image is None and listed:
                warnings.append(f"{where}: frame {frame} is not an <image> of the file; box skipped")
                continue
            if image is None:
                if size is None:
                    size = _frame_size(root, path)
                image = images[frame] = CvatImage(frame, "", ImageAnnotation(f"frame_{frame:06d}", size[0], size[1]))
            _add_shape(shape, label, image.annotation, f"{where} frame {frame}", shapes, warnings)

"""PASCAL VOC XML, one file per image, in the layout labelImg reads and writes.

Schema (labelImg's; ``verified`` and ``path`` are optional)::

    <annotation verified="yes">
        <folder>images</folder>
        <filename>cat.jpg</filename>
        <path>/data/images/cat.jpg</path>
        <source><database>Unknown</database></source>
        <size><width>500</width><height>375</height><depth>3</depth></size>
        <segmented>0</segmented>
        <object>
            <name>cat</name>
            <pose>Unspecified</pose>
            <truncated>0</truncated>
            <difficult>0</difficult>
            <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>500</xmax><ymax>375</ymax></bndbox>
        </object>
    </annotation>

VOC coordinates are 1-based and inclusive: ``xmin = 1 .. xmax = W`` spans the whole
image. In our continuous convention (:mod:`.model`) that is
``x1 = xmin - 1, y1 = ymin - 1, x2 = xmax, y2 = ymax``, so the image is ``(0, W)``.
The reader accepts integer or float coordinates; the writer rounds to integers only
when writing (``xmin = round(x1) + 1``, ``xmax = round(x2)``, Python's ``round``), so
a file read and written again has exactly the same integers and a box never drifts by
a pixel per round trip.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from ..files.atomic import atomic_write_text
from .model import AnnotationError, Box, BoxAnnotation, ImageAnnotation, fit_box

_BNDBOX_TAGS = ("xmin", "ymin", "xmax", "ymax")


def voc_path_for_image(image_path: str | os.PathLike, annotation_dir: str | os.PathLike | None = None) -> Path:
    """The VOC file of an image: ``image.jpg`` -> ``image.xml`` beside it, or in ``annotation_dir``."""
    image_path = Path(image_path)
    folder = image_path.parent if annotation_dir is None else Path(annotation_dir)
    return folder / f"{image_path.stem}.xml"


def read_voc_xml(path: str | os.PathLike, strict: bool = True) -> ImageAnnotation:
    """Read one VOC XML file (labelImg's schema, see the module docstring).

    Parsing uses ``defusedxml``: entity declarations (billion-laughs bombs) and external
    references are refused.

    Args:
        strict: when ``True`` a malformed ``<object>`` (missing or non-numeric
            coordinates, a box with no area inside the image, a bad flag) raises;
            when ``False`` it is skipped and reported in the result's ``warnings``.

    Returns:
        The annotation, boxes in ``(x1, y1, x2, y2)`` continuous pixels. Boxes that
        stick out of the image are clipped; by more than a pixel, with a warning.

    Raises:
        AnnotationError: the file cannot be read, is not XML, contains entities, is
            not a VOC annotation, or lacks a valid ``<filename>``/``<size>``; in strict
            mode also a malformed object. The message names the file and the element.
    """
    path = Path(path)
    root = parse_xml(path)
    if root.tag != "annotation":
        raise AnnotationError(f"{path}: the root element is <{root.tag}>, not <annotation>")
    filename = _text(root, "filename")
    if not filename:
        raise AnnotationError(f"{path}: <filename> is missing or empty")
    size = root.find("size")
    if size is None:
        raise AnnotationError(f"{path}: <size> is missing")
    width = _count(size, "width", path)
    height = _count(size, "height", path)
    depth = _count(size, "depth", path, default=3)
    annotation = ImageAnnotation(
        filename=filename,
        width=width,
        height=height,
        depth=depth,
        verified=root.get("verified", "").strip().lower() == "yes",
        folder=_text(root, "folder"),
        path=_text(root, "path"),
        database=_text(root, "source/database") or "Unknown",
        segmented=_count(root, "segmented", path, default=0, minimum=0),
    )
    for index, obj in enumerate(root.findall("object"), start=1):
        try:
            box, warning = _read_object(obj, width, height, f"{path}: <object> #{index}")
        except AnnotationError as exc:
            if strict:
                raise
            annotation.warnings.append(f"{exc}; object skipped")
            continue
        annotation.boxes.append(box)
        if warning:
            annotation.warnings.append(warning)
    return annotation


def write_voc_xml(annotation: ImageAnnotation, path: str | os.PathLike) -> Path:
    """Write ``annotation`` as labelImg-style VOC XML (tab-indented), atomically.

    Boxes are clipped to the image and converted to 1-based inclusive integers; a box
    thinner than a pixel after rounding is written one pixel wide. The folder of
    ``path`` is created if needed.

    Raises:
        AnnotationError: a box has no area inside the image (nothing is written).
    """
    boxes = annotation.clipped_boxes()
    root = ET.Element("annotation", {"verified": "yes"} if annotation.verified else {})
    _add(root, "folder", annotation.folder)
    _add(root, "filename", annotation.filename)
    if annotation.path:
        _add(root, "path", annotation.path)
    _add(ET.SubElement(root, "source"), "database", annotation.database)
    size = ET.SubElement(root, "size")
    for tag, value in (("width", annotation.width), ("height", annotation.height), ("depth", annotation.depth)):
        _add(size, tag, value)
    _add(root, "segmented", annotation.segmented)
    for b in boxes:
        obj = ET.SubElement(root, "object")
        _add(obj, "name", b.label)
        _add(obj, "pose", b.pose)
        _add(obj, "truncated", int(b.truncated))
        _add(obj, "difficult", int(b.difficult))
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(_BNDBOX_TAGS, box_to_voc(b.box)):
            _add(bndbox, tag, value)
    ET.indent(root, space="\t")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, ET.tostring(root, encoding="unicode") + "\n")
    return path


def box_to_voc(box: Box) -> tuple[int, int, int, int]:
    """``(x1, y1, x2, y2)`` continuous pixels -> VOC ``(xmin, ymin, xmax, ymax)``, 1-based inclusive."""
    xmin, ymin = round(box[0]) + 1, round(box[1]) + 1
    return xmin, ymin, max(round(box[2]), xmin), max(round(box[3]), ymin)


def box_from_voc(xmin: float, ymin: float, xmax: float, ymax: float) -> Box:
    """VOC ``(xmin, ymin, xmax, ymax)``, 1-based inclusive -> ``(x1, y1, x2, y2)`` continuous pixels."""
    return (xmin - 1.0, ymin - 1.0, float(xmax), float(ymax))


def parse_xml(path: Path) -> ET.Element:
    """The root of the XML file at ``path``, parsed safely (defusedxml); one-line
    :class:`AnnotationError` naming the file when it is unsafe, malformed or unreadable."""
    try:
        return SafeET.parse(path).getroot()
    except defusedxml.DefusedXmlException as exc:
        raise AnnotationError(f"{path}: refused unsafe XML ({exc})") from None
    except ET.ParseError as exc:
        raise AnnotationError(f"{path}: not well-formed XML ({exc})") from None
    except OSError as exc:
        raise AnnotationError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _add(parent: ET.Element, tag: str, value: object) -> None:
    ET.SubElement(parent, tag).text = str(value)


def _text(parent: ET.Element, tag: str) -> str:
    """The stripped text of ``parent/tag``, ``""`` when absent or empty."""
    element = parent.find(tag)
    return (element.text or "").strip() if element is not None else ""


def _number(parent: ET.Element, tag: str, where: str | Path) -> float:
    """The finite number in ``parent/tag``; raises naming ``where`` and the element."""
    element = parent.find(tag)
    if element is None:
        raise AnnotationError(f"{where}: <{tag}> is missing")
    text = (element.text or "").strip()
    try:
        value = float(text)
    except ValueError:
        raise AnnotationError(f"{where}: <{tag}> {text!r} is not a number") from None
    if not math.isfinite(value):
        raise AnnotationError(f"{where}: <{tag}> {text!r} is not finite")
    return value


def _count(parent: ET.Element, tag: str, where: str | Path, default: int | None = None, minimum: int = 1) -> int:
    """A whole number ``>= minimum`` in ``parent/tag`` (``"500"`` or ``"500.0"``); ``default`` when absent."""
    if default is not None and parent.find(tag) is None:
        return default
    value = _number(parent, tag, where)
    if not value.is_integer() or value < minimum:
        raise AnnotationError(f"{where}: <{tag}> {value:g} is not a whole number >= {minimum}")
    return int(value)


def _flag(parent: ET.Element, tag: str, where: str | Path) -> bool:
    """VOC's ``0``/``1`` flags; absent means ``0``."""
    if parent.find(tag) is None:
        return False
    value = _number(parent, tag, where)
    if value not in (0.0, 1.0):
        raise AnnotationError(f"{where}: <{tag}> {value:g} is not 0 or 1")
    return value == 1.0


def _read_object(obj: ET.Element, width: int, height: int, where: str) -> tuple[BoxAnnotation, str | None]:
    name = _text(obj, "name")
    if not name:
        raise AnnotationError(f"{where}: <name> is missing or empty")
    where = f"{where} ({name!r})"
    bndbox = obj.find("bndbox")
    if bndbox is None:
        raise AnnotationError(f"{where}: <bndbox> is missing")
    xmin, ymin, xmax, ymax = (_number(bndbox, tag, where) for tag in _BNDBOX_TAGS)
    if xmax < xmin or ymax < ymin:
        raise AnnotationError(f"{where}: <bndbox> is inverted (xmin={xmin:g}, ymin={ymin:g}, xmax={xmax:g}, ymax={ymax:g})")
    box, warning = fit_box(box_from_voc(xmin, ymin, xmax, ymax), width, height, where)
    return BoxAnnotation(
        label=name,
        box=box,
        difficult=_flag(obj, "difficult", where),
        truncated=_flag(obj, "truncated", where),
        pose=_text(obj, "pose") or "Unspecified",
    ), warning

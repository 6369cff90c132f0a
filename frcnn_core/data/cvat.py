"""A CVAT for images 1.1 XML export as a dataset (the file format is in :mod:`frcnn_core.annotations.cvat`).

Each ``<image name=…>`` is looked for relative to the XML's folder, then in its
``images/`` folder (CVAT's zip export) and ``images/<subset>/`` (a project export);
video frames named ``frame_000012`` (tracks of a video export) are found with any
image extension. ``image_id`` is CVAT's frame id. When the images carry ``subset``
attributes (a project export), ``split`` picks one (``train`` matches ``Train``,
``val`` matches ``Validation``; ``trainval`` takes both); a split that matches no
subset opens every image, said in ``problems``.

An image whose file is missing or unreadable is skipped, and so is a box whose label
is not among the class names; each is reported in ``problems`` with the file's own
warnings (malformed shapes, polygons read as bounding boxes).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from ..annotations.cvat import CvatImage, read_cvat_xml
from ..annotations.model import AnnotationError
from .annotated import FoundImage, find_image_file, records_of
from .errors import DatasetError
from .sample import FileDataset

# What each of our split names matches among CVAT's subset names (lower case).
_SUBSETS = {"train": ("train", "training"), "val": ("val", "validation", "valid"), "test": ("test", "testing")}
_SUBSETS["trainval"] = _SUBSETS["train"] + _SUBSETS["val"]


def is_cvat_xml(path: Path) -> bool:
    """Whether ``path`` is an ``.xml`` file whose root element is ``<annotations>`` (only its start is read)."""
    if path.suffix.lower() != ".xml" or not path.is_file():
        return False
    try:
        for _, element in SafeET.iterparse(path, events=("start",)):
            return element.tag == "annotations"
    except (ET.ParseError, defusedxml.DefusedXmlException, OSError):
        return False
    return False


def _image_path(folder: Path, image: CvatImage) -> Path | None:
    name = image.annotation.filename
    candidates = [folder / name, folder / "images" / name]
    if image.subset:
        candidates.append(folder / "images" / image.subset / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if not Path(name).suffix:  # a video frame: frame_000012.PNG, .jpg...
        for parent in (folder, folder / "images"):
            found = find_image_file(parent, name)
            if found is not None:
                return found
    return None


def _in_split(images: list[CvatImage], split: str, path: Path, problems: list[str]) -> list[CvatImage]:
    subsets = sorted({image.subset for image in images if image.subset})
    if not subsets:
        return images
    wanted = _SUBSETS.get(split, (split,))
    chosen = [image for image in images if image.subset.lower() in wanted]
    if not chosen:
        problems.append(f"{path}: no subset matches the split {split!r} (subsets: {', '.join(subsets)}); using all {len(images)} images")
        return images
    return chosen


class CvatDataset(FileDataset):
    """The images and boxes of a CVAT XML export (see the module docstring).

    Args:
        xml_path: the ``annotations.xml`` file.
        split: the subset to read when the file has subsets.
        class_names: label ``k`` is ``class_names[k - 1]``. Default: the labels of
            the file's ``<meta>`` in order (or the labels used, sorted).
        check_images: probe every image while indexing; ``False`` trusts the file's
            ``width``/``height`` and only checks that the file exists.
    """

    def __init__(self, xml_path: str | os.PathLike, split: str = "train", class_names: tuple[str, ...] | list[str] | None = None, check_images: bool = True) -> None:
        self.xml_path = Path(xml_path)
        try:
            parsed = read_cvat_xml(self.xml_path)
        except AnnotationError as exc:
            raise DatasetError(str(exc)) from None
        problems = list(parsed.warnings)
        found = []
        for image in _in_split(parsed.images, split, self.xml_path, problems):
            where = f"{self.xml_path}: image id {image.image_id} ({image.annotation.filename!r})"
            path = _image_path(self.xml_path.parent, image)
            if path is None:
                problems.append(f"{where}: image file not found beside the XML or in its images/ folder; skipped")
                continue
            found.append(FoundImage(where, path, image.annotation, image.image_id))
        names = tuple(class_names) if class_names is not None else tuple(parsed.class_names)
        records = records_of(found, names, check_images, problems)
        super().__init__(records, names, tuple(range(1, len(names) + 1)), problems)

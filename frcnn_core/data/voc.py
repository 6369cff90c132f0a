"""PASCAL VOC directories and folders of images with labelImg XML files beside them.

Two layouts are read:

- VOC: ``ROOT/Annotations/<id>.xml``, ``ROOT/JPEGImages/``, and
  ``ROOT/ImageSets/Main/<split>.txt`` listing the ids of a split. Without that split
  file every XML file of ``Annotations/`` is used (and a note goes to ``problems``).
- Flat (what the viewer's annotation mode and labelImg write): image files with a
  ``<stem>.xml`` beside them. Only images that have an XML file are listed (an image
  without one is not known to be free of objects); ``split`` is ignored.

The image of an XML file is its ``<filename>`` in the image folder, or else the file
with the XML's stem and an image extension. XML files are parsed by
:func:`frcnn_core.annotations.read_voc_xml` (boxes to continuous pixels, clipped into
the image); a malformed file, a missing or unreadable image, or an object whose class
is not in ``class_names`` is skipped and reported in ``problems``. ``difficult``
objects are kept with ``difficult`` set. ``image_id`` is the position in the list.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..annotations.model import AnnotationError, ImageAnnotation, format_box
from ..annotations.voc import read_voc_xml
from .annotated import refit_boxes
from .errors import DatasetError
from .images import IMAGE_EXTENSIONS, is_image_file, probe_image
from .sample import FileDataset, Record

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)


def default_class_names(found: set[str]) -> tuple[str, ...]:
    """The 20 VOC classes (in VOC order) if ``found`` is a non-empty subset of them, else ``found`` sorted."""
    return VOC_CLASSES if found and found <= set(VOC_CLASSES) else tuple(sorted(found))


def _split_ids(root: Path, split: str, problems: list[str]) -> list[str]:
    annotations = root / "Annotations"
    split_file = root / "ImageSets" / "Main" / f"{split}.txt"
    if split_file.is_file():
        try:
            lines = split_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{split_file}: cannot read: {exc}") from None
        return [line.split()[0] for line in lines if line.strip()]
    ids = sorted(p.stem for p in annotations.glob("*.xml"))
    problems.append(f"{split_file}: no such split file; using all {len(ids)} XML files of {annotations}")
    return ids


def _find_image(folder: Path, annotation: ImageAnnotation, stem: str) -> Path | None:
    named = folder / annotation.filename
    if named.is_file():
        return named
    for ext in IMAGE_EXTENSIONS:
        for candidate in (folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"):
            if candidate.is_file():
                return candidate
    return None


class VocDataset(FileDataset):
    """A VOC directory or a flat labelImg folder (see the module docstring).

    Args:
        root: the VOC root (holding ``Annotations/``) or the flat folder.
        split: the ``ImageSets/Main`` list to read (VOC layout only).
        class_names: label ``k`` is ``class_names[k - 1]``. Default: the 20 VOC classes
            when every name found is one of them, otherwise the names found, sorted
            (none when no object is found)
            (so two folders with different objects get different label numbers:
            pass ``class_names`` to fix them).
        check_images: probe every image while indexing (see :mod:`.images`); with
            ``False`` the XML's ``<size>`` is trusted and only existence is checked.
    """

    def __init__(self, root: str | os.PathLike, split: str = "trainval", class_names: tuple[str, ...] | list[str] | None = None, check_images: bool = True) -> None:
        self.root = Path(root)
        problems: list[str] = []
        if (self.root / "Annotations").is_dir():
            xml_files = [self.root / "Annotations" / f"{i}.xml" for i in _split_ids(self.root, split, problems)]
            image_folder = self.root / "JPEGImages"
        elif self.root.is_dir():
            xml_files = sorted(self.root.glob("*.xml"))
            image_folder = self.root
            if not xml_files:
                raise DatasetError(f"{self.root}: neither a VOC directory (no Annotations/) nor a folder with labelImg .xml files")
            stems = {p.stem for p in xml_files}
            unlabelled = sorted(p for p in self.root.iterdir() if p.is_file() and is_image_file(p) and p.stem not in stems)
            if unlabelled:
                problems.append(f"{self.root}: {len(unlabelled)} images have no .xml file beside them and are not listed (e.g. {unlabelled[0].name})")
        else:
            raise DatasetError(f"{self.root}: no such folder")
        self._check_images = check_images
        found = self._read_all(xml_files, image_folder, problems)
        names = tuple(class_names) if class_names is not None else default_class_names({b.label for *_, a in found for b in a.boxes})
        labels = {name: k + 1 for k, name in enumerate(names)}
        records = [_record(xml, image, size, annotation, labels, image_id, problems) for image_id, (xml, image, size, annotation) in enumerate(found)]
        super().__init__(records, names, tuple(range(1, len(names) + 1)), problems)

    def _read_all(self, xml_files: list[Path], image_folder: Path, problems: list[str]) -> list[tuple[Path, Path, tuple[int, int], ImageAnnotation]]:
        """``(xml, image, (H, W), annotation)`` of every usable XML file, boxes fitted to the image."""
        found = []
        for xml in xml_files:
            try:
                annotation = read_voc_xml(xml, strict=False)
            except AnnotationError as exc:
                problems.append(f"{exc}; skipped")
                continue
            problems += annotation.warnings
            image = _find_image(image_folder, annotation, xml.stem)
            if image is None:
                problems.append(f"{xml}: image '{annotation.filename}' not found in {image_folder}; skipped")
                continue
            size = self._image_size(image, annotation, xml, problems)
            if size is not None:
                found.append((xml, image, size, annotation))
        return found

    def _image_size(self, image: Path, annotation: ImageAnnotation, xml: Path, problems: list[str]) -> tuple[int, int] | None:
        """The image's ``(H, W)``; boxes are refitted when the file disagrees with ``<size>``."""
        listed = (annotation.height, annotation.width)
        if not self._check_images:
            return listed
        try:
            size = probe_image(image)
        except DatasetError as exc:
            problems.append(f"{xml}: {exc}; skipped")
            return None
        if size != listed:
            problems.append(f"{xml}: <size> says {listed[1]}x{listed[0]} but {image.name} is {size[1]}x{size[0]}; using the file's size")
            refit_boxes(annotation, size, f"{xml}: object", problems)
        return size


def _record(xml: Path, image: Path, size: tuple[int, int], annotation: ImageAnnotation, labels: dict[str, int], image_id: int, problems: list[str]) -> Record:
    """The record of one image; objects of classes outside ``labels`` are skipped and reported."""
    kept = []
    for box in annotation.boxes:
        if box.label in labels:
            kept.append(box)
        else:
            problems.append(f"{xml}: object {box.label!r} {format_box(box.box)}: class not in the dataset's class names; skipped")
    return Record(
        path=str(image),
        size=size,
        image_id=image_id,
        boxes=np.array([b.box for b in kept], np.float32).reshape(-1, 4),
        labels=np.array([labels[b.label] for b in kept], np.int64),
        difficult=np.array([b.difficult for b in kept], bool),
    )

"""The annotation being edited: one image's boxes, where they are saved, what is selected.

Plain Python (no Qt); reading and writing go through :mod:`frcnn_core.annotations`, so the
files are labelImg's VOC XML and every write is atomic. Boxes are kept as
:class:`~frcnn_core.annotations.BoxAnnotation` in the image file's own pixels (continuous
float coordinates) and rounded only by the writer.

A file that cannot be read (malformed XML, not a VOC annotation, a box outside the image)
makes the session read-only: :attr:`AnnotationSession.error` says why, nothing can be
edited and :meth:`AnnotationSession.save` refuses, so the file is never overwritten.

:attr:`AnnotationSession.dirty` compares the annotation with what was opened or last saved,
so undoing back to the saved boxes makes the session clean again.

``changed`` is emitted with a :class:`SessionChange`. The edit methods are the primitives
the undo commands (:mod:`frcnn_viewer.annotation.view.commands`) call; they do not check that the
session is editable.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from enum import Enum
from pathlib import Path

from PIL import Image

from frcnn_core.annotations import (
    AnnotationError,
    BoxAnnotation,
    ImageAnnotation,
    clip_box,
    read_voc_xml,
    voc_path_for_image,
    write_voc_xml,
)

from ...state.events import Event

GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


class SessionChange(Enum):
    """What changed in the session (the argument of ``AnnotationSession.changed``)."""

    IMAGE = "image"  # another image or file (or none)
    BOXES = "boxes"
    SELECTION = "selection"
    VERIFIED = "verified"
    SAVED = "saved"  # written to the file, or its changes given up: the session is clean


class AnnotationSession:
    """The boxes of the image being annotated (see the module docstring)."""

    def __init__(self) -> None:
        self.image_path: Path | None = None
        self.xml_path: Path | None = None
        self.annotation: ImageAnnotation | None = None
        self.error: str | None = None
        self.selected: int | None = None
        self._clean: ImageAnnotation | None = None  # the annotation as opened or last saved
        self.changed = Event()

    # ----- state ----------------------------------------------------------------------
    @property
    def editable(self) -> bool:
        """Whether there is an annotation that may be edited and saved."""
        return self.annotation is not None and self.error is None

    @property
    def dirty(self) -> bool:
        """Whether the boxes or the verified mark differ from the file (as opened or saved)."""
        return self.editable and self.annotation != self._clean

    @property
    def clean_annotation(self) -> ImageAnnotation | None:
        """The annotation as opened or last saved (read it, never change it)."""
        return self._clean

    @property
    def boxes(self) -> list[BoxAnnotation]:
        return self.annotation.boxes if self.annotation is not None else []

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` of the image file."""
        return (self.annotation.height, self.annotation.width) if self.annotation is not None else (0, 0)

    # ----- files ----------------------------------------------------------------------
    def open(self, image_path: str | os.PathLike, size: tuple[int, int], fallback: list[BoxAnnotation] = (),
             annotation_dir: str | os.PathLike | None = None) -> list[str]:
        """Start annotating ``image_path`` (``size`` ``(H, W)`` of the file).

        The boxes come from its VOC file (beside it, or in ``annotation_dir``) when there is
        one, else from ``fallback`` (e.g. what a COCO dataset says). Returns the warnings to
        show (boxes clipped into the image); a file that cannot be read sets :attr:`error`.
        """
        self.image_path = Path(image_path)
        self.xml_path = voc_path_for_image(self.image_path, annotation_dir)
        self.annotation, self.error, self.selected = None, None, None
        height, width = size
        warnings: list[str] = []
        if self.xml_path.exists():
            try:
                annotation = read_voc_xml(self.xml_path, strict=True)
                warnings = annotation.warnings + _fit_to(annotation, width, height, self.xml_path)
                self.annotation = annotation
            except AnnotationError as exc:
                self.error = f"{exc}; the file is left untouched and this image cannot be edited until it is fixed"
        else:
            self.annotation = ImageAnnotation(
                filename=self.image_path.name,
                width=width,
                height=height,
                depth=_depth_of(self.image_path),
                boxes=[dataclasses.replace(b) for b in fallback],
                folder=self.image_path.parent.name,
                path=str(self.image_path.resolve()),
            )
        self._clean = copy.deepcopy(self.annotation)
        self.changed.emit(SessionChange.IMAGE)
        return warnings

    def close(self) -> None:
        """Annotate nothing."""
        self.image_path = self.xml_path = self.annotation = self.error = self.selected = self._clean = None
        self.changed.emit(SessionChange.IMAGE)

    def save(self) -> Path:
        """Write the annotation to :attr:`xml_path` atomically (labelImg's VOC XML).

        Raises:
            AnnotationError: there is nothing editable to save (no image, or its file could
                not be read: it is not overwritten).
            OSError: the file cannot be written (the old one is kept whole).
        """
        if not self.editable:
            raise AnnotationError(self.error or "no image to save annotations for")
        path = write_voc_xml(self.annotation, self.xml_path)
        self.mark_clean()
        return path

    def mark_clean(self) -> None:
        """Count the boxes as they are now as unchanged (saved, or the user gave up the changes)."""
        self._clean = copy.deepcopy(self.annotation)
        self.changed.emit(SessionChange.SAVED)

    # ----- edit primitives (called by the undo commands) -------------------------------
    def insert(self, index: int, box: BoxAnnotation) -> None:
        self.annotation.boxes.insert(index, box)
        self.changed.emit(SessionChange.BOXES)

    def remove(self, index: int) -> BoxAnnotation:
        box = self.annotation.boxes.pop(index)
        if self.selected is not None and self.selected >= len(self.annotation.boxes):
            self.selected = None
        self.changed.emit(SessionChange.BOXES)
        return box

    def replace(self, index: int, box: BoxAnnotation) -> BoxAnnotation:
        old, self.annotation.boxes[index] = self.annotation.boxes[index], box
        self.changed.emit(SessionChange.BOXES)
        return old

    def set_contents(self, boxes: list[BoxAnnotation], verified: bool) -> None:
        """Replace every box (and the verified mark): a restored edit, whatever it changed."""
        self.annotation.boxes = list(boxes)
        if self.selected is not None and self.selected >= len(self.annotation.boxes):
            self.selected = None
        self.changed.emit(SessionChange.BOXES)
        if bool(verified) != self.annotation.verified:
            self.set_verified(verified)

    def set_verified(self, verified: bool) -> None:
        self.annotation.verified = bool(verified)
        self.changed.emit(SessionChange.VERIFIED)

    def select(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.boxes):
            index = None
        if index != self.selected:
            self.selected = index
            self.changed.emit(SessionChange.SELECTION)


def _fit_to(annotation: ImageAnnotation, width: int, height: int, path: Path) -> list[str]:
    """Adopt the image file's size when the XML's ``<size>`` disagrees, clipping the boxes.

    Raises:
        AnnotationError: a box would have no area left (editing would lose it).
    """
    if (annotation.width, annotation.height) == (width, height):
        return []
    for i, b in enumerate(annotation.boxes, start=1):
        clipped = clip_box(b.box, width, height)
        if clipped is None:
            raise AnnotationError(f"{path}: box #{i} ({b.label!r}) lies outside the {width}x{height} image")
        b.box = clipped
    message = f"{path}: <size> says {annotation.width}x{annotation.height} but the image is {width}x{height}; using the image's size"
    annotation.width, annotation.height = width, height
    return [message]


def _depth_of(path: Path) -> int:
    """1 for a grayscale image file, else 3 (what labelImg writes in ``<depth>``)."""
    try:
        with Image.open(path) as im:
            return 1 if im.mode in GRAYSCALE_MODES else 3
    except OSError:
        return 3

"""The annotation mode's state, without Qt: what is annotated, where it is saved, in which pixels.

:class:`AnnotationModel` holds the :class:`~.annotation_session.AnnotationSession` (the
current image's boxes, its file and whether they are saved), the
:class:`~.annotation_classes.ClassList` whose names are the document's own
(:attr:`Document.class_names <frcnn_viewer.state.document.Document.class_names>`, so a class added
while annotating is at once in the untrained model's classes and in the traced target),
the :class:`~.annotation_pixels.PixelMapping` between the canvas and the file, and the
:class:`~.annotation_files.AnnotationFiles` of the open images (where their VOC files are,
which are marked verified). It follows the :class:`~frcnn_viewer.state.document.Document`: once
the mode has been entered, the session opens each image the document shows (from its VOC
file, or from the dataset's GT when it has none) and every edit of the boxes replaces the
document's GT (:meth:`Document.set_ground_truth`), so the anchor labels follow at once.

The Qt side (:mod:`frcnn_viewer.annotation.view.controller`) turns what the user does into undo
commands over the session; the methods here that end in a box (:meth:`AnnotationModel.drawn_box`,
:meth:`AnnotationModel.nudged_box`, …) compute the edited box and change nothing, so every
change goes through the undo stack. Messages for the user go to :meth:`Document.report`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path

import numpy as np

from frcnn_core import POSITIVE
from frcnn_core.annotations import AnnotationError, BoxAnnotation, read_voc_xml

from ...state.document import Document
from ...state.events import Event
from ...state.models import model_labels
from . import geometry
from .class_file import ClassFileError, read_class_file, write_class_file
from .classes import ClassList
from .files import AnnotationFiles
from .journal import JOURNAL_NAME, EditJournal, Step, UnsavedEdits
from .pixels import PixelMapping
from .session import AnnotationSession, SessionChange
from .sets import export_set_coco, export_set_cvat, export_set_labelme, export_set_yolo, export_set_yolo_dataset, import_set_coco
from .suggestions import SuggestionSet, missed_notes, suggestion_note

FALLBACK_CLASS = "object"  # the class of a new box while the class list is empty
DUPLICATE_OFFSET = 10.0  # file pixels a duplicate is shifted by


class Mode(Enum):
    """What the mouse does on the canvas."""

    INSPECT = "inspect"  # picks feature cells and detections
    ANNOTATE = "annotate"  # draws and edits GT boxes


class UnsavedChoice(Enum):
    """What becomes of unsaved changes when the image changes or the window closes."""

    ASK = "ask"
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class Leaving(Enum):
    """Why the session's image is being left."""

    SWITCH = "switch"  # another image
    CLOSE = "close"  # the window


def parse_enum(kind: type[Enum], value: Enum | str) -> Enum:
    """``value`` as a member of ``kind`` (its member or its value).

    Raises:
        ValueError: naming the value and the valid ones.
    """
    try:
        return kind(value.value if isinstance(value, kind) else value)
    except ValueError:
        valid = ", ".join(repr(m.value) for m in kind)
        raise ValueError(f"unknown {kind.__name__} {value!r}; valid: {valid}") from None


class AnnotationModel:
    """The annotation mode's data for ``document`` (see the module docstring).

    Attributes:
        session: the boxes of the image being annotated.
        classes: the class list; its names are ``document.class_names``.
        mapping: displayed ↔ file pixels of the session's image.
        mode: :class:`Mode`; active: whether the mode has been entered (from then on the
            session follows the document's images, in inspection too).
        files: where the open images' VOC files are (and the folder chosen for them).
        index: the document index of the session's image.
        suggestions: the model's detections on the session's image, to accept or reject
            (:mod:`.annotation_suggestions`); selected_suggestion: the one selected (its row).
        clipboard: boxes copied (Ctrl+C), in file pixels of the image they came from.
        journal: the journal of edits (:mod:`.journal`): each edit of the session on disk as it
            happens, and the unsaved edits found in the open images' folders;
            ``unsaved_changed`` is emitted when :meth:`unsaved_edits` changes.
    """

    def __init__(self, document: Document) -> None:
        self.document = document
        self.session = AnnotationSession()
        self.classes = ClassList(store=document)
        self.mapping = PixelMapping()
        self.mode = Mode.INSPECT
        self.active = False
        self.files = AnnotationFiles()
        self.index: int | None = None
        self.suggestions = SuggestionSet()
        self.selected_suggestion: int | None = None
        self.clipboard: list[BoxAnnotation] = []
        self.journal = EditJournal(document.report)
        self.unsaved_changed = Event()  # what unsaved_edits() returns changed
        self._class_folders_read: set[Path] = set()
        self._unsaved_entries: dict[Path, int] = {}  # annotation file with unsaved edits found -> its entry
        self._reading_class_files = False
        self._missed_cache: tuple[tuple, dict[int, str]] | None = None
        self.session.changed.connect(self._session_changed)
        self.classes.changed.connect(self._classes_changed)
        self.journal.changed.connect(self.unsaved_changed.emit)

    # ----- state --------------------------------------------------------------------------
    @property
    def annotating(self) -> bool:
        return self.mode is Mode.ANNOTATE

    @property
    def dirty(self) -> bool:
        """Whether the session has changes not saved to its file."""
        return self.session.dirty

    @property
    def verified(self) -> bool:
        """Whether the session's image is marked verified."""
        return bool(self.session.annotation is not None and self.session.annotation.verified)

    def set_mode(self, mode: Mode | str) -> bool:
        """Enter ``mode``; returns whether it changed. Entering annotation the first time opens
        the current image in the session.

        Raises:
            ValueError: an unknown mode (naming the valid ones).
        """
        mode = parse_enum(Mode, mode)
        if mode is self.mode:
            return False
        self.mode = mode
        if self.annotating and not self.active:
            self.activate()
        return True

    def activate(self) -> None:
        """Start following the document's images (once; :meth:`set_mode` and :meth:`save` call it)."""
        if not self.active:
            self.active = True
            if self.document.image is not None:
                self.open_current()

    # ----- the open images' files ----------------------------------------------------------
    def entry_verified(self, index: int) -> bool:
        """Whether document entry ``index`` is marked verified (the session's own mark for its
        image, even unsaved; else its file's)."""
        if index == self.index and self.session.annotation is not None:
            return self.verified
        return self.files.verified(self.document.entries[index])

    def image_rows(self, unverified_only: bool, order: Sequence[int] | None = None) -> list[tuple[int, str, bool]]:
        """``(entry index, name, verified)`` of the images to list (only unverified ones with
        ``unverified_only``), in ``order`` (entry indices; default: list order)."""
        rows = []
        entries = self.document.entries
        for index in range(len(entries)) if order is None else order:
            verified = self.entry_verified(index)
            if not (unverified_only and verified):
                rows.append((index, entries[index].name, verified))
        return rows

    def step(self, delta: int, unverified_only: bool) -> bool:
        """Show the next image in direction ``delta`` (skipping verified ones with
        ``unverified_only``); returns whether one was shown."""
        doc = self.document
        index = (-1 if delta > 0 else len(doc.entries)) if doc.index is None else doc.index
        index += delta
        while 0 <= index < len(doc.entries):
            if not (unverified_only and self.entry_verified(index)) and doc.set_index(index):
                return True
            index += delta
        return False

    # ----- following the document ---------------------------------------------------------
    def shows_session_image(self) -> bool:
        """Whether the document shows the session's image (the same file)."""
        image = self.document.image
        return image is not None and self.session.image_path is not None and self.files.image_path(image.entry) == self.session.image_path

    def follow_image(self, resolve_unsaved: Callable[[], bool]) -> None:
        """Open the document's current image in the session; the same image shown again keeps
        its edits. Unsaved changes of the session's image go to ``resolve_unsaved`` first (save
        or drop them); when it returns ``False`` the document goes back to that image."""
        if self.shows_session_image():
            self.push_ground_truth()
        elif self.dirty and not resolve_unsaved():
            self.document.set_index(self.index)
        else:
            self.open_current()

    def open_current(self) -> None:
        """Open the document's current image in the session: its VOC file, or without one the
        dataset's GT; warnings and an unreadable file are reported."""
        doc = self.document
        image = doc.image
        self.index = doc.index
        self.mapping = PixelMapping.of(image)
        self.suggestions.clear()
        self.selected_suggestion = None
        self.read_folder_files()
        path = self.files.image_path(image.entry)
        if path is None:
            self.session.close()
            doc.report("warning", f"{image.entry.name}: a generated image has no file; it cannot be annotated")
            return
        fallback = []
        if image.annotated:  # no VOC file yet: start from what the dataset says
            fallback = [BoxAnnotation(name, tuple(float(v) for v in box), bool(difficult))
                        for box, name, difficult in zip(self.mapping.to_file(image.gt_boxes), image.gt_names, image.difficult)]
        warnings = self.session.open(path, image.original_size, fallback, self.files.annotation_dir_for(image.entry))
        for warning in warnings:
            doc.report("warning", warning)
        if self.session.error:
            doc.report("error", self.session.error)
            return
        self.classes.extend(b.label for b in self.session.boxes)
        self.push_ground_truth()
        self.update_suggestions()

    def push_ground_truth(self) -> None:
        """Make the session's boxes the document's GT (the anchor labels follow)."""
        if not self.session.editable or self.document.image is None:
            return
        boxes = self.mapping.to_display([b.box for b in self.session.boxes])
        self.document.set_ground_truth(boxes, [b.label for b in self.session.boxes],
                                       np.array([b.difficult for b in self.session.boxes], dtype=bool))

    def _session_changed(self, what: SessionChange) -> None:
        if what is SessionChange.BOXES:
            self.push_ground_truth()
        if what is SessionChange.IMAGE:
            self.journal.image_left()
        if what is SessionChange.SAVED and self.session.xml_path is not None:
            self.journal.saved(self.session.xml_path)  # saved, or its changes given up
        if what is SessionChange.SELECTION and self.session.selected is not None:
            self.selected_suggestion = None

    # ----- saving -------------------------------------------------------------------------
    def save(self) -> Path | None:
        """Write the current image's VOC XML; returns its path, or ``None`` with a message (an
        unreadable file is never overwritten). Works before the mode was ever entered."""
        if not self.active and self.document.image is not None:
            self.activate()
        try:
            path = self.session.save()
        except (AnnotationError, OSError) as exc:
            self.document.report("error", f"not saved: {exc}")
            return None
        self.files.written(path)
        self.document.report("info", f"{len(self.session.boxes)} boxes saved to {path}")
        return path

    def file_status(self) -> tuple[str, bool]:
        """The line about the session's file: ``(text, is_error)``."""
        session = self.session
        if session.error:
            return session.error, True
        if session.xml_path is None:
            return "no image", False
        state = "unsaved changes" if self.dirty else ("saved" if session.xml_path.exists() else "no file yet")
        return f"{session.xml_path} ({state})", False

    # ----- edited boxes (computed here, applied by undo commands) --------------------------
    def selected_box(self) -> BoxAnnotation | None:
        index = self.session.selected
        return self.session.boxes[index] if index is not None else None

    def drawn_box(self, displayed: Sequence[float]) -> BoxAnnotation:
        """A new box drawn at ``displayed`` (canvas pixels), of the default class (``"object"``
        while the list is empty, which adds it to the list)."""
        if self.classes.default is None:
            self.classes.set_default(FALLBACK_CLASS)
        return BoxAnnotation(self.classes.default, self.mapping.file_box(displayed))

    def moved_box(self, index: int, displayed: Sequence[float]) -> BoxAnnotation:
        """Box ``index`` moved or resized to ``displayed`` (canvas pixels)."""
        return dataclasses.replace(self.session.boxes[index], box=self.mapping.file_box(displayed))

    def typed_box(self, new: BoxAnnotation, min_displayed: float) -> BoxAnnotation | None:
        """``new`` as typed in the form, ordered and clipped to the image (at least
        ``min_displayed`` canvas pixels a side); ``None``, with a warning, when nothing is left.
        Its class joins the class list."""
        height, width = self.session.size
        fitted = geometry.fitted(new.box, width, height, self.mapping.file_length(min_displayed))
        if fitted is None:
            self.document.report("warning", f"box {new.box} has no area inside the {width}x{height} image; not changed")
            return None
        self.classes.extend([new.label])
        return dataclasses.replace(new, box=fitted)

    def duplicate_box(self, index: int) -> BoxAnnotation:
        """A copy of box ``index`` shifted by :data:`DUPLICATE_OFFSET` down-right (up-left when
        it sits in the bottom-right corner)."""
        box = self.session.boxes[index]
        height, width = self.session.size
        shifted = geometry.moved(box.box, DUPLICATE_OFFSET, DUPLICATE_OFFSET, width, height)
        if shifted == box.box:
            shifted = geometry.moved(box.box, -DUPLICATE_OFFSET, -DUPLICATE_OFFSET, width, height)
        return dataclasses.replace(box, box=shifted)

    def nudged_box(self, index: int, dx: float, dy: float) -> BoxAnnotation | None:
        """Box ``index`` moved by ``(dx, dy)`` file pixels, stopped at the border; ``None`` when
        it cannot move that way."""
        box = self.session.boxes[index]
        height, width = self.session.size
        moved = geometry.moved(box.box, dx, dy, width, height)
        return None if moved == box.box else dataclasses.replace(box, box=moved)

    def class_in_use(self, name: str) -> int:
        """How many boxes of the session's image have class ``name``."""
        return sum(b.label == name for b in self.session.boxes)

    # ----- what the canvas and the form show -----------------------------------------------
    def displayed_boxes(self) -> np.ndarray:
        """``[N, 4]`` the session's boxes in canvas pixels (none when nothing is editable)."""
        if not self.session.editable or self.document.image is None:
            return np.zeros((0, 4))
        return self.mapping.to_display([b.box for b in self.session.boxes])

    def _anchor_state_of_session(self):
        """The document's anchor labels when they are for the session's boxes, else ``None``."""
        state = self.document.anchor_state
        if state is None or not self.session.editable or len(state.gt_boxes) != len(self.session.boxes):
            return None
        return state

    def uncovered(self) -> list[int]:
        """The session's boxes that no anchor matches at the positive IoU."""
        state = self._anchor_state_of_session()
        return [] if state is None else list(state.gt_without_positive())

    def coverage_note(self, index: int | None) -> str:
        """Whether anchors learn box ``index``: the form's note, ``"!"`` first when none does."""
        state = self._anchor_state_of_session()
        if index is None or state is None:
            return ""
        if index in self.uncovered():
            return f"! No anchor reaches IoU {state.pos_iou:g}: only its best anchor learns it"
        positives = int(((state.candidate_labels == POSITIVE) & (state.matched_gt == index)).sum())
        return f"{positives} positive anchors match this box"

    # ----- the whole set ------------------------------------------------------------------
    def import_coco(self, json_path: str | os.PathLike) -> list[Path]:
        """Write a VOC file for each open image the COCO file annotates (existing files are
        kept); problems are reported. Returns the files written."""
        try:
            written, problems = import_set_coco(json_path, self.files.pairs(self.document.entries))
        except AnnotationError as exc:
            self.document.report("error", str(exc))
            return []
        for problem in problems:
            self.document.report("warning", problem)
        self.document.report("info", f"{len(written)} VOC files written from {json_path}")
        return written

    def export_coco(self, path: str | os.PathLike) -> bool:
        """One COCO JSON of every open image's VOC file; returns whether it was written."""
        return self._export(lambda pairs: export_set_coco(pairs, self.classes.names, path), f"COCO JSON {path}")

    def export_yolo(self, folder: str | os.PathLike) -> bool:
        """YOLO labels (and ``classes.txt``) of every open image's VOC file."""
        return self._export(lambda pairs: export_set_yolo(pairs, self.classes.names, folder), f"YOLO labels in {folder}")

    def export_yolo_dataset(self, root: str | os.PathLike) -> bool:
        """An Ultralytics dataset (images, labels, ``data.yaml``) of every annotated image."""
        return self._export(lambda pairs: export_set_yolo_dataset(pairs, self.classes.names, root), f"a YOLO dataset in {root}")

    def export_cvat(self, path: str | os.PathLike) -> bool:
        """One CVAT for images 1.1 XML of every annotated image."""
        return self._export(lambda pairs: export_set_cvat(pairs, self.classes.names, path), f"CVAT XML {path}")

    def export_labelme(self, folder: str | os.PathLike) -> bool:
        """One labelme JSON per annotated image."""
        return self._export(lambda pairs: export_set_labelme(pairs, folder), f"labelme JSON files in {folder}")

    def _export(self, write, what: str) -> bool:
        try:
            *_written, problems = write(self.files.pairs(self.document.entries))
        except (AnnotationError, OSError) as exc:
            self.document.report("error", f"export failed: {exc}")
            return False
        for problem in problems:
            self.document.report("warning", problem)
        self.document.report("info", f"annotations exported to {what}")
        return True

    # ----- suggestions --------------------------------------------------------------------
    def suggesting(self) -> bool:
        """Whether the document's trace can give suggestions: a trained model's, of the
        session's image."""
        doc = self.document
        return (doc.trace is not None and doc.model is not None and doc.model.trained and self.session.editable
                and self.shows_session_image())

    def update_suggestions(self) -> None:
        """Take the detections of the document's trace as the suggestions (none without a
        trained model); called when a trace arrives. Nothing runs the model here."""
        doc = self.document
        self.selected_suggestion = None
        self.suggestions.set_trace(doc.trace if self.suggesting() else None, doc.model.config if doc.model else None)

    def shown_suggestions(self) -> np.ndarray:
        """Rows of the suggestions shown now (score, overlap with the boxes, dismissals), best first."""
        if not self.session.editable or not len(self.suggestions):
            return np.zeros(0, dtype=np.int64)
        return self.suggestions.shown(self.displayed_boxes(), [b.label for b in self.session.boxes])

    def select_suggestion(self, index: int | None) -> None:
        """Select suggestion ``index`` (a shown row; ``None``: none); the box selection is dropped."""
        self.selected_suggestion = index if index is not None and index in set(self.shown_suggestions().tolist()) else None
        if self.selected_suggestion is not None:
            self.session.select(None)

    def suggested_box(self, index: int) -> BoxAnnotation:
        """Suggestion ``index`` as a GT box of its class, in file pixels (its class joins the list)."""
        suggestion = self.suggestions.suggestion(index)
        self.classes.extend([suggestion.name])
        return BoxAnnotation(suggestion.name, self.mapping.file_box(suggestion.box))

    def suggestion_at(self, x: float, y: float) -> int | None:
        """The smallest shown suggestion containing the displayed point ``(x, y)``."""
        shown = self.shown_suggestions()
        hit = geometry.box_at(self.suggestions.boxes[shown], x, y) if len(shown) else None
        return None if hit is None else int(shown[hit])

    def hover_note(self, x: float, y: float) -> str:
        """What the model says about the point ``(x, y)``: the provenance of the suggestion there,
        else, for a box there that the model missed, the stage that lost it; ``""`` otherwise."""
        if not self.suggesting():
            return ""
        index = self.suggestion_at(x, y)
        if index is not None:
            return suggestion_note(self.document.trace, index, self.document.model.config)
        box = geometry.box_at(self.displayed_boxes(), x, y)
        return "" if box is None else self.missed_notes().get(box, "")

    def missed_notes(self) -> dict[int, str]:
        """``{box index: line}`` for the session's boxes the model did not detect at the
        suggestions' least score (cached per trace, boxes and score)."""
        if not self.suggesting():
            return {}
        boxes = self.displayed_boxes()
        names = [b.label for b in self.session.boxes]
        key = (id(self.document.trace), boxes.tobytes(), tuple(names), self.suggestions.min_score)
        if self._missed_cache is None or self._missed_cache[0] != key:
            labels = model_labels(names, self.document.model.config)
            self._missed_cache = (key, missed_notes(self.document.trace, boxes, labels, self.suggestions.min_score))
        return self._missed_cache[1]

    # ----- copy and paste -----------------------------------------------------------------
    def copy_boxes(self) -> int:
        """Copy the selected box, or every box without a selection; returns how many."""
        selected = self.selected_box()
        self.clipboard = [dataclasses.replace(b) for b in ([selected] if selected is not None else self.session.boxes)]
        return len(self.clipboard)

    def fitted_boxes(self, boxes: Sequence[BoxAnnotation]) -> list[BoxAnnotation]:
        """``boxes`` (file pixels of another image) clipped into the session's image; those left
        without area are dropped."""
        height, width = self.session.size
        fitted = []
        for box in boxes:
            inside = geometry.fitted(box.box, width, height, self.mapping.file_length(1.0))
            if inside is not None:
                fitted.append(dataclasses.replace(box, box=inside))
        return fitted

    def previous_image_boxes(self) -> list[BoxAnnotation]:
        """The boxes saved for the image before this one in the list (its VOC file); ``[]``, with
        a message, when it has none."""
        doc = self.document
        if doc.index is None or doc.index == 0:
            doc.report("warning", "no previous image to copy boxes from")
            return []
        entry = doc.entries[doc.index - 1]
        xml = self.files.xml_path(entry)
        if xml is None or not xml.exists():
            doc.report("warning", f"{entry.name} has no saved annotation file to copy boxes from")
            return []
        try:
            boxes = read_voc_xml(xml, strict=False).boxes
        except AnnotationError as exc:
            doc.report("error", str(exc))
            return []
        self.classes.extend(b.label for b in boxes)
        return boxes

    # ----- what to label next -------------------------------------------------------------
    def has_file(self, index: int) -> bool:
        """Whether document entry ``index`` has a saved annotation file."""
        xml = self.files.xml_path(self.document.entries[index])
        return xml is not None and xml.exists()

    def labelling_order(self) -> list[int]:
        """Entry indices in the order to label them: images without an annotation file, then
        those not verified, then the verified ones; within each, the model's uncertainty
        (:meth:`Document.ranked` ``"uncertainty"``: highest first, images not analysed last)."""
        ranked = self.document.ranked("uncertainty")
        return sorted(ranked, key=lambda i: (self.has_file(i), self.entry_verified(i)))

    def next_unlabelled(self) -> int | None:
        """The first image of :meth:`labelling_order` without an annotation file, other than the
        one shown; ``None`` when every other image has one."""
        for index in self.labelling_order():
            if index != self.document.index and not self.has_file(index):
                return index
        return None

    # ----- the journal of edits -------------------------------------------------------------
    def record_edit(self, step: Step, text: str) -> None:
        """Journal a step of the session's undo stack that has just changed it (``step``, the
        command named ``text``): written to the journal before this returns, fsync'd right after."""
        if self.session.editable:
            self.journal.record(self.session.xml_path, step, text, self.session.clean_annotation, self.session.annotation)

    def look_for_journals(self) -> None:
        """Outside annotation mode: read the journals of the open images' folders
        (:meth:`read_folder_files` without the class lists) when the annotation folder of some
        source's first image has one. A look at one folder per source, where annotation mode
        reads every image's: a large set opened to inspect costs nothing more."""
        sources = dict.fromkeys(entry.source for entry in self.document.entries)
        for source in sources:
            xml = self.files.xml_path(source.entries[0]) if source.entries else None
            if xml is not None and (xml.parent / JOURNAL_NAME).exists():
                self.read_folder_files(classes=False)
                return

    def unsaved_edits(self) -> list[tuple[int, UnsavedEdits]]:
        """The edits a previous session journaled and never saved, for the open images: ``(entry
        index, edits)`` per image, in the order they were found."""
        entries = self._unsaved_entries
        return [(entries[u.annotation_file], u) for u in self.journal.found() if u.annotation_file in entries]

    def discard_unsaved_edits(self) -> int:
        """Give up the edits :meth:`unsaved_edits` offers (the journals forget them); returns how
        many images had some."""
        return self.journal.discard([u.annotation_file for _index, u in self.unsaved_edits()])

    def unsaved_edits_note(self) -> str | None:
        """The offer to restore :meth:`unsaved_edits`, in words; ``None`` when there are none."""
        found = self.unsaved_edits()
        if not found:
            return None
        names = self.document.entries
        parts = [f"{names[i].name} ({len(u.edits)} edit{'s' if len(u.edits) > 1 else ''})" for i, u in found]
        first = f" ({names[found[0][0]].name} first)" if len(found) > 1 else ""
        return (f"Annotation edits from a session that ended without saving: {', '.join(parts)}. "
                f"Restore them{first} as undoable edits and save, or discard them.")

    # ----- each annotation folder's files: classes.txt and the journal ------------------------
    def _class_folder(self) -> Path | None:
        """Where the session's image's class list lives: beside its annotation file."""
        return None if self.session.xml_path is None else self.session.xml_path.parent

    def read_folder_files(self, classes: bool = True) -> None:
        """Read what each open image's annotation folder holds besides the annotation files,
        each folder once: the unsaved edits of its journal (:meth:`unsaved_edits`) and, with
        ``classes``, the classes of its ``classes.txt`` (added in their order, before the labels
        of the files)."""
        xmls = [self.files.xml_path(entry) for entry in self.document.entries]
        for folder in dict.fromkeys(xml.parent for xml in xmls if xml is not None):
            if classes and folder not in self._class_folders_read:
                self._class_folders_read.add(folder)
                self._reading_class_files = True  # not written back to the session's folder meanwhile
                try:
                    self.classes.extend(read_class_file(folder))
                except ClassFileError as exc:
                    self.document.report("warning", str(exc))
                finally:
                    self._reading_class_files = False
            self.journal.read_folder(folder)
        wanted = {u.annotation_file for u in self.journal.found()}
        entries = {xml: i for i, xml in enumerate(xmls) if xml in wanted}
        if entries != self._unsaved_entries:
            self._unsaved_entries = entries
            self.unsaved_changed.emit()

    def _classes_changed(self) -> None:
        folder = self._class_folder()
        if not self.active or self._reading_class_files or folder is None or not len(self.classes) or not folder.is_dir():
            return
        try:
            written = write_class_file(folder, self.classes.names)
        except OSError as exc:
            self.document.report("error", f"class list not saved to {folder}: {exc}")
            return
        if written is not None:
            self.document.report("info", f"class list saved to {written}")

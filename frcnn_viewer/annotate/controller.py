"""The annotation mode of the main window: wires session, undo stack, editor and panels.

:class:`AnnotationController` is created by :class:`~frcnn_viewer.main_window.MainWindow`,
which forwards ``set_mode``, ``current_class`` and ``save_annotations`` to it and calls
:meth:`AnnotationController.document_changed` first whenever the document changes.

Once the mode has been entered, the session follows the document's current image: its
boxes come from the image's VOC file (or, without one, from the dataset's GT) and every
edit replaces the document's GT (:meth:`Document.set_ground_truth`), so the anchor labels
and the coverage flags (GT boxes no anchor matches) are recomputed at once. The session
stays on when going back to inspection, so the edited boxes are what is inspected.

Unsaved changes are resolved before the image changes (and when the window closes):
saved when :attr:`AnnotationController.autosave` is on, else as
:attr:`AnnotationController.unsaved_policy` says: ``"save"``, ``"discard"``, or ``"ask"``
(the default), which calls :attr:`AnnotationController.ask` (a dialog; tests replace it).
Where nobody can answer (the ``offscreen`` platform) asking saves rather than loses work.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from frcnn_core import POSITIVE
from frcnn_core.annotations import AnnotationError, BoxAnnotation, voc_path_for_image
from frcnn_core.data import ImageFolderDataset

from ..state.document import Change
from ..state.sources import ImageEntry, Source, open_sources
from . import geometry
from .box_editor import MIN_SIZE, BoxEditor
from .classes import ClassList
from .commands import AddBox, ChangeBox, RemoveBox, RenameClass, SetVerified
from .panel import AnnotationPanel
from .session import AnnotationSession
from .sets import export_set_coco, export_set_yolo, import_set_coco, is_verified
from .shortcuts import ACTIONS, HelpDialog, ShortcutConflicts

MODES = ("inspect", "annotate")
DUPLICATE_OFFSET = 10.0  # image pixels a duplicate is shifted by
NUDGE_FAR = 10.0
FALLBACK_CLASS = "object"  # the class of a new box while the class list is empty
NUDGES = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


class AnnotationController(QtCore.QObject):
    """Annotation mode of ``window`` (see the module docstring)."""

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.window, self.document = window, window.document
        self.mode = "inspect"
        self.active = False  # set once annotation mode is entered: the session follows the images
        self.session = AnnotationSession()
        self.classes = ClassList(self.document.class_names)
        self.stack = QtGui.QUndoStack(self)
        self.annotation_dir: Path | None = None  # where VOC files go (None: beside the image, or Annotations/)
        self.unsaved_policy = "ask"
        self.ask: Callable[[str], str] = self._ask_dialog
        self._index: int | None = None  # document index of the session's image
        self._verified_cache: dict[Path, tuple[int, bool]] = {}
        self.editor = BoxEditor(window.canvas, self)
        self.panel = AnnotationPanel(self.classes)
        self.dock = QtWidgets.QDockWidget("Annotate", window)
        self.dock.setObjectName("dock_annotate")
        self.dock.setWidget(self.panel)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.actions: dict[str, QtGui.QAction] = {}
        self._build_actions()
        self.conflicts = ShortcutConflicts(window, [*self.actions.values(), self.mode_action])
        self._connect()

    # ----- construction -------------------------------------------------------------------
    def _build_actions(self) -> None:
        window = self.window
        for spec in ACTIONS:
            action = QtGui.QAction(spec.text, window)
            action.setShortcuts([QtGui.QKeySequence(k) for k in spec.keys])
            action.triggered.connect(functools.partial(lambda handler, _checked=False: handler(), self._handler(spec.name)))
            action.setEnabled(False)
            window.addAction(action)
            self.actions[spec.name] = action
        self.mode_action = QtGui.QAction("&Annotation mode", window, checkable=True)
        self.mode_action.setShortcut(QtGui.QKeySequence("Ctrl+M"))
        self.mode_action.toggled.connect(lambda on: self.set_mode("annotate" if on else "inspect"))
        menu = window.menuBar().addMenu("&Annotate")
        menu.addAction(self.mode_action)
        menu.addSeparator()
        for name in ("save", "undo", "redo", None, "arm_drawing", "duplicate_selected", "delete_selected", "toggle_difficult", "toggle_verified", None):
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(self.actions[name])
        for text, slot in (("Open a folder to &annotate…", self._open_folder_dialog), ("Choose the annotation &folder…", self._annotation_dir_dialog),
                           ("&Import COCO JSON into VOC files…", self._import_coco_dialog), ("&Export COCO JSON…", self._export_coco_dialog),
                           ("Export &YOLO labels…", self._export_yolo_dialog)):
            menu.addAction(text, slot)
        menu.addSeparator()
        menu.addAction(self.actions["show_help"])
        toolbar = window.addToolBar("Annotate")
        toolbar.setObjectName("toolbar_annotate")
        toolbar.addAction(self.mode_action)

    def _handler(self, name: str) -> Callable[[], object]:
        """The method an action of :data:`ACTIONS` calls."""
        if name.startswith("pick_class_"):
            return functools.partial(self.pick_class, int(name.rsplit("_", 1)[1]))
        if name.startswith("nudge_"):
            direction, far = name.split("_")[1], name.endswith("_far")
            dx, dy = NUDGES[direction]
            step = NUDGE_FAR if far else 1.0
            return functools.partial(self.nudge, dx * step, dy * step)
        return getattr(self, name)

    def _connect(self) -> None:
        self.session.changed.connect(self._session_changed)
        self.classes.changed.connect(self._refresh_view)
        self.stack.cleanChanged.connect(lambda _clean: self._dirty_changed())
        self.editor.drawn.connect(self._drawn)
        self.editor.edited.connect(self._edited)
        self.editor.picked.connect(self.session.select)
        panel = self.panel
        panel.classes.picked.connect(self.choose_class)
        panel.classes.rename_requested.connect(self.rename_class)
        panel.classes.delete_requested.connect(self.delete_class)
        panel.classes.problem.connect(lambda text: self.document.report("warning", text))
        panel.box_form.edited.connect(self._form_edited)
        panel.verified_toggled.connect(lambda on: on != self.verified and self.toggle_verified())
        panel.save_clicked.connect(self.save)
        panel.unverified_only.toggled.connect(lambda _on: self._refresh_images())
        panel.image_picked.connect(lambda index: index != self.document.index and self.document.set_index(index))

    # ----- public state -------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Whether the session has changes not saved to its file."""
        return not self.stack.isClean()

    @property
    def verified(self) -> bool:
        return bool(self.session.annotation is not None and self.session.annotation.verified)

    @property
    def autosave(self) -> bool:
        """Save when moving to another image instead of asking."""
        return self.panel.autosave.isChecked()

    @autosave.setter
    def autosave(self, on: bool) -> None:
        self.panel.autosave.setChecked(bool(on))

    @property
    def unverified_only(self) -> bool:
        """List and step through (A/D) only the images not marked verified."""
        return self.panel.unverified_only.isChecked()

    @unverified_only.setter
    def unverified_only(self, on: bool) -> None:
        self.panel.unverified_only.setChecked(bool(on))

    @property
    def current_class(self) -> str | None:
        return self.classes.default

    @current_class.setter
    def current_class(self, name: str) -> None:
        self.classes.set_default(str(name).strip())

    # ----- mode ---------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """``"annotate"``: the mouse draws and edits boxes; ``"inspect"``: it picks cells and detections."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; modes are {', '.join(MODES)}")
        if mode == self.mode:
            return
        self.mode = mode
        annotating = mode == "annotate"
        if annotating and not self.active:
            self.active = True
            if self.document.image is not None:
                self._open_current()
        for action in self.actions.values():
            action.setEnabled(annotating)
        (self.conflicts.suspend if annotating else self.conflicts.restore)()
        self.editor.set_enabled(annotating)
        self.mode_action.setChecked(annotating)
        self.dock.setVisible(annotating)
        if annotating:
            self.dock.raise_()
            self._refresh_images()
            self.document.report("info", "annotation mode: drag on the image to draw a box; F1 lists the keys")
        self._refresh_view()

    def open_sources(self, specs: list[str]) -> tuple[list[Source], list[str]]:
        """What :func:`frcnn_viewer.state.sources.open_sources` opens, except that in annotation mode
        a plain or labelImg folder lists every image, with or without an annotation file."""
        if self.mode != "annotate":
            return open_sources(specs)
        folders = [s for s in specs if Path(s).is_dir() and not (Path(s) / "Annotations").is_dir()]
        sources, problems = open_sources([s for s in specs if s not in folders]) if len(folders) < len(specs) else ([], [])
        for folder in folders:
            dataset = ImageFolderDataset(folder)
            problems += [f"{folder}: {problem}" for problem in dataset.problems]
            if len(dataset):
                sources.append(Source(folder, dataset, annotated=True))
            else:
                problems.append(f"{folder}: no images found")
        return sources, problems

    # ----- following the document -----------------------------------------------------------
    def document_changed(self, aspects: frozenset) -> None:
        """Called by the window before it handles a document change."""
        if Change.ENTRIES in aspects:
            self.classes.extend(self.document.class_names)
            self._refresh_images()
        if Change.IMAGE in aspects and self.active:
            self._follow_image()
        elif Change.ANCHORS in aspects and self.active:
            self._refresh_view()

    def _image_path(self, entry: ImageEntry) -> Path | None:
        path = entry.info().get("path")
        return Path(path) if path else None

    def _xml_path(self, entry: ImageEntry) -> Path | None:
        path = self._image_path(entry)
        return None if path is None else voc_path_for_image(path, self._annotation_dir_for(entry))

    def _annotation_dir_for(self, entry: ImageEntry) -> Path | None:
        if self.annotation_dir is not None:
            return self.annotation_dir
        root = getattr(entry.source.dataset, "root", None)  # a VOC directory keeps them in Annotations/
        return Path(root) / "Annotations" if root is not None and (Path(root) / "Annotations").is_dir() else None

    def _follow_image(self) -> None:
        doc = self.document
        path = self._image_path(doc.image.entry)
        if path == self.session.image_path and self.session.image_path is not None:
            self._push_ground_truth()  # the same image shown again: keep its edits
            return
        if self.dirty and not self.resolve_unsaved("switch"):
            doc.set_index(self._index)  # cancelled: back to the image with the edits
            return
        self._open_current()

    def _open_current(self) -> None:
        doc = self.document
        image = doc.image
        self.stack.clear()
        self._index = doc.index
        path = self._image_path(image.entry)
        if path is None:
            self.session.close()
            doc.report("warning", f"{image.entry.name}: a generated image has no file; it cannot be annotated")
            return
        sx, sy = image.display_scale
        fallback = []
        if image.annotated:  # no VOC file yet: start from what the dataset says
            fallback = [BoxAnnotation(name, tuple(float(v) for v in box / (sx, sy, sx, sy)), bool(difficult))
                        for box, name, difficult in zip(image.gt_boxes, image.gt_names, image.difficult)]
        warnings = self.session.open(path, image.original_size, fallback, self._annotation_dir_for(image.entry))
        for warning in warnings:
            doc.report("warning", warning)
        if self.session.error:
            doc.report("error", self.session.error)
            return
        self.classes.extend(b.label for b in self.session.boxes)
        self._push_ground_truth()

    def _push_ground_truth(self) -> None:
        """Make the session's boxes the document's GT (the anchor labels follow)."""
        image = self.document.image
        if not self.session.editable or image is None:
            return
        sx, sy = image.display_scale
        boxes = np.array([b.box for b in self.session.boxes], dtype=np.float64).reshape(-1, 4) * (sx, sy, sx, sy)
        self.document.set_ground_truth(boxes, [b.label for b in self.session.boxes], np.array([b.difficult for b in self.session.boxes], dtype=bool))

    # ----- unsaved changes ------------------------------------------------------------------
    def resolve_unsaved(self, reason: str) -> bool:
        """Save or drop unsaved changes before ``reason`` (``"switch"`` image or ``"close"``);
        ``False`` when the user cancelled (or saving failed)."""
        if not self.dirty:
            return True
        choice = "save" if self.autosave and reason == "switch" else self.unsaved_policy
        if choice == "ask":
            choice = self.ask(f"{self.session.image_path.name} has unsaved annotation changes. Save them to {self.session.xml_path}?")
        if choice == "save":
            return self.save() is not None
        if choice == "discard":
            self.stack.setClean()
            return True
        return False

    def _ask_dialog(self, text: str) -> str:
        """``"save"``, ``"discard"`` or ``"cancel"`` from a message box."""
        if QtGui.QGuiApplication.platformName() == "offscreen":
            return "save"  # nobody can answer: keep the work
        buttons = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(self.window, "Unsaved annotations", text, buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def _dirty_changed(self) -> None:
        self.window.update_title()
        self._refresh_image_line()

    # ----- saving -------------------------------------------------------------------------
    def save(self) -> Path | None:
        """Write the current image's VOC XML; returns its path, or ``None`` with a message
        (an unreadable file is never overwritten)."""
        if not self.active and self.document.image is not None:
            self.active = True
            self._open_current()
        try:
            path = self.session.save()
        except (AnnotationError, OSError) as exc:
            self.document.report("error", f"not saved: {exc}")
            return None
        self.stack.setClean()
        self._verified_cache.pop(path, None)
        self.document.report("info", f"{len(self.session.boxes)} boxes saved to {path}")
        self._refresh_images()
        self._refresh_image_line()
        return path

    # ----- edits (each one an undo command) ---------------------------------------------------
    def _push(self, command: QtGui.QUndoCommand) -> None:
        if self.session.editable:
            self.stack.push(command)

    def _file_box(self, box) -> tuple[float, float, float, float]:
        """A displayed-pixel box in the image file's pixels, inside the image."""
        sx, sy = self.document.image.display_scale
        height, width = self.session.size
        x1, y1, x2, y2 = (float(v) for v in np.asarray(box) / (sx, sy, sx, sy))
        return (max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height)))

    def _selected_box(self) -> BoxAnnotation | None:
        index = self.session.selected
        return self.session.boxes[index] if index is not None else None

    def _drawn(self, box) -> None:
        if self.classes.default is None:
            self.classes.set_default(FALLBACK_CLASS)
        self._push(AddBox(self.session, BoxAnnotation(self.classes.default, self._file_box(box))))

    def _edited(self, index: int, box, what: str) -> None:
        self._push(ChangeBox(self.session, index, dataclasses.replace(self.session.boxes[index], box=self._file_box(box)), what))

    def _form_edited(self, new: BoxAnnotation) -> None:
        index = self.session.selected
        if index is None or not self.session.editable:
            return
        height, width = self.session.size
        fitted = geometry.fitted(new.box, width, height, MIN_SIZE / max(self.document.image.display_scale))
        if fitted is None:
            self.document.report("warning", f"box {new.box} has no area inside the {width}x{height} image; not changed")
            self._refresh_form()
            return
        self.classes.extend([new.label])
        self._push(ChangeBox(self.session, index, dataclasses.replace(new, box=fitted), "Edit box"))

    def arm_drawing(self) -> None:
        """The next drag draws a new box (key W)."""
        self.editor.arm_drawing()
        self.window.statusBar().showMessage("drag to draw a box", 4000)

    def delete_selected(self) -> None:
        if self.session.selected is not None:
            self._push(RemoveBox(self.session, self.session.selected))

    def duplicate_selected(self) -> None:
        box = self._selected_box()
        if box is None:
            return
        height, width = self.session.size
        shifted = geometry.moved(box.box, DUPLICATE_OFFSET, DUPLICATE_OFFSET, width, height)
        if shifted == box.box:  # at the bottom-right corner: shift the other way
            shifted = geometry.moved(box.box, -DUPLICATE_OFFSET, -DUPLICATE_OFFSET, width, height)
        self._push(AddBox(self.session, dataclasses.replace(box, box=shifted), "Duplicate box"))

    def nudge(self, dx: float, dy: float) -> None:
        """Move the selected box by ``(dx, dy)`` image pixels; with no selection the left and
        right arrows change image."""
        box = self._selected_box()
        if box is None:
            if dx and not dy:
                self._step(1 if dx > 0 else -1)
            return
        height, width = self.session.size
        moved = geometry.moved(box.box, dx, dy, width, height)
        if moved != box.box:
            self._push(ChangeBox(self.session, self.session.selected, dataclasses.replace(box, box=moved), "Nudge", merge=True))

    def pick_class(self, number: int) -> None:
        """Number key ``number``: that class of the list for new boxes and the selected box."""
        name = self.classes.by_number(number)
        if name is not None:
            self.choose_class(name)

    def choose_class(self, name: str) -> None:
        """Use ``name`` for new boxes and relabel the selected box."""
        self.classes.set_default(name)
        box = self._selected_box()
        if box is not None and box.label != name:
            self._push(ChangeBox(self.session, self.session.selected, dataclasses.replace(box, label=name), f"Relabel as {name!r}"))

    def toggle_difficult(self) -> None:
        box = self._selected_box()
        if box is not None:
            self._push(ChangeBox(self.session, self.session.selected, dataclasses.replace(box, difficult=not box.difficult), "Toggle difficult"))

    def toggle_verified(self) -> None:
        if self.session.editable:
            self._push(SetVerified(self.session, not self.verified))

    def rename_class(self, old: str, new: str) -> None:
        new = new.strip()
        if not new or new in self.classes:
            self.document.report("warning", f"cannot rename {old!r} to {new!r}: empty or taken")
            return
        command = RenameClass(self.session, self.classes, old, new)
        if self.session.editable:
            self.stack.push(command)
        else:
            command.redo()

    def delete_class(self, name: str) -> None:
        used = sum(b.label == name for b in self.session.boxes)
        if used:
            self.document.report("warning", f"class {name!r} labels {used} boxes of this image; relabel or delete them first")
            return
        self.classes.remove(name)

    def cancel(self) -> None:
        self.editor.cancel()
        self.session.select(None)

    def undo(self) -> None:
        self.stack.undo()

    def redo(self) -> None:
        self.stack.redo()

    def show_help(self) -> HelpDialog:
        dialog = HelpDialog(self.window)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # ----- images -------------------------------------------------------------------------
    def next_image(self) -> bool:
        return self._step(1)

    def previous_image(self) -> bool:
        return self._step(-1)

    def _step(self, delta: int) -> bool:
        """Show the next image in direction ``delta`` that passes the unverified filter."""
        doc = self.document
        index = (-1 if delta > 0 else len(doc.entries)) if doc.index is None else doc.index
        index += delta
        while 0 <= index < len(doc.entries):
            if not (self.unverified_only and self._entry_verified(index)) and doc.set_index(index):
                return True
            index += delta
        return False

    def _entry_verified(self, index: int) -> bool:
        if index == self._index and self.session.annotation is not None:
            return self.verified
        xml = self._xml_path(self.document.entries[index])
        if xml is None:
            return False
        try:
            stamp = xml.stat().st_mtime_ns
        except OSError:
            return False
        cached = self._verified_cache.get(xml)
        if cached is None or cached[0] != stamp:
            cached = self._verified_cache[xml] = (stamp, is_verified(xml))
        return cached[1]

    def _pairs(self) -> list[tuple[Path, Path]]:
        """``(image, VOC file)`` of every open image that has a file."""
        pairs = []
        for entry in self.document.entries:
            image = self._image_path(entry)
            if image is not None:
                pairs.append((image, voc_path_for_image(image, self._annotation_dir_for(entry))))
        return pairs

    # ----- views --------------------------------------------------------------------------
    def _session_changed(self, what: str) -> None:
        if what == "boxes":
            self._push_ground_truth()
        if what == "verified":
            self._refresh_images()
        self._refresh_view()

    def _refresh_view(self) -> None:
        image = self.document.image
        if self.session.editable and image is not None:
            sx, sy = image.display_scale
            boxes = np.array([b.box for b in self.session.boxes], dtype=np.float64).reshape(-1, 4) * (sx, sy, sx, sy)
            colours = [self.classes.colour(b.label) for b in self.session.boxes]
            self.editor.set_boxes(boxes, colours, self.session.selected, image.size, self._uncovered())
        else:
            self.editor.set_boxes(np.zeros((0, 4)), [], None, (0, 0))
        self._refresh_form()
        self._refresh_image_line()

    def _uncovered(self) -> list[int]:
        """The session's boxes that no anchor matches at the positive IoU (when the document's
        anchor labels are for these boxes)."""
        state = self.document.anchor_state
        if state is None or len(state.gt_boxes) != len(self.session.boxes) or not self.session.editable:
            return []
        return state.gt_without_positive()

    def _refresh_form(self) -> None:
        box = self._selected_box()
        note = ""
        state = self.document.anchor_state
        if box is not None and state is not None and len(state.gt_boxes) == len(self.session.boxes):
            index = self.session.selected
            if index in self._uncovered():
                note = f"! No anchor reaches IoU {state.pos_iou:g}: only its best anchor learns it"
            else:
                positives = int(((state.candidate_labels == POSITIVE) & (state.matched_gt == index)).sum())
                note = f"{positives} positive anchors match this box"
        self.panel.box_form.show_box(box, self.session.size, list(self.classes.names), note)

    def _refresh_image_line(self) -> None:
        session = self.session
        if session.error:
            self.panel.show_image(session.error, True, None)
        elif session.xml_path is None:
            self.panel.show_image("no image", False, None)
        else:
            state = "unsaved changes" if self.dirty else ("saved" if session.xml_path.exists() else "no file yet")
            self.panel.show_image(f"{session.xml_path} ({state})", False, self.verified)

    def _refresh_images(self) -> None:
        if self.mode != "annotate":
            return
        rows = []
        for index, entry in enumerate(self.document.entries):
            verified = self._entry_verified(index)
            if not (self.unverified_only and verified):
                rows.append((index, entry.name, verified))
        self.panel.show_images(rows, self.document.index)

    # ----- dialogs (thin wrappers) -------------------------------------------------------------
    def _open_folder_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.window, "Open a folder of images to annotate")
        if folder:
            self.set_mode("annotate")
            self.window.open_paths([folder], wait=False)

    def _annotation_dir_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.window, "Save VOC files into this folder (cancel: beside the images)")
        self.annotation_dir = Path(folder) if folder else None
        self.document.report("info", f"annotation files go {'into ' + folder if folder else 'beside the images'} (from the next image on)")

    def _import_coco_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Import a COCO JSON into VOC files", "", "COCO JSON (*.json)")
        if not path:
            return
        try:
            written, problems = import_set_coco(path, self._pairs())
        except AnnotationError as exc:
            self.document.report("error", str(exc))
            return
        for problem in problems:
            self.document.report("warning", problem)
        self.document.report("info", f"{len(written)} VOC files written from {path}")
        self._refresh_images()

    def _export_coco_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Export the annotations as COCO JSON", "annotations.json", "COCO JSON (*.json)")
        if path:
            self._export(lambda pairs: export_set_coco(pairs, self.classes.names, path), f"COCO JSON {path}")

    def _export_yolo_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.window, "Export YOLO labels into this folder")
        if folder:
            self._export(lambda pairs: export_set_yolo(pairs, self.classes.names, folder), f"YOLO labels in {folder}")

    def _export(self, write: Callable, what: str) -> None:
        if self.dirty and not self.resolve_unsaved("switch"):
            return
        try:
            _result, *rest = write(self._pairs())
        except (AnnotationError, OSError) as exc:
            self.document.report("error", f"export failed: {exc}")
            return
        for problem in rest[-1]:
            self.document.report("warning", problem)
        self.document.report("info", f"annotations exported to {what}")

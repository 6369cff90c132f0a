"""The annotation mode's controller: user gestures become undo commands over the model's data.

:class:`AnnotationController` is given its collaborators and nothing else: the Qt-free
:class:`~frcnn_viewer.annotation.model.mode.AnnotationModel` (session, class list, pixel mapping,
files; it follows the document), the canvas's :class:`~.box_editor.BoxEditor`, the
:class:`~.panel.AnnotationPanel` and its dock, the :class:`~.actions.AnnotationActions`, an
undo stack, and three callbacks into the window (a status-bar message, the title, opening
paths). The window forwards ``set_mode``, ``current_class`` and ``save`` to it and calls
:meth:`AnnotationController.document_changed` first whenever the document changes.

Every edit is a command (:mod:`.commands`) pushed on the undo stack; the model computes the
edited box, the command applies it to the session, and the session's change events redraw
the editor and the panel.

Unsaved changes are resolved before the image changes (and when the window closes):
saved when :attr:`AnnotationController.autosave` is on, else as
:attr:`AnnotationController.unsaved_policy` says (:class:`UnsavedChoice`: ``"save"``,
``"discard"``, or ``"ask"``, the default, which calls :attr:`AnnotationController.ask`:
a dialog; tests replace it). Where nobody can answer (the ``offscreen`` platform) asking
saves rather than loses work.

Labelling with the model: the detections of the current image's trace (the inference
worker's; the controller never runs the model) are shown as suggestions
(:class:`~frcnn_viewer.annotation.model.suggestions.SuggestionSet`); accepting one is an
:class:`~.commands.AcceptSuggestion` (an ``AddBox``), accepting all one undo macro of them,
rejecting one a :class:`~.commands.RejectSuggestion`. ``retrain`` starts (or continues) a run
of the ``training`` controller on the labelled images of the folder; its checkpoints become
the viewer's model, whose traces then bring new suggestions.

Never losing an edit: every step of the undo stack (an edit, an undo, a redo, a merged
nudge) is journaled by the model as it happens (:mod:`frcnn_viewer.annotation.model.journal`).
The edits a previous session journaled and never saved are offered on the
:class:`~.unsaved_bar.UnsavedEditsBar` once their folder is open; opening restores nothing by
itself. :meth:`AnnotationController.restore_unsaved_edits` puts them back as undoable
edits, :meth:`AnnotationController.discard_unsaved_edits` gives them up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from frcnn_core.annotations import BoxAnnotation

from ...state.document import Change
from ...state.sources import Progress, Source, open_sources
from ..model.files import open_annotation_sources
from ..model.journal import Snapshot, Step
from ..model.mode import AnnotationModel, Leaving, Mode, UnsavedChoice, parse_enum
from ..model.retrain import RunSoFar, retrain_keywords
from ..model.session import SessionChange
from .actions import AnnotationActions
from .box_editor import MIN_SIZE, BoxEditor
from .commands import AcceptSuggestion, AddBox, ChangeBox, RejectSuggestion, RemoveBox, RenameClass, RestoreEdit, SetVerified
from .panel import AnnotationPanel
from .shortcuts import ActionSpec, Command, HelpDialog
from .unsaved_bar import UnsavedEditsBar

STATUS_MS = 4000
RESTORED = "Restore: "  # the start of a restored edit's name in the undo history


class AnnotationController(QtCore.QObject):
    """Annotation mode (see the module docstring).

    Args:
        model: the annotation state over the window's document.
        editor: the canvas interaction (draws the boxes it is given, reports gestures).
        panel, dock: the annotation panel and the dock it sits in (shown in annotation mode).
        actions: the keyed actions, mode switch and menu.
        stack: the undo stack of the edits.
        show_status: ``(text, milliseconds)`` a transient status-bar message.
        title_changed: called when the unsaved mark of the window title may have changed.
        open_paths: opens folders or files in the window (the "open a folder" menu entry).
        parent: the Qt parent, and the parent of the dialogs.
        training: the window's training controller (``retrain`` starts runs on it), if any.
        unsaved_bar: where the edits a previous session never saved are offered, if anywhere.
    """

    def __init__(self, model: AnnotationModel, editor: BoxEditor, panel: AnnotationPanel, dock: QtWidgets.QDockWidget,
                 actions: AnnotationActions, stack: QtGui.QUndoStack, show_status: Callable[[str, int], None],
                 title_changed: Callable[[], None], open_paths: Callable[[list[str]], object], parent: QtWidgets.QWidget,
                 training=None, unsaved_bar: UnsavedEditsBar | None = None) -> None:
        super().__init__(parent)
        self.model, self.document = model, model.document
        self.editor, self.panel, self.dock, self.actions, self.stack = editor, panel, dock, actions, stack
        self.show_status, self.title_changed, self.open_paths = show_status, title_changed, open_paths
        self.training, self.unsaved_bar = training, unsaved_bar
        self._stack_index = 0  # the undo stack's index as last journaled
        self._pushing = False  # a command (or macro) is being pushed: the stack's move up is an edit
        self.by_uncertainty = False  # the dock's image list in labelling order (sort_images("uncertainty"))
        self._shown_rows = np.zeros(0, dtype=np.int64)  # the suggestions the editor shows, by its rows
        self._unsaved_policy = UnsavedChoice.ASK
        self.ask: Callable[[str], UnsavedChoice | str] = self._ask_dialog
        self._connect()

    def _connect(self) -> None:
        self.model.session.changed.connect(self._session_changed)
        self.stack.indexChanged.connect(self._stack_moved)
        self.model.unsaved_changed.connect(self._refresh_unsaved)
        if self.unsaved_bar is not None:
            self.unsaved_bar.restore_clicked.connect(self.restore_unsaved_edits)
            self.unsaved_bar.discard_clicked.connect(self.discard_unsaved_edits)
        self.model.classes.changed.connect(self._refresh_view)
        self.actions.triggered.connect(self.run_action)
        self.actions.mode_toggled.connect(lambda on: self.set_mode(Mode.ANNOTATE if on else Mode.INSPECT))
        self.editor.drawn.connect(lambda box: self._push(AddBox(self.session, self.model.drawn_box(box))))
        self.editor.edited.connect(lambda index, box, what: self._push(ChangeBox(self.session, index, self.model.moved_box(index, box), what)))
        self.editor.picked.connect(self.session.select)
        self.editor.suggestion_picked.connect(self._suggestion_picked)
        self.editor.suggestion_accepted.connect(lambda row: self.accept_suggestion(int(self._shown_rows[row])))
        self.editor.hovered.connect(self._hovered)
        self.model.suggestions.changed.connect(self._refresh_view)
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
        panel.show_min_score(self.model.suggestions.min_score)
        panel.min_score_changed.connect(self.set_min_score)
        panel.accept_all_clicked.connect(self.accept_all_suggestions)
        panel.next_unlabelled_clicked.connect(self.next_unlabelled)
        panel.retrain_clicked.connect(self.retrain)

    def run_action(self, spec: ActionSpec) -> object:
        """Do what action ``spec`` (a row of :data:`~.shortcuts.ACTIONS`, :data:`~.actions.SET_ACTIONS`
        or :data:`~.actions.MODEL_ACTIONS`) says: its command's handler (:data:`HANDLERS`) with its arguments."""
        return HANDLERS[spec.command](self, *spec.args)

    # ----- public state -------------------------------------------------------------------
    @property
    def session(self):
        """The model's :class:`~frcnn_viewer.annotation.model.session.AnnotationSession`."""
        return self.model.session

    @property
    def classes(self):
        """The model's :class:`~frcnn_viewer.annotation.model.classes.ClassList`."""
        return self.model.classes

    @property
    def mode(self) -> Mode:
        return self.model.mode

    @property
    def dirty(self) -> bool:
        """Whether the session has changes not saved to its file."""
        return self.model.dirty

    @property
    def verified(self) -> bool:
        return self.model.verified

    @property
    def unsaved_policy(self) -> UnsavedChoice:
        """What happens to unsaved changes when leaving the image (:class:`UnsavedChoice`, or its value)."""
        return self._unsaved_policy

    @unsaved_policy.setter
    def unsaved_policy(self, choice: UnsavedChoice | str) -> None:
        choice = parse_enum(UnsavedChoice, choice)
        if choice is UnsavedChoice.CANCEL:
            raise ValueError("the unsaved policy is ask, save or discard")
        self._unsaved_policy = choice

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
    def set_mode(self, mode: Mode | str) -> None:
        """``"annotate"``: the mouse draws and edits boxes; ``"inspect"``: it picks cells and detections."""
        if not self.model.set_mode(mode):
            return
        annotating = self.model.annotating
        self.actions.set_annotating(annotating)
        self.editor.set_enabled(annotating)
        self.dock.setVisible(annotating)
        if annotating:
            self.dock.raise_()
            self._refresh_images()
            self.document.report("info", "annotation mode: drag on the image to draw a box; F1 lists the keys")
        self._refresh_view()

    def source_opener(self) -> Callable[[list[str], Progress | None], tuple[list[Source], list[str]]]:
        """How the window opens paths now: :func:`frcnn_viewer.state.sources.open_sources`; in
        annotation mode :func:`open_annotation_sources` (a plain or labelImg folder lists every
        image, with or without an annotation file). Plain functions: the window runs them in its
        opening thread."""
        return open_annotation_sources if self.model.annotating else open_sources

    # ----- following the document -----------------------------------------------------------
    def document_changed(self, aspects: frozenset) -> None:
        """Called by the window before it handles a document change."""
        if aspects & {Change.ENTRIES, Change.CLASSES}:
            self.classes.refresh()
            if Change.ENTRIES in aspects and self.model.active:
                self.model.read_folder_files()
            elif Change.ENTRIES in aspects:
                self.model.look_for_journals()  # the offer shows in any workspace
            self._refresh_images()
        if Change.RESULTS in aspects and self.by_uncertainty:
            self._refresh_images()
        if Change.IMAGE in aspects and self.model.active:
            self.model.follow_image(lambda: self.resolve_unsaved(Leaving.SWITCH))
        if aspects & {Change.TRACE, Change.MODEL} and self.model.active:
            self.model.update_suggestions()  # refreshes the view through the suggestions' event
        elif Change.ANCHORS in aspects and self.model.active:
            self._refresh_view()

    # ----- unsaved changes ------------------------------------------------------------------
    def resolve_unsaved(self, reason: Leaving | str) -> bool:
        """Save or drop unsaved changes before ``reason`` (:class:`Leaving`: ``"switch"`` image or
        ``"close"``); ``False`` when the user cancelled (or saving failed)."""
        reason = parse_enum(Leaving, reason)
        if not self.dirty:
            return True
        choice = UnsavedChoice.SAVE if self.autosave and reason is Leaving.SWITCH else self.unsaved_policy
        if choice is UnsavedChoice.ASK:
            session = self.session
            choice = parse_enum(UnsavedChoice, self.ask(f"{session.image_path.name} has unsaved annotation changes. Save them to {session.xml_path}?"))
        if choice is UnsavedChoice.SAVE:
            return self.save() is not None
        if choice is UnsavedChoice.DISCARD:
            self.session.mark_clean()
            return True
        return False

    def _ask_dialog(self, text: str) -> UnsavedChoice:
        """Save, discard or cancel, from a message box."""
        if QtGui.QGuiApplication.platformName() == "offscreen":
            return UnsavedChoice.SAVE  # nobody can answer: keep the work
        buttons = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(self.parent(), "Unsaved annotations", text, buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        return {buttons.Save: UnsavedChoice.SAVE, buttons.Discard: UnsavedChoice.DISCARD}.get(answer, UnsavedChoice.CANCEL)

    def save(self) -> Path | None:
        """Write the current image's VOC XML; returns its path, or ``None`` with a message
        (an unreadable file is never overwritten)."""
        return self.model.save()  # the session announces it: the list and the title follow

    # ----- edits (each one an undo command) ---------------------------------------------------
    def _push(self, command: QtGui.QUndoCommand) -> None:
        if self.session.editable:
            self._pushing = True
            try:
                self.stack.push(command)
            finally:
                self._pushing = False

    def _push_macro(self, text: str, commands: Iterable[QtGui.QUndoCommand]) -> None:
        """Push ``commands`` (each made when the one before is done) as one undo step."""
        if not self.session.editable:
            return
        self._pushing = True
        try:
            self.stack.beginMacro(text)
            for command in commands:
                self.stack.push(command)
            self.stack.endMacro()
        finally:
            self._pushing = False

    def _stack_moved(self, index: int) -> None:
        """Journal the step the undo stack just took (its ``indexChanged``): up to a command
        pushed is an edit, up otherwise a redo, down an undo, the same index a merged nudge.
        Every path to the stack passes here, the keys' and scripts' alike."""
        previous, self._stack_index = self._stack_index, index
        if not shiboken6.isValid(self.stack):  # the stack's destructor clears it, with the window going
            return
        if self.stack.count() == 0:  # cleared for another image: no edit
            return
        if index > previous:
            step, text = (Step.DO if self._pushing else Step.REDO), self.stack.text(index - 1)
        elif index == previous:
            step, text = Step.AMEND, self.stack.text(index - 1)
        else:
            step, text = Step.UNDO, self.stack.text(index)
        self.model.record_edit(step, text)

    def _form_edited(self, new: BoxAnnotation) -> None:
        index = self.session.selected
        if index is None or not self.session.editable:
            return
        fitted = self.model.typed_box(new, MIN_SIZE)
        if fitted is None:
            self._refresh_form()
        else:
            self._push(ChangeBox(self.session, index, fitted, "Edit box"))

    def arm_drawing(self) -> None:
        """The next drag draws a new box (key W)."""
        self.editor.arm_drawing()
        self.show_status("drag to draw a box", STATUS_MS)

    def delete_selected(self) -> None:
        """Delete the selected box, or reject the selected suggestion."""
        if self.model.selected_suggestion is not None:
            self.reject_suggestion()
        elif self.session.selected is not None:
            self._push(RemoveBox(self.session, self.session.selected))

    def duplicate_selected(self) -> None:
        if self.session.selected is not None:
            self._push(AddBox(self.session, self.model.duplicate_box(self.session.selected), "Duplicate box"))

    def nudge(self, dx: float, dy: float) -> None:
        """Move the selected box by ``(dx, dy)`` image pixels; with no selection the left and
        right arrows change image."""
        index = self.session.selected
        if index is None:
            if dx and not dy:
                self._step(1 if dx > 0 else -1)
            return
        moved = self.model.nudged_box(index, dx, dy)
        if moved is not None:
            self._push(ChangeBox(self.session, index, moved, "Nudge", merge=True))

    def pick_class(self, number: int) -> None:
        """Number key ``number``: that class of the list for new boxes and the selected box."""
        name = self.classes.by_number(number)
        if name is not None:
            self.choose_class(name)

    def choose_class(self, name: str) -> None:
        """Use ``name`` for new boxes and relabel the selected box."""
        self.classes.set_default(name)
        box = self.model.selected_box()
        if box is not None and box.label != name:
            self._push(ChangeBox(self.session, self.session.selected, dataclasses.replace(box, label=name), f"Relabel as {name!r}"))

    def toggle_difficult(self) -> None:
        box = self.model.selected_box()
        if box is not None:
            self._push(ChangeBox(self.session, self.session.selected, dataclasses.replace(box, difficult=not box.difficult), "Toggle difficult"))

    def toggle_verified(self) -> None:
        self._push(SetVerified(self.session, not self.verified))

    def rename_class(self, old: str, new: str) -> None:
        new = new.strip()
        if not new or new in self.classes:
            self.document.report("warning", f"cannot rename {old!r} to {new!r}: empty or taken")
            return
        command = RenameClass(self.session, self.classes, old, new)
        if self.session.editable:
            self._push(command)
        else:
            command.redo()

    def delete_class(self, name: str) -> None:
        used = self.model.class_in_use(name)
        if used:
            self.document.report("warning", f"class {name!r} labels {used} boxes of this image; relabel or delete them first")
            return
        self.classes.remove(name)

    def cancel(self) -> None:
        self.editor.cancel()
        self.session.select(None)
        self._suggestion_picked(None)

    # ----- suggestions ----------------------------------------------------------------------
    def set_min_score(self, value: float) -> None:
        """Show the suggestions scoring at least ``value`` (the slider)."""
        self.model.suggestions.set_min_score(value)
        self.panel.show_min_score(self.model.suggestions.min_score)

    def suggestions(self) -> dict:
        """The suggestions shown now, best first: ``boxes`` ``[S, 4]`` displayed pixels (the
        canvas's and the trace's), ``file_boxes`` ``[S, 4]`` the image file's pixels, ``labels``
        (class names), ``scores`` ``[S]`` and ``rows`` (their rows among the trace's detections)."""
        rows = self.model.shown_suggestions()
        boxes = self.model.suggestions.boxes[rows]
        return {"boxes": boxes, "file_boxes": self.model.mapping.to_file(boxes), "labels": [self.model.suggestions.names[i] for i in rows],
                "scores": self.model.suggestions.scores[rows], "rows": rows}

    def select_suggestion(self, index: int | None) -> None:
        """Select suggestion ``index`` (a row of the trace's detections, when it is shown; ``None``: none)."""
        self.model.select_suggestion(index)
        self._refresh_view()

    def _suggestion_picked(self, row: int | None) -> None:
        self.model.select_suggestion(None if row is None else int(self._shown_rows[row]))
        self._refresh_view()

    def accept_suggestion(self, index: int | None = None) -> bool:
        """Accept suggestion ``index`` (a row of the trace's detections; default: the selected
        one) as a GT box of its class; returns whether one was accepted."""
        index = self.model.selected_suggestion if index is None else index
        if index is None or index not in set(self.model.shown_suggestions().tolist()) or not self.session.editable:
            return False
        self._push(self._accept_command(index))
        return True

    def accept_all_suggestions(self, min_score: float | None = None) -> int:
        """Accept every suggestion shown (scoring at least ``min_score`` instead of the slider's
        value, when given) as one undo step; returns how many."""
        if not self.session.editable:
            return 0
        model = self.model
        rows = model.suggestions.shown(model.displayed_boxes(), [b.label for b in self.session.boxes], min_score) if len(model.suggestions) else []
        if len(rows):
            # each built as it goes: added at the end
            self._push_macro(f"Accept {len(rows)} suggestions", (self._accept_command(int(index)) for index in rows))
            self.show_status(f"{len(rows)} suggestions accepted (Ctrl+Z undoes them all)", STATUS_MS)
        return len(rows)

    def _accept_command(self, index: int) -> AcceptSuggestion:
        suggestion = self.model.suggestions.suggestion(index)
        return AcceptSuggestion(self.session, self.model.suggested_box(index), self.model.suggestions, (suggestion.box, suggestion.name))

    def reject_suggestion(self, index: int | None = None) -> bool:
        """Hide suggestion ``index`` (a row of the trace's detections; default: the selected one)
        for this image, undoably; returns whether one was rejected."""
        index = self.model.selected_suggestion if index is None else index
        if index is None or index not in set(self.model.shown_suggestions().tolist()):
            return False
        suggestion = self.model.suggestions.suggestion(index)
        self.model.selected_suggestion = None
        self._push(RejectSuggestion(self.model.suggestions, suggestion.box, suggestion.name))
        return True

    def _hovered(self, x: float, y: float) -> None:
        note = self.model.hover_note(x, y)
        if note:
            self.show_status(note, STATUS_MS)

    # ----- copy and paste -------------------------------------------------------------------
    def copy_boxes(self) -> int:
        """Copy the selected box (every box without a selection); returns how many."""
        count = self.model.copy_boxes() if self.session.editable else 0
        self.show_status(f"{count} boxes copied", STATUS_MS)
        return count

    def paste_boxes(self) -> int:
        """Paste the copied boxes into this image (clipped to it), as one undo step; returns how many."""
        return self._add_boxes(self.model.fitted_boxes(self.model.clipboard), "Paste")

    def paste_previous(self) -> int:
        """Add every box of the previous image's saved file, as one undo step; returns how many."""
        if not self.session.editable:
            return 0
        return self._add_boxes(self.model.fitted_boxes(self.model.previous_image_boxes()), "Copy the previous image's")

    def _add_boxes(self, boxes: list[BoxAnnotation], what: str) -> int:
        if not boxes or not self.session.editable:
            return 0
        self._push_macro(f"{what} {len(boxes)} boxes", (AddBox(self.session, box, "Paste box") for box in boxes))
        return len(boxes)

    # ----- edits a previous session never saved ---------------------------------------------------
    def restore_unsaved_edits(self) -> int:
        """Put back the edits a previous session journaled and never saved, as undoable edits
        (one undo step each, as they were), on their image, shown in annotation mode; returns
        how many. One image at a time (the first offered; the offer then names the others); save
        to keep them. Unsaved changes of the image shown are resolved first, as when changing
        image; an image that cannot be opened for editing is reported and restores nothing."""
        doc = self.document
        self.model.activate()  # reads every open image's folder (once), as entering the mode does
        offered = self.model.unsaved_edits()
        if not offered:
            return 0
        index, unsaved = offered[0]
        self.set_mode(Mode.ANNOTATE)
        if doc.index != index and not doc.set_index(index):
            doc.report("error", f"{unsaved.annotation_file}: its image cannot be shown; the unsaved edits are kept")
            return 0
        session = self.session
        if not (self.model.shows_session_image() and session.editable and session.xml_path == unsaved.annotation_file):
            doc.report("error", f"{unsaved.annotation_file}: not restored, its image is not the one being edited (the change of "
                                "image was cancelled, or the file cannot be read); the unsaved edits are kept")
            return 0
        self.model.journal.take(unsaved.annotation_file)
        self.classes.extend(b.label for edit in unsaved.edits for b in edit.state.boxes)  # as when the boxes were made
        before = Snapshot.of(session.annotation)
        if unsaved.base is not None and before != unsaved.base:
            doc.report("warning", f"{unsaved.annotation_file} changed after these edits were made; restoring them replaces "
                                  "its boxes (Ctrl+Z undoes each one)")
        for edit in unsaved.edits:
            text = edit.text if edit.text.startswith(RESTORED) else RESTORED + edit.text  # restored twice: named once
            self._push(RestoreEdit(session, before, edit.state, text))
            before = edit.state
        doc.report("info", f"{len(unsaved.edits)} unsaved edits of {session.image_path.name} restored; save to keep them")
        return len(unsaved.edits)

    def discard_unsaved_edits(self) -> int:
        """Give up every unsaved edit offered (their lines leave the journals); returns how many
        images had some."""
        count = self.model.discard_unsaved_edits()
        if count:
            self.document.report("info", f"the unsaved edits of {count} image{'s' if count > 1 else ''} were discarded")
        return count

    def _refresh_unsaved(self) -> None:
        if self.unsaved_bar is not None:
            self.unsaved_bar.show_offer(self.model.unsaved_edits_note())

    # ----- what to label next, retraining ---------------------------------------------------------
    def set_labelling_order(self, on: bool) -> None:
        """List the dock's images in labelling order (unlabelled, unverified, most uncertain first)."""
        self.by_uncertainty = bool(on)
        self._refresh_images()

    def next_unlabelled(self) -> bool:
        """Show the next image to label (:meth:`AnnotationModel.next_unlabelled`); ``False`` when
        every other image has an annotation file."""
        index = self.model.next_unlabelled()
        if index is None:
            self.document.report("info", "every other image has an annotation file")
            return False
        return self.document.set_index(index)

    def retrain(self) -> bool:
        """Train (or continue training) the model on the labelled images of the current image's
        folder, in the training dock; returns whether a run was asked for. Unsaved changes are
        resolved first; problems are reported."""
        doc = self.document
        if self.training is None or doc.index is None:
            doc.report("warning", "retraining needs an open image and the training dock")
            return False
        if not self.resolve_unsaved(Leaving.SWITCH):
            return False
        session = self.training.session
        run = RunSoFar(session.checkpoint, session.iteration, tuple(session.info.detector.class_names)) if session.info is not None else None
        try:
            keywords = retrain_keywords(self.model.files, doc.entries, doc.index, self.classes.names,
                                        doc.model.checkpoint if doc.model is not None else None, run)
        except ValueError as exc:
            doc.report("warning", f"not retrained: {exc}")
            return False
        self.training.follow = False  # keep the image being labelled on the canvas
        self.training.start(wait=False, **keywords)
        doc.report("info", f"training on the labelled images of {keywords['data']}; the suggestions follow each checkpoint")
        return True

    def undo(self) -> None:
        self.stack.undo()

    def redo(self) -> None:
        self.stack.redo()

    def show_help(self) -> HelpDialog:
        dialog = HelpDialog(self.parent())
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # ----- images -------------------------------------------------------------------------
    def next_image(self) -> bool:
        return self._step(1)

    def previous_image(self) -> bool:
        return self._step(-1)

    def _step(self, delta: int) -> bool:
        return self.model.step(delta, self.unverified_only)

    # ----- views --------------------------------------------------------------------------
    def _session_changed(self, what: SessionChange) -> None:
        if what is SessionChange.IMAGE:
            self.stack.clear()  # the commands are about the previous image's boxes
        if what in (SessionChange.VERIFIED, SessionChange.SAVED):
            self._refresh_images()
        if what is not SessionChange.SELECTION:
            self.title_changed()
        self._refresh_view()

    def _refresh_view(self) -> None:
        image = self.document.image
        if self.session.editable and image is not None:
            colours = [self.classes.colour(b.label) for b in self.session.boxes]
            self.editor.set_boxes(self.model.displayed_boxes(), colours, self.session.selected, image.size, self.model.uncovered())
        else:
            self.editor.set_boxes(np.zeros((0, 4)), [], None, (0, 0))
        self._refresh_suggestions()
        self._refresh_form()
        self._refresh_image_line()

    def _refresh_suggestions(self) -> None:
        model = self.model
        rows = self._shown_rows = model.shown_suggestions()
        suggestions = model.suggestions
        selected = np.flatnonzero(rows == model.selected_suggestion)
        self.editor.set_suggestions(suggestions.boxes[rows], [self.classes.colour(suggestions.names[i]) for i in rows],
                                    [f"{suggestions.names[i]} {suggestions.scores[i]:.2f}" for i in rows], int(selected[0]) if len(selected) else None)
        if model.suggesting():
            hidden = len(suggestions) - len(rows)
            self.panel.show_suggestions(f"{len(rows)} shown, {hidden} hidden (below the score, on a box, or rejected)")
        else:
            self.panel.show_suggestions("no suggestions: load or train a model (a trained checkpoint)")

    def _refresh_form(self) -> None:
        self.panel.box_form.show_box(self.model.selected_box(), self.session.size, self.classes.names, self.model.coverage_note(self.session.selected))

    def _refresh_image_line(self) -> None:
        text, error = self.model.file_status()
        self.panel.show_image(text, error, self.verified if self.session.xml_path is not None and not error else None)

    def _refresh_images(self) -> None:
        if self.model.annotating:
            order = self.model.labelling_order() if self.by_uncertainty else None
            self.panel.show_images(self.model.image_rows(self.unverified_only, order), self.document.index)

    # ----- dialogs (thin wrappers over the model) ----------------------------------------------
    def open_folder(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.parent(), "Open a folder of images to annotate")
        if folder:
            self.set_mode(Mode.ANNOTATE)
            self.open_paths([folder])

    def choose_annotation_dir(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.parent(), "Save VOC files into this folder (cancel: beside the images)")
        self.model.files.annotation_dir = Path(folder) if folder else None
        self.document.report("info", f"annotation files go {'into ' + folder if folder else 'beside the images'} (from the next image on)")

    def import_coco(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.parent(), "Import a COCO JSON into VOC files", "", "COCO JSON (*.json)")
        if path:
            self.model.import_coco(path)
            self._refresh_images()

    def export_coco(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.parent(), "Export the annotations as COCO JSON", "annotations.json", "COCO JSON (*.json)")
        if path and self.resolve_unsaved(Leaving.SWITCH):
            self.model.export_coco(path)

    def export_yolo(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.parent(), "Export YOLO labels into this folder")
        if folder and self.resolve_unsaved(Leaving.SWITCH):
            self.model.export_yolo(folder)

    def export_yolo_dataset(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.parent(), "Export a YOLO dataset into this folder")
        if folder and self.resolve_unsaved(Leaving.SWITCH):
            self.model.export_yolo_dataset(folder)

    def export_cvat(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.parent(), "Export the annotations as CVAT XML", "annotations.xml", "CVAT XML (*.xml)")
        if path and self.resolve_unsaved(Leaving.SWITCH):
            self.model.export_cvat(path)

    def export_labelme(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.parent(), "Export labelme JSON files into this folder")
        if folder and self.resolve_unsaved(Leaving.SWITCH):
            self.model.export_labelme(folder)


# What each command does: the controller's method, called with its action's arguments.
HANDLERS: dict[Command, Callable[..., object]] = {
    Command.ARM_DRAWING: AnnotationController.arm_drawing,
    Command.PREVIOUS_IMAGE: AnnotationController.previous_image,
    Command.NEXT_IMAGE: AnnotationController.next_image,
    Command.DELETE_SELECTED: AnnotationController.delete_selected,
    Command.DUPLICATE_SELECTED: AnnotationController.duplicate_selected,
    Command.SAVE: AnnotationController.save,
    Command.UNDO: AnnotationController.undo,
    Command.REDO: AnnotationController.redo,
    Command.TOGGLE_VERIFIED: AnnotationController.toggle_verified,
    Command.TOGGLE_DIFFICULT: AnnotationController.toggle_difficult,
    Command.NUDGE: AnnotationController.nudge,
    Command.ACCEPT_SUGGESTION: AnnotationController.accept_suggestion,
    Command.ACCEPT_ALL_SUGGESTIONS: AnnotationController.accept_all_suggestions,
    Command.COPY_BOXES: AnnotationController.copy_boxes,
    Command.PASTE_BOXES: AnnotationController.paste_boxes,
    Command.PASTE_PREVIOUS: AnnotationController.paste_previous,
    Command.NEXT_UNLABELLED: AnnotationController.next_unlabelled,
    Command.CANCEL: AnnotationController.cancel,
    Command.SHOW_HELP: AnnotationController.show_help,
    Command.PICK_CLASS: AnnotationController.pick_class,
    Command.OPEN_FOLDER: AnnotationController.open_folder,
    Command.CHOOSE_ANNOTATION_DIR: AnnotationController.choose_annotation_dir,
    Command.IMPORT_COCO: AnnotationController.import_coco,
    Command.EXPORT_COCO: AnnotationController.export_coco,
    Command.EXPORT_YOLO: AnnotationController.export_yolo,
    Command.EXPORT_YOLO_DATASET: AnnotationController.export_yolo_dataset,
    Command.EXPORT_CVAT: AnnotationController.export_cvat,
    Command.EXPORT_LABELME: AnnotationController.export_labelme,
    Command.RETRAIN: AnnotationController.retrain,
}

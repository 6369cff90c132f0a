"""The Issues list's controller: searches in the inference worker, jumps to each issue, applies
and dismisses.

:class:`IssuesController` is given its collaborators: the Qt-free
:class:`~frcnn_viewer.annotation.model.issues.IssueList`, the :class:`~.issues_panel.IssuesPanel`,
the :class:`~.controller.AnnotationController` (its model's session, files and document, its undo
stack), the :class:`~frcnn_viewer.workers.InferenceClient` (the search runs in its worker, one
image per turn so the image shown keeps being traced) and the provenance panel with a callback
that brings its dock to the front.

Selecting an issue shows its image with the box selected (for ``missing``, the suggestion
selected once the image's trace is there), the detection that is the evidence selected in the
provenance panel, and above it the stage values and the head's class scores on the box.
**Enter** applies the fix as one undo command of the annotation mode (``AddBox``,
``ChangeBox`` or ``RemoveBox``); **Delete** dismisses the issue (kept in
``.frcnn-dismissed.json`` beside the annotations). A new model (each checkpoint of a
retraining run, or a checkpoint loaded) searches again once a search has been asked for.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from PySide6 import QtCore

from frcnn_core.boxes import pairwise_iou
from frcnn_core.evaluation.label_errors import LabelErrorKind

from ...state.document import Change
from ..model.issues import FixKind, Issue, IssueList, TruthSource, box_row, fix_of
from .commands import AddBox, ChangeBox, RemoveBox
from .issues_panel import IssuesPanel

SEARCH_REFRESH_MS = 300  # while a search runs, the list is redrawn at most this often
SAME_DETECTION_IOU = 0.9  # the shown trace's detection this close to an issue's (same class) is its evidence
EVIDENCE_NAMES = {
    "stage": "lost at stage",
    "objectness": "RPN objectness at the anchors near it",
    "proposal_score": "best proposal objectness on it",
    "detection_score": "best detection on it (any class)",
    "own_score": "best detection of its class",
    "other_score": "best detection of another class",
    "head_own": "head on the box: its class",
    "head_other": "head on the box: best other class",
    "head_background": "head on the box: background",
    "near_detection_score": "best confident detection near it (IoU >= 0.1)",
    "detection_iou": "IoU of the box with the detection",
    "best_label_iou": "best IoU with a label",
}


def _box(box) -> str:
    return "(" + ", ".join(f"{v:.0f}" for v in box) + ")"


def evidence_html(issue: Issue) -> str:
    """The issue, its fix and the stage values that decided it, as rich text."""
    lines = [f"<b>Issue: {issue.kind.description}</b> ({issue.kind.value}, score {issue.score:.2f})"]
    if issue.box is not None:
        lines.append(f"labelled {issue.label} {_box(issue.box)}")
    fix = {LabelErrorKind.MISSING: f"add {issue.suggested_label} {_box(issue.suggested_box or ())}",
           LabelErrorKind.WRONG_CLASS: f"relabel as {issue.suggested_label}",
           LabelErrorKind.BAD_BOX: f"move to {_box(issue.suggested_box or ())}",
           LabelErrorKind.SPURIOUS: "delete the box"}[issue.kind]
    lines.append(f"fix (Enter): {fix}")
    values = dict(issue.evidence)
    if issue.stage is not None:
        lines.append(f"{EVIDENCE_NAMES['stage']}: {issue.stage}")
    for name, value in values.items():
        lines.append(f"{EVIDENCE_NAMES.get(name, name)}: {value:.2f}")
    return "<br>".join(lines)


class IssuesController(QtCore.QObject):
    """The Issues list (see the module docstring).

    Args:
        issues: the list's state; panel: its dock's widgets.
        annotation: the annotation mode (its session is where fixes go, through its undo stack).
        client: the inference worker's client (the search runs there).
        provenance: the provenance panel (the evidence goes there); show_provenance: brings its dock forward.
        show_box: brings a box (xyxy displayed pixels) of the image shown into view (the canvas's).
        parent: the Qt parent.
    """

    def __init__(self, issues: IssueList, panel: IssuesPanel, annotation, client, provenance, show_provenance: Callable[[], None],
                 show_box: Callable[[tuple], None], parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.issues, self.panel, self.annotation, self.client = issues, panel, annotation, client
        self.model, self.document = annotation.model, annotation.document
        self.provenance, self.show_provenance, self.show_box = provenance, show_provenance, show_box
        self._shown: list[Issue] = []
        self._current: Issue | None = None  # the issue looked at: its image's trace brings its detection
        panel.find_clicked.connect(self.find)
        panel.picked.connect(lambda row: self.select(self._shown[row]) if row < len(self._shown) else None)
        panel.apply_requested.connect(lambda row: self.apply(self._shown[row]) if row < len(self._shown) else None)
        panel.dismiss_requested.connect(lambda row: self.dismiss(self._shown[row]) if row < len(self._shown) else None)
        self._refresh_timer = QtCore.QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(SEARCH_REFRESH_MS)
        self._refresh_timer.timeout.connect(self._refresh)
        issues.changed.connect(self._issues_changed)
        self.model.session.changed.connect(lambda _what: self._refresh())
        # methods of this QObject: Qt queues the worker's answers to the GUI thread (a plain
        # function or another object's method would run in the worker's thread and draw from there)
        client.worker.issues_found.connect(self._found)
        client.worker.issues_done.connect(self._done)
        self.document.changed.connect(self._document_changed)

    # ----- searching --------------------------------------------------------------------------
    def find(self) -> bool:
        """Search every open image that has a file for label issues, in the worker, with the
        model and inference settings shown; returns whether a search started (it needs a trained model)."""
        doc, model = self.document, self.model
        if doc.model is None or not doc.model.trained:
            doc.report("warning", "finding label issues needs a trained model: train one or load a checkpoint")
            return False
        editing = model.index if model.session.editable and model.shows_session_image() else None
        sources = []
        for index, entry in enumerate(doc.entries):
            xml = model.files.xml_path(entry)
            if xml is None:  # a generated image: nothing to fix
                continue
            boxes = tuple(model.session.boxes) if index == editing else None
            sources.append(TruthSource(index, entry, xml, xml.parent, boxes))
        key = self.issues.start(len(sources))
        self.client.find_issues(key, sources, doc.inference_changes(), doc.diagnosis_settings)
        return True

    def _issues_changed(self) -> None:
        """Redraw now, or while a search runs once per :data:`SEARCH_REFRESH_MS` (each image's
        answer would redraw the whole list)."""
        if self.issues.searching:
            if not self._refresh_timer.isActive():
                self._refresh_timer.start()
        else:
            self._refresh_timer.stop()
            self._refresh()

    def _found(self, key: int, issues: list[Issue]) -> None:
        self.issues.add(key, issues)

    def _done(self, key: int) -> None:
        self.issues.finish(key)

    def _document_changed(self, aspects: frozenset) -> None:
        if Change.MODEL in aspects and self.issues.searched and self.document.model is not None and self.document.model.trained:
            self.find()  # each retrained model: the list follows
        elif Change.ENTRIES in aspects and self.issues.searched:
            self.issues.clear()
        if Change.TRACE in aspects and self._current is not None:
            self._select_evidence()

    # ----- the list -----------------------------------------------------------------------------
    def shown(self) -> list[Issue]:
        """The issues listed now, best first."""
        session = self.model.session
        editing = self.model.index if session.editable and self.model.shows_session_image() else None
        return self.issues.shown(editing, session.boxes if editing is not None else ())

    def _refresh(self) -> None:
        self._shown = self.shown()
        current = next((row for row, issue in enumerate(self._shown) if issue == self._current), None)
        self.panel.show_issues(self._shown, current)
        counts = {kind: sum(i.kind is kind for i in self._shown) for kind in LabelErrorKind}
        found = ", ".join(f"{n} {kind.value}" for kind, n in counts.items() if n) or "none"
        if self.issues.searching:
            self.panel.show_status(f"searching: {self.issues.done}/{self.issues.total} images; {found}")
        elif self.issues.searched:
            self.panel.show_status(f"{len(self._shown)} issues in {self.issues.total} images: {found}")

    # ----- one issue ----------------------------------------------------------------------------
    def select(self, issue: Issue) -> bool:
        """Show ``issue``: its image (unsaved changes resolved first), its box selected, its
        evidence in the provenance panel; returns whether its image is shown."""
        doc = self.document
        previous, self._current = self._current, issue  # first: the list redraws while the image changes
        if doc.index != issue.entry:
            doc.set_index(issue.entry)
        if doc.index != issue.entry:  # unreadable, or the user kept the unsaved image
            self._current = previous
            self._refresh()
            return False
        self.model.activate()
        self.model.session.select(box_row(issue, self.model.session.boxes))
        self.provenance.set_evidence(evidence_html(issue), issue.head_scores if issue.detection is None else None, issue.class_names)
        self.show_provenance()
        self.show_box(tuple(self.model.mapping.to_display([issue.place])[0]))
        self._select_evidence()
        return True

    def _select_evidence(self) -> None:
        """Select the current issue's detection in the shown trace (and, for ``missing``, its suggestion)."""
        issue, doc = self._current, self.document
        if issue is None or doc.trace is None or doc.index != issue.entry:
            return
        row = None
        if issue.detection is not None and len(doc.trace.detections):
            box, name = issue.detection
            det = doc.trace.detections
            iou = pairwise_iou(torch.tensor([box], dtype=torch.float32), det.boxes.float())[0].numpy()
            names = np.array([doc.model.config.label_name(int(k)) for k in det.labels.tolist()], dtype=object)
            candidates = np.flatnonzero((iou >= SAME_DETECTION_IOU) & (names == name))
            row = int(candidates[np.argmax(iou[candidates])]) if len(candidates) else None
        if row != doc.selected_detection:
            doc.select_detection(row)
        if issue.kind is LabelErrorKind.MISSING and row is not None:
            self.annotation.select_suggestion(row)

    def apply(self, issue: Issue) -> bool:
        """Apply ``issue``'s fix to its image as one undoable edit; returns whether it was applied
        (not when its box was edited since, or it is fixed already)."""
        if not self.select(issue) or not self.model.session.editable:
            return False
        session = self.model.session
        fix = fix_of(issue, session.boxes)
        if fix is None:
            self.document.report("info", f"{issue.image}: this issue no longer applies (its box was changed)")
            return False
        row = self._row(issue)
        if fix.box is not None:
            self.model.classes.extend([fix.box.label])
        if fix.kind is FixKind.ADD:
            command = AddBox(session, fix.box, f"Fix: add {fix.box.label}")
        elif fix.kind is FixKind.DELETE:
            command = RemoveBox(session, fix.row)
        else:
            what = f"relabel as {fix.box.label}" if fix.kind is FixKind.RELABEL else "move the box"
            command = ChangeBox(session, fix.row, fix.box, f"Fix: {what}")
        self.annotation.stack.push(command)
        self._next_after(row)
        return True

    def dismiss(self, issue: Issue) -> bool:
        """Never show ``issue`` again (kept beside the annotations); returns whether it was kept
        in the sidecar file (an unwritable one is reported; the issue stays hidden this session)."""
        row = self._row(issue)
        try:
            written = self.issues.dismiss(issue)
        except OSError as exc:
            self.document.report("error", f"dismissal not saved: {exc}")
            written = None
        self._next_after(row)
        return written is not None

    def _row(self, issue: Issue) -> int:
        return next((row for row, shown in enumerate(self._shown) if shown == issue), 0)

    def _next_after(self, row: int) -> None:
        """Look at the issue that now takes row ``row`` of the list (the review goes on)."""
        self._current = None
        self.provenance.set_evidence(None)
        self._refresh()
        if self._shown:
            self.panel.list.setCurrentRow(min(row, len(self._shown) - 1))

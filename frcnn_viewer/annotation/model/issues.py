"""The Issues list: the labels of the open images that are likely wrong, and their fixes.

Plain Python, no Qt. The rule is the core's (:func:`frcnn_core.evaluation.label_errors.find_label_errors`,
the one behind ``frcnn label-errors``): :func:`issues_of_image` feeds it an image's trace and its
labels *as the annotation mode sees them* (the image's VOC file when it has one, else the
dataset's GT, or the unsaved boxes of the image being edited: :class:`TruthSource`) and turns
its answer into :class:`Issue`\\ s in the image file's pixels with class names. The inference
worker calls it for each image; nothing here runs the model.

:class:`IssueList` holds what a search found, best first, and decides what is *shown*: not
dismissed (:mod:`.dismissed`: kept in ``.frcnn-dismissed.json`` beside the annotations), and,
on the image being edited, still open against its boxes as they are now (a fix applied makes
its issue disappear; undoing the fix brings it back). :func:`fix_of` says which edit fixes an
issue; the Qt side turns it into an undo command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np
import torch

from frcnn_core import DetectorConfig
from frcnn_core.annotations import AnnotationError, BoxAnnotation, read_voc_xml
from frcnn_core.boxes import pairwise_iou
from frcnn_core.evaluation.label_errors import LabelErrorKind, find_label_errors, trace_with_verdict

from ...state.events import Event
from ...state.models import model_labels
from ...state.sources import ImageEntry, ImageLoadError, load_image
from .dismissed import Dismissal, DismissedStore

Box = tuple[float, float, float, float]
# What reading one image's labels or pixels for a search may raise (each names its file): that
# image is skipped with a message, the search goes on.
READ_ERRORS = (AnnotationError, ImageLoadError, OSError)
SAME_BOX_PIXELS = 0.5  # a session box this close (each coordinate, file pixels) is the issue's box
OPEN_IOU = 0.5  # a "missing" issue is closed once a box of any class covers it at this IoU


@dataclass(frozen=True)
class TruthSource:
    """Where the worker reads one open image's labels: ``boxes`` when given (the image being
    edited, unsaved edits included), else its VOC file ``xml`` when that exists, else the
    dataset's GT when the image's source is annotated; otherwise it has no labels.

    Attributes:
        index: the document entry; entry: the image; xml: its annotation file's path.
        folder: where its annotations (and the dismissals sidecar) live.
    """

    index: int
    entry: ImageEntry
    xml: Path | None
    folder: Path | None
    boxes: tuple[BoxAnnotation, ...] | None = None

    def read(self) -> list[BoxAnnotation] | None:
        """The labels, file pixels; ``None`` for an image nobody labelled.

        Raises:
            AnnotationError: the VOC file cannot be read (the message names it).
        """
        if self.boxes is not None:
            return list(self.boxes)
        if self.xml is not None and self.xml.exists():
            return list(read_voc_xml(self.xml, strict=False).boxes)
        if not self.entry.source.annotated:
            return None
        target = self.entry.info()["target"]
        names = self.entry.source.class_names
        return [
            BoxAnnotation(names[label - 1] if 0 < label <= len(names) else f"class {label}", tuple(float(v) for v in box), bool(hard))
            for box, label, hard in zip(target["boxes"].tolist(), target["labels"].tolist(), target["difficult"].tolist())
        ]


@dataclass(frozen=True)
class Issue:
    """One likely label mistake of one open image (the core's :class:`LabelError`, located).

    Attributes:
        entry: the document entry index; image: the image file's name; folder: its annotation folder.
        kind, score: as the core gives them (score in 0..1).
        row: the labelled box's row among the image's labels (``None`` for ``missing``).
        box, label: that box (file pixels) and its class (``None`` for ``missing``).
        suggested_box, suggested_label: the fix (``None`` for ``spurious``: delete the box).
        evidence: the stage values that decided it (:mod:`frcnn_core.evaluation.label_errors`),
            ``stage`` where the diagnosis lost the box.
        detection: the box (displayed pixels) and class of the detection that is the evidence, if any.
        head_scores: the head's class scores on the labelled box, background first (``class_names`` order), if asked.
        class_names: the model's classes, background first.
    """

    entry: int
    image: str
    folder: Path | None
    kind: LabelErrorKind
    score: float
    row: int | None
    box: Box | None
    label: str | None
    suggested_box: Box | None
    suggested_label: str | None
    evidence: dict[str, float] = field(default_factory=dict)
    stage: str | None = None
    detection: tuple[Box, str] | None = None
    head_scores: tuple[float, ...] | None = None
    class_names: tuple[str, ...] = ()

    @property
    def place(self) -> Box:
        """Where it is: the labelled box, or for ``missing`` the suggested one (file pixels)."""
        return self.box if self.box is not None else self.suggested_box

    def dismissal(self) -> Dismissal:
        return Dismissal(self.image, self.kind, self.label, self.place)

    def describe(self) -> str:
        """One short line for the list: score, the fix, the image (``0.98  add RBC · a.jpg``)."""
        fix = {
            LabelErrorKind.MISSING: f"add {self.suggested_label}",
            LabelErrorKind.WRONG_CLASS: f"{self.label} \N{RIGHTWARDS ARROW} {self.suggested_label}",
            LabelErrorKind.BAD_BOX: f"move {self.label}",
            LabelErrorKind.SPURIOUS: f"delete {self.label}",
        }[self.kind]
        return f"{self.score:.2f}  {fix} \N{MIDDLE DOT} {self.image}"

    def to_json(self) -> dict:
        """As a row of ``frcnn label-errors --json`` (``file_name`` is the image's name here)."""
        rounded = (lambda box: None if box is None else [round(v, 2) for v in box])
        return {"file_name": self.image, "kind": self.kind.value, "score": self.score, "label": self.label, "box": rounded(self.box),
                "suggested_label": self.suggested_label, "suggested_box": rounded(self.suggested_box)}


def issues_of_image(source: TruthSource, model, config: DetectorConfig, iou: float = 0.5, score_threshold: float = 0.5) -> list[Issue]:
    """Trace ``source``'s image with ``model`` (its current settings) and list its issues, best
    first; ``[]`` for an image without labels. Runs where the model lives (the inference worker).

    Labels of classes the model does not know count as difficult: never reported, and a
    detection on one is not ``missing``.

    Raises:
        AnnotationError, ImageLoadError: the labels or the image cannot be read (naming the file).
    """
    truth = source.read()
    if truth is None:
        return []
    image = load_image(source.entry)
    sx, sy = image.display_scale
    factors = np.array([sx, sy, sx, sy])
    labels = model_labels([b.label for b in truth], config)
    boxes = np.array([b.box for b in truth], dtype=np.float64).reshape(-1, 4) * factors
    target = {
        "boxes": torch.from_numpy(boxes.astype(np.float32)),
        "labels": torch.from_numpy(labels),
        "difficult": torch.tensor([b.difficult for b in truth], dtype=torch.bool) | torch.from_numpy(labels == 0),
    }
    trace, verdict = trace_with_verdict(model, image.tensor, target["boxes"])
    names = tuple(config.label_name(k) for k in range(config.num_classes + 1))

    def to_file(box) -> Box | None:
        return None if box is None else tuple(float(v) for v in np.asarray(box) / factors)

    issues = []
    det = trace.detections
    for e in find_label_errors(trace, target, verdict, iou, score_threshold):
        detection = None
        if e.detection is not None:
            detection = (tuple(float(v) for v in det.boxes[e.detection].tolist()), names[int(det.labels[e.detection])])
        issues.append(Issue(
            entry=source.index, image=Path(source.entry.info().get("path") or source.entry.name).name, folder=source.folder,
            kind=e.kind, score=e.score, row=e.index, box=None if e.index is None else truth[e.index].box,
            label=None if e.index is None else truth[e.index].label,
            suggested_box=to_file(e.suggested_box),
            suggested_label=None if e.suggested_label is None else names[e.suggested_label],
            evidence=dict(e.evidence), stage=None if e.stage is None else e.stage.value, detection=detection,
            head_scores=None if verdict is None or e.index is None else tuple(verdict.class_scores[e.index].tolist()),
            class_names=names,
        ))
    return issues


class FixKind(Enum):
    """The edit that fixes an issue."""

    ADD = "add"  # missing: add the suggested box
    RELABEL = "relabel"  # wrong_class
    MOVE = "move"  # bad_box
    DELETE = "delete"  # spurious


FIX_OF_KIND = {LabelErrorKind.MISSING: FixKind.ADD, LabelErrorKind.WRONG_CLASS: FixKind.RELABEL,
               LabelErrorKind.BAD_BOX: FixKind.MOVE, LabelErrorKind.SPURIOUS: FixKind.DELETE}


@dataclass(frozen=True)
class Fix:
    """One edit of the image's boxes: ``kind``, the row it changes (``None`` for an added box) and
    the box after it (``None`` for a deletion)."""

    kind: FixKind
    row: int | None
    box: BoxAnnotation | None


def box_row(issue: Issue, boxes: Sequence[BoxAnnotation]) -> int | None:
    """The row of ``boxes`` that is ``issue``'s labelled box (same class, each coordinate within
    :data:`SAME_BOX_PIXELS`), preferring the row it was found at; ``None`` when none is."""
    if issue.box is None:
        return None
    rows = [i for i, b in enumerate(boxes) if b.label == issue.label and max(abs(a - c) for a, c in zip(b.box, issue.box)) <= SAME_BOX_PIXELS]
    if not rows:
        return None
    return issue.row if issue.row in rows else rows[0]


def is_open(issue: Issue, boxes: Sequence[BoxAnnotation]) -> bool:
    """Whether ``issue`` still holds against the image's ``boxes`` as they are now: its labelled
    box is still there, or (``missing``) no box covers the suggested one at IoU ``>=`` :data:`OPEN_IOU`."""
    if issue.kind is not LabelErrorKind.MISSING:
        return box_row(issue, boxes) is not None
    if not boxes:
        return True
    iou = pairwise_iou(torch.tensor([issue.suggested_box], dtype=torch.float64), torch.tensor([b.box for b in boxes], dtype=torch.float64))
    return bool((iou < OPEN_IOU).all())


def fix_of(issue: Issue, boxes: Sequence[BoxAnnotation]) -> Fix | None:
    """The edit of ``boxes`` (the image's, file pixels) that applies ``issue``'s suggestion;
    ``None`` when it no longer applies (its box was edited or removed, or it is already fixed)."""
    if not is_open(issue, boxes):
        return None
    kind = FIX_OF_KIND[issue.kind]
    if kind is FixKind.ADD:
        return Fix(kind, None, BoxAnnotation(issue.suggested_label, issue.suggested_box))
    row = box_row(issue, boxes)
    old = boxes[row]
    if kind is FixKind.RELABEL:
        return Fix(kind, row, BoxAnnotation(issue.suggested_label, old.box, old.difficult, old.truncated, old.pose))
    if kind is FixKind.MOVE:
        return Fix(kind, row, BoxAnnotation(old.label, issue.suggested_box, old.difficult, old.truncated, old.pose))
    return Fix(kind, row, None)


class IssueList:
    """What the last search found and what is shown (see the module docstring).

    Attributes:
        issues: every issue found by the current search, best first.
        key: identifies the current search (answers to older ones are dropped).
        searching: a search is running; done, total: its images so far, and in all.
        searched: a search has been asked for once (the list then follows each new model).
        dismissed: the dismissals, per annotation folder.

    ``changed`` is emitted with no arguments whenever what is shown may have changed.
    """

    def __init__(self, report: Callable[[str], None] | None = None) -> None:
        self.issues: list[Issue] = []
        self.key = 0
        self.searching = False
        self.searched = False
        self.done = self.total = 0
        self.dismissed = DismissedStore(report)
        self.changed = Event()

    def start(self, total: int) -> int:
        """A new search over ``total`` images: the list empties; returns its key."""
        self.key += 1
        self.issues, self.searching, self.searched, self.done, self.total = [], True, True, 0, total
        self.changed.emit()
        return self.key

    def add(self, key: int, issues: Sequence[Issue]) -> bool:
        """One image's issues from search ``key``; returns whether they were taken (not stale)."""
        if key != self.key:
            return False
        self.done += 1
        self.issues = sorted([*self.issues, *issues], key=lambda i: (-i.score, i.entry))
        self.changed.emit()
        return True

    def finish(self, key: int) -> None:
        if key == self.key and self.searching:
            self.searching = False
            self.changed.emit()

    def clear(self) -> None:
        """Forget the issues (new images opened); the next search reads the sidecars again."""
        self.key += 1
        self.issues, self.searching, self.searched, self.done, self.total = [], False, False, 0, 0
        self.dismissed.forget()
        self.changed.emit()

    def shown(self, editing: int | None = None, boxes: Sequence[BoxAnnotation] = ()) -> list[Issue]:
        """The issues to show, best first: not dismissed, and those of entry ``editing`` (the
        image being edited) still open against its ``boxes``."""
        dismissed = np.zeros(len(self.issues), bool)
        by_folder: dict[Path, list[int]] = {}
        for row, issue in enumerate(self.issues):
            if issue.folder is not None:
                by_folder.setdefault(issue.folder, []).append(row)
        for folder, rows in by_folder.items():
            dismissed[rows] = self.dismissed.held(folder, [self.issues[row].dismissal() for row in rows])
        return [i for i, gone in zip(self.issues, dismissed.tolist()) if not gone and (i.entry != editing or is_open(i, boxes))]

    def dismiss(self, issue: Issue) -> Path | None:
        """Never show ``issue`` again (nor the same issue of a later search); returns the sidecar
        written (``None`` for an image without an annotation folder: dismissed for this session).

        Raises:
            OSError: the sidecar could not be written (the issue stays dismissed in memory).
        """
        try:
            if issue.folder is None:
                self.issues = [i for i in self.issues if i is not issue]
                return None
            return self.dismissed.add(issue.folder, issue.dismissal())
        finally:
            self.changed.emit()


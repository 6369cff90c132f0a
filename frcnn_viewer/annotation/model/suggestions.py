"""The model's detections on the image being annotated, offered as boxes to accept or reject.

Plain Python, no Qt. :class:`SuggestionSet` holds the detections of the current image's
trace (the inference worker made it; nothing here runs the model) in displayed pixels,
with their class names and scores, and decides which are *shown*:

- a score at least :attr:`SuggestionSet.min_score` (the slider);
- no GT box of the same class overlaps it at IoU ``>=`` :data:`OVERLAP_IOU` (so an accepted
  suggestion, now a GT box, disappears, and comes back if that box is deleted or undone);
- it was not dismissed: a rejected suggestion (or one accepted, so that moving the accepted
  box away does not bring it back) stays hidden, and so does any later detection of the same
  class overlapping it at IoU ``>=`` :data:`OVERLAP_IOU` (a new checkpoint's trace of the
  same image does not bring back what the user rejected).

Dismissals are kept as boxes, not indices, because each new checkpoint replaces the
detections. Boxes are ``(x1, y1, x2, y2)`` continuous displayed pixels (those of the trace).

:func:`suggestion_note` and :func:`missed_notes` are the hover lines: where a suggestion came
from (its score, class, runner-up class, proposal and anchor), and for a GT box the model
did not detect, the stage that lost it (:func:`frcnn_core.evaluation.diagnose.diagnose_trace`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from frcnn_core import DetectorConfig, Trace
from frcnn_core.boxes import pairwise_iou
from frcnn_core.evaluation.diagnose import Stage, diagnose_trace

from ...state.events import Event
from ...state.provenance import provenance_of

OVERLAP_IOU = 0.5  # a suggestion this close to a GT box (or a dismissed one) of its class is hidden
DEFAULT_MIN_SCORE = 0.5
# What the suggestions' min_score is, for its control's tooltip (one of the viewer's four score thresholds).
OFFER_SCORE_TIP = (
    "Offer score (min_score): the detections scoring at least this are offered as suggestions to accept. "
    "It changes what is offered, not the model's output (Parameters: Model score threshold, below which nothing "
    "is ever offered) nor the Detections layer's display threshold."
)


def covered(boxes: np.ndarray, names: Sequence[str], by_boxes: np.ndarray, by_names: Sequence[str], iou: float = OVERLAP_IOU) -> np.ndarray:
    """``[N]`` bool: whether each of ``boxes`` ``[N, 4]`` overlaps one of ``by_boxes`` ``[M, 4]``
    of the same class name at IoU ``>= iou`` (IoU by :func:`frcnn_core.boxes.pairwise_iou`)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    by_boxes = np.asarray(by_boxes, dtype=np.float64).reshape(-1, 4)
    if not len(boxes) or not len(by_boxes):
        return np.zeros(len(boxes), dtype=bool)
    overlap = pairwise_iou(torch.from_numpy(boxes), torch.from_numpy(by_boxes)).numpy() >= iou  # [N, M]
    same_class = np.asarray(names, dtype=object)[:, None] == np.asarray(by_names, dtype=object)[None, :]
    return (overlap & same_class).any(axis=1)


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: ``box`` displayed pixels, its class ``name`` and ``score``; ``index`` is
    its row among the detections of the trace."""

    index: int
    box: tuple[float, float, float, float]
    name: str
    score: float


class SuggestionSet:
    """The current image's suggestions (see the module docstring).

    Attributes:
        boxes: ``[N, 4]`` float64 displayed pixels; names: ``[N]`` class names; scores: ``[N]``.
        min_score: the least score shown (the slider).

    ``changed`` is emitted with no arguments when the detections, the dismissals or
    :attr:`min_score` change.
    """

    def __init__(self, min_score: float = DEFAULT_MIN_SCORE) -> None:
        self.min_score = float(min_score)
        self.boxes = np.zeros((0, 4))
        self.names: list[str] = []
        self.scores = np.zeros(0)
        self._dismissed_boxes = np.zeros((0, 4))
        self._dismissed_names: list[str] = []
        self.changed = Event()

    def __len__(self) -> int:
        return len(self.names)

    def clear(self) -> None:
        """No suggestions and nothing dismissed (another image)."""
        self._dismissed_boxes, self._dismissed_names = np.zeros((0, 4)), []
        self.set_detections(np.zeros((0, 4)), [], np.zeros(0))

    def set_detections(self, boxes: np.ndarray, names: Sequence[str], scores: np.ndarray) -> None:
        """Replace the suggestions with a trace's detections (``[N, 4]`` displayed pixels, class
        names, scores); what was dismissed on this image stays dismissed."""
        self.boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.names = [str(n) for n in names]
        self.scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if not len(self.boxes) == len(self.names) == len(self.scores):
            raise ValueError(f"{len(self.boxes)} boxes, {len(self.names)} names and {len(self.scores)} scores")
        self.changed.emit()

    def set_trace(self, trace: Trace | None, config: DetectorConfig) -> None:
        """Take the detections of ``trace`` (``None``: none), named by ``config``'s classes."""
        if trace is None:
            self.set_detections(np.zeros((0, 4)), [], np.zeros(0))
            return
        det = trace.detections
        self.set_detections(det.boxes.double().numpy(), [config.label_name(int(k)) for k in det.labels], det.scores.double().numpy())

    def shown(self, gt_boxes: np.ndarray, gt_names: Sequence[str], min_score: float | None = None) -> np.ndarray:
        """Indices of the suggestions shown, by decreasing score: scoring at least ``min_score``
        (default :attr:`min_score`), not covered by a GT box (``[G, 4]`` displayed pixels with
        ``gt_names``) nor by a dismissed box."""
        threshold = self.min_score if min_score is None else float(min_score)
        keep = self.scores >= threshold
        keep &= ~covered(self.boxes, self.names, gt_boxes, gt_names)
        keep &= ~covered(self.boxes, self.names, self._dismissed_boxes, self._dismissed_names)
        indices = np.flatnonzero(keep)
        return indices[np.argsort(-self.scores[indices], kind="stable")]

    def suggestion(self, index: int) -> Suggestion:
        return Suggestion(int(index), tuple(float(v) for v in self.boxes[index]), self.names[index], float(self.scores[index]))

    # ----- dismissals (the undo commands call these) ----------------------------------------
    def dismiss(self, box: Sequence[float], name: str) -> None:
        """Hide the suggestions of class ``name`` overlapping ``box`` (a rejected or accepted one)."""
        self._dismissed_boxes = np.vstack((self._dismissed_boxes, np.asarray(box, dtype=np.float64).reshape(1, 4)))
        self._dismissed_names.append(str(name))
        self.changed.emit()

    def restore(self, box: Sequence[float], name: str) -> None:
        """Undo the latest :meth:`dismiss` of exactly ``box`` and ``name``."""
        box = np.asarray(box, dtype=np.float64).reshape(4)
        for k in range(len(self._dismissed_names) - 1, -1, -1):
            if self._dismissed_names[k] == name and np.array_equal(self._dismissed_boxes[k], box):
                self._dismissed_boxes = np.delete(self._dismissed_boxes, k, axis=0)
                del self._dismissed_names[k]
                self.changed.emit()
                return

    def set_min_score(self, value: float) -> None:
        """Show suggestions scoring at least ``value`` (0..1)."""
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"the least suggestion score must be between 0 and 1, got {value}")
        if value != self.min_score:
            self.min_score = value
            self.changed.emit()


def suggestion_note(trace: Trace, index: int, config: DetectorConfig) -> str:
    """One line on where detection ``index`` of ``trace`` came from: class, score, the runner-up
    class, and the proposal and anchor it grew from."""
    p = provenance_of(trace, index, config)
    scores = np.asarray(p.class_scores)
    order = [k for k in np.argsort(-scores) if k != 0 and p.class_names[k] != p.label]
    runner_up = f"; next {p.class_names[order[0]]} {scores[order[0]]:.2f}" if order else ""
    background = f", background {scores[0]:.2f}" if len(scores) else ""
    return (
        f"suggestion: {p.label} {p.score:.2f}{runner_up}{background}; from proposal #{p.proposal} "
        f"(objectness {p.objectness:.2f}) of the anchor at cell {p.anchor_cell} of {p.anchor_level} — Enter accepts, Delete rejects"
    )


def missed_notes(trace: Trace, gt_boxes: np.ndarray, gt_labels: np.ndarray, score_threshold: float) -> dict[int, str]:
    """``{GT index: line}`` for each GT box (``[G, 4]`` in the trace's pixels, labels 1..C of the
    trace's model; 0: a class it does not know, left out) that the model did not detect at
    ``score_threshold``: the stage that lost it, as ``frcnn diagnose`` says."""
    gt_labels = np.asarray(gt_labels, dtype=np.int64).reshape(-1)
    known = np.flatnonzero(gt_labels > 0)
    if not len(known):
        return {}
    target = {"boxes": torch.as_tensor(np.asarray(gt_boxes, dtype=np.float32).reshape(-1, 4)[known]), "labels": torch.from_numpy(gt_labels[known])}
    diagnosis = diagnose_trace(trace, target, score_threshold=score_threshold)
    return {int(known[g.index]): f"the model lost this box: {g.stage.description}" for g in diagnosis.gt if g.stage is not Stage.DETECTED}

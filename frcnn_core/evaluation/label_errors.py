"""Which labels are wrong? Likely annotation mistakes, found by comparing the labels with the model's trace.

The rule, the same for ``frcnn label-errors``, the viewer's Issues list and any script.
Parameters: ``iou`` (0.5: the least IoU at which a box is "on" another, as in
:mod:`.diagnose`) and ``score_threshold`` (0.5: a detection scoring at least this is
*confident*). IoUs are in the image's original pixels. Difficult (VOC) and crowd (COCO)
boxes are never reported, but they are labels: a detection on one is not ``missing``.

For every labelled box ``g`` of class ``k`` the detector is asked at each stage:

- ``objectness``: the RPN's highest objectness over the anchors near ``g`` (IoU with ``g``
  at least ``min(iou, NEAR_ANCHOR_SHARE * best anchor IoU)``, so a box no anchor fits
  well is judged by the anchors that fit it best);
- ``proposal_score``: the highest objectness of a proposal (after NMS) at IoU ``>= iou``;
- ``detection_score``: the best score of a detection of any class at IoU ``>= iou``;
  ``own_score``: of class ``k``; ``other_score``: of any other class;
  ``near_detection_score``: of a confident detection of any class at IoU ``>= BAD_BOX_MIN_IOU``;
- with the head's verdict on ``g`` itself (:meth:`StagedTrace.classify_boxes`: the head
  run on the labelled box as if it were a proposal, from the same trunk features; our own
  detectors give it, see :func:`trace_with_verdict`): ``head_own`` (class ``k``),
  ``head_other`` (the best other class) and ``head_background`` probabilities there;
- the stage that lost it (:class:`~.diagnose.Stage`, from :func:`~.diagnose.diagnose_trace`).

and each likely mistake gets a :class:`LabelErrorKind` and a score in 0..1:

- ``missing``: a confident detection on no label (IoU ``< iou`` with every GT box of any
  class) that is not the evidence of a ``bad_box``: an object nobody labelled. Score: its
  score times ``(1 - best label IoU / iou)^2`` (a detection partly on a label is more often
  the model's second box on that object than a new one). Of several such detections on one
  place (IoU ``>= iou``) only the best is reported. Suggested fix: add its box and class.
- ``wrong_class``: ``g`` is confidently another class: ``other = max(head_other,
  other_score) >= score_threshold``; score ``other * (1 - own)`` with ``own =
  max(head_own, own_score)``. Suggested fix: that class.
- ``bad_box``: no confident detection of class ``k`` reaches ``g`` (IoU ``>= iou``), but one
  overlaps it at ``BAD_BOX_MIN_IOU <= IoU < iou`` and ``g`` is its best box of that class: a
  sloppy box. Score: that detection's score times ``1 - head_own`` (the head, shown the
  sloppy box, sees too little of the object to call it ``k``; a box it calls ``k`` is the
  model's miss, not a bad label); without a verdict, times ``1 - IoU``. Suggested fix: the
  detection's box.
- ``spurious``: no stage supports ``g``: score ``(1 - objectness) * (1 -
  max(detection_score, near_detection_score)) * head_background`` (``1 - proposal_score``
  in place of ``head_background`` without a verdict). Suggested fix: delete it.

A GT box gets at most one entry, its highest-scoring kind. Entries scoring under
``min_score`` are dropped. The dataset report (:func:`label_errors_report`, written by
``frcnn label-errors --json``) is a list, most likely mistake first::

    [{"image_id", "file_name", "kind", "score", "label", "box", "suggested_label",
      "suggested_box", "evidence": {...}}]

``label`` and ``suggested_label`` are class names (``label`` ``null`` for ``missing``,
``suggested_label`` ``null`` for ``spurious``), boxes ``[x1, y1, x2, y2]`` original pixels
(``box`` ``null`` for ``missing``, ``suggested_box`` ``null`` for ``spurious``),
``image_id`` the dataset's id as in ``frcnn detect``'s COCO output, ``file_name`` the image
file (``""`` for generated images) and ``evidence`` the stage values above that decided it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor
from torchvision.ops import nms

from ..boxes import pairwise_iou
from ..inference import gather_shards
from ..models.faster_rcnn import FasterRCNN
from ..trace.staged import BoxVerdict, StagedTrace
from ..trace.trace import Trace
from ..train.distributed import ProcessGroup
from .described import DescribedEnum
from .diagnose import BOX_DECIMALS, Stage, diagnose_trace

# The least IoU of a detection with a label for that label to be a sloppy box (TIDE's lower
# bound for "near" a box, as for its localization errors).
BAD_BOX_MIN_IOU = 0.1
# Anchors "near" a box: IoU at least min(iou, this share of the best anchor's IoU).
NEAR_ANCHOR_SHARE = 0.9
# Entries scoring less are not reported.
MIN_SCORE = 0.1
SCORE_DECIMALS = 4


class LabelErrorKind(DescribedEnum):
    """The kind of a likely annotation mistake (definitions in the module docstring)."""

    MISSING = ("missing", "unlabelled object")
    WRONG_CLASS = ("wrong_class", "wrong class")
    BAD_BOX = ("bad_box", "sloppy box")
    SPURIOUS = ("spurious", "box on nothing")


@dataclass(frozen=True)
class LabelError:
    """One likely annotation mistake of one image.

    Attributes:
        kind: :class:`LabelErrorKind`; score: in 0..1, higher is more likely a mistake.
        index: the GT box's row in the image's target (``None`` for ``missing``).
        box: ``(x1, y1, x2, y2)`` original pixels of the GT box (``None`` for ``missing``).
        label: its class, 1..C (``None`` for ``missing``).
        suggested_label: the class after the fix (``None`` for ``spurious``: delete the box).
        suggested_box: the box after the fix (``None`` for ``spurious``).
        detection: the row in ``trace.detections`` of the detection that is the evidence
            (``None`` when none is).
        stage: where the diagnosis lost the GT box (``None`` for ``missing``).
        evidence: the stage values that decided it (names in the module docstring).
    """

    kind: LabelErrorKind
    score: float
    index: int | None
    box: tuple[float, float, float, float] | None
    label: int | None
    suggested_label: int | None
    suggested_box: tuple[float, float, float, float] | None
    detection: int | None
    stage: Stage | None
    evidence: dict[str, float] = field(default_factory=dict)


def _box(row) -> tuple[float, float, float, float]:
    return tuple(float(v) for v in row)


def _best_where(mask: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[G]`` the largest ``values[d]`` over ``mask[g, d]`` (0 where none) and its ``d`` (-1 where none)."""
    if mask.shape[1] == 0:
        return np.zeros(mask.shape[0]), np.full(mask.shape[0], -1)
    masked = np.where(mask, values[None, :].astype(np.float64), -1.0)
    best = masked.argmax(axis=1)
    value = masked[np.arange(mask.shape[0]), best]
    return np.maximum(value, 0.0), np.where(value >= 0.0, best, -1)


def near_anchor_objectness(gt_boxes: Tensor, trace: Trace, iou: float = 0.5) -> np.ndarray:
    """``[G]`` the RPN's highest objectness over the anchors near each of ``gt_boxes`` ``[G, 4]``
    (original pixels): those whose IoU with the box is at least ``min(iou, NEAR_ANCHOR_SHARE *
    its best anchor IoU)``; 0 for a box no anchor overlaps."""
    if gt_boxes.shape[0] == 0 or trace.anchors.shape[0] == 0:
        return np.zeros(gt_boxes.shape[0])
    overlap = pairwise_iou(gt_boxes.float(), trace.anchors.float())  # [G, N]
    least = torch.clamp(NEAR_ANCHOR_SHARE * overlap.max(dim=1, keepdim=True).values, max=iou)
    near = (overlap >= least) & (overlap > 0)
    return torch.where(near, trace.objectness.float()[None, :], 0.0).max(dim=1).values.double().numpy()


def _suppressed(boxes: Tensor, scores: np.ndarray, iou: float) -> np.ndarray:
    """``[M]`` bool: boxes overlapping a better-scoring kept one at IoU ``>= iou`` (class-agnostic NMS)."""
    keep = nms(boxes.float(), torch.from_numpy(scores.astype(np.float32)), iou) if len(scores) else torch.zeros(0, dtype=torch.long)
    dropped = np.ones(len(scores), bool)
    dropped[keep.numpy()] = False
    return dropped


@dataclass(frozen=True)
class _Measured:
    """The stage values of every GT box of one image (``[G]`` arrays, names as in the module
    docstring); the ``head_*`` ones are ``None`` without a verdict."""

    objectness: np.ndarray
    proposal_score: np.ndarray
    detection_score: np.ndarray
    near_detection_score: np.ndarray
    own_score: np.ndarray
    other_score: np.ndarray
    other_label: np.ndarray
    head_own: np.ndarray | None = None
    head_other: np.ndarray | None = None
    head_other_label: np.ndarray | None = None
    head_background: np.ndarray | None = None

    EVIDENCE = ("objectness", "proposal_score", "detection_score", "near_detection_score", "own_score", "other_score",
                "head_own", "head_other", "head_background")

    def evidence(self, g: int) -> dict[str, float]:
        """Box ``g``'s values, rounded, for the report."""
        return {name: round(float(getattr(self, name)[g]), SCORE_DECIMALS) for name in self.EVIDENCE if getattr(self, name) is not None}


def _measure(trace: Trace, gt_boxes: Tensor, gt_labels: np.ndarray, det_iou: np.ndarray, verdict: BoxVerdict | None,
             iou: float, score_threshold: float) -> _Measured:
    """The stage values of each GT box (``det_iou`` ``[G, D]``: its IoU with every detection)."""
    det = trace.detections
    scores, labels = det.scores.double().numpy(), det.labels.numpy()
    on = det_iou >= iou
    same = gt_labels[:, None] == labels[None, :]
    other_score, other_row = _best_where(on & ~same, scores)
    proposal_iou = pairwise_iou(gt_boxes, trace.proposals.float()).numpy() if len(trace.proposals) else np.zeros((len(gt_labels), 0))
    measured = {
        "objectness": near_anchor_objectness(gt_boxes, trace, iou),
        "proposal_score": _best_where(proposal_iou >= iou, trace.proposal_scores.double().numpy())[0],
        "detection_score": _best_where(on, scores)[0],
        "near_detection_score": _best_where((scores >= score_threshold)[None, :] & (det_iou >= BAD_BOX_MIN_IOU), scores)[0],
        "own_score": _best_where(on & same, scores)[0],
        "other_score": other_score,
        "other_label": np.where(other_row >= 0, labels[np.maximum(other_row, 0)] if len(labels) else 0, 0),
    }
    if verdict is not None:
        probs = verdict.class_scores.double().numpy()  # [G, C + 1]
        rows = np.arange(len(gt_labels))
        others = probs.copy()
        others[:, 0] = -1.0
        others[rows, gt_labels] = -1.0
        best_other = others.argmax(axis=1)
        measured.update(head_own=probs[rows, gt_labels], head_other=np.maximum(others[rows, best_other], 0.0),
                        head_other_label=best_other, head_background=probs[:, 0])
    return _Measured(**measured)


def _wrong_class(m: _Measured, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``[G]`` wrong_class scores and the suggested labels: confidently another class, at the box
    itself (the head) or by a detection on it."""
    if m.head_own is None:
        other, other_label, own = m.other_score, m.other_label, m.own_score
    else:
        by_head = m.head_other >= m.other_score
        other = np.where(by_head, m.head_other, m.other_score)
        other_label = np.where(by_head, m.head_other_label, m.other_label)
        own = np.maximum(m.head_own, m.own_score)
    return np.where(other >= score_threshold, other * (1.0 - own), 0.0), other_label


def _bad_box(m: _Measured, det_iou: np.ndarray, same: np.ndarray, scores: np.ndarray, iou: float, score_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``[G]`` bad_box scores and the detection that is the evidence (-1 where none): a confident
    detection of the box's class overlapping it loosely, whose best box of that class it is, on a
    box no confident detection of its class reaches."""
    num_gt, num_det = det_iou.shape
    if num_gt == 0 or num_det == 0:
        return np.zeros(num_gt), np.full(num_gt, -1)
    best_of_det = np.where(same, det_iou, -1.0).argmax(axis=0)  # [D] each detection's best box of its class
    loose = same & (scores >= score_threshold)[None, :] & (det_iou >= BAD_BOX_MIN_IOU) & (det_iou < iou)
    loose &= (best_of_det[None, :] == np.arange(num_gt)[:, None]) & (m.own_score < score_threshold)[:, None]
    value = np.where(loose, scores[None, :], 0.0)
    best = value.argmax(axis=1)
    score = value[np.arange(num_gt), best]
    # the head on a sloppy box sees too little of the object to call it its class; without the
    # head, the looser the overlap the likelier the box is off
    doubt = 1.0 - m.head_own if m.head_own is not None else 1.0 - det_iou[np.arange(num_gt), best]
    return score * doubt, np.where(score > 0, best, -1)


def _spurious(m: _Measured) -> np.ndarray:
    """``[G]`` spurious scores: no anchor near it has objectness, no detection is on or near it,
    and the head calls it background (without the head: no proposal on it)."""
    support = m.head_background if m.head_background is not None else 1.0 - m.proposal_score
    return (1.0 - m.objectness) * (1.0 - np.maximum(m.detection_score, m.near_detection_score)) * support


def find_label_errors(
    trace: Trace,
    target: Mapping,
    verdict: BoxVerdict | None = None,
    iou: float = 0.5,
    score_threshold: float = 0.5,
    min_score: float = MIN_SCORE,
) -> list[LabelError]:
    """The likely annotation mistakes of one image, most likely first (rule in the module docstring).

    Args:
        trace: the image's trace (eval mode); every box in original pixels.
        target: its labels: ``boxes`` ``[G, 4]`` xyxy original pixels, ``labels`` ``[G]`` in
            1..C, optionally ``difficult`` ``[G]`` bool.
        verdict: the head on the ``G`` target boxes (:meth:`StagedTrace.classify_boxes`), or
            ``None`` when the model cannot give it.
        iou: the least IoU at which a box is on another (inclusive).
        score_threshold: the least score of a confident detection (inclusive).
        min_score: entries scoring less are left out.
    """
    diagnosis = diagnose_trace(trace, target, iou, score_threshold)
    matching = diagnosis.matching
    gt_boxes = torch.as_tensor(target["boxes"], dtype=torch.float32).reshape(-1, 4).cpu()
    gt_labels = matching.gt_labels
    det = trace.detections
    det_boxes, scores, labels = det.boxes.float().cpu(), det.scores.double().numpy(), det.labels.numpy()
    det_iou = matching.iou.T  # [G, D], any class
    m = _measure(trace, gt_boxes, gt_labels, det_iou, verdict, iou, score_threshold)
    wrong_class, other_label = _wrong_class(m, score_threshold)
    bad_box, bad_detection = _bad_box(m, det_iou, gt_labels[:, None] == labels[None, :], scores, iou, score_threshold)
    kind_scores = np.stack([wrong_class, bad_box, _spurious(m)], axis=1)  # [G, 3]
    kinds = (LabelErrorKind.WRONG_CLASS, LabelErrorKind.BAD_BOX, LabelErrorKind.SPURIOUS)
    stages = {g.index: g.stage for g in diagnosis.gt}

    errors: list[LabelError] = []
    for g in np.flatnonzero(~matching.difficult).tolist():  # each labelled box: its likeliest kind
        k = int(kind_scores[g].argmax())
        score = float(kind_scores[g, k])
        if score < min_score:
            continue
        kind, box, label, evidence = kinds[k], _box(gt_boxes[g].tolist()), int(gt_labels[g]), m.evidence(g)
        fix, d = (None, None), None
        if kind is LabelErrorKind.WRONG_CLASS:
            fix = (int(other_label[g]), box)
        elif kind is LabelErrorKind.BAD_BOX:
            d = int(bad_detection[g])
            evidence["detection_iou"] = round(float(det_iou[g, d]), SCORE_DECIMALS)
            fix = (label, _box(det_boxes[d].tolist()))
        errors.append(LabelError(kind, round(score, SCORE_DECIMALS), g, box, label, *fix, d, stages.get(g), evidence))

    evidence_of_bad_boxes = {e.detection for e in errors if e.kind is LabelErrorKind.BAD_BOX}
    errors += _missing(trace, det_iou, scores, iou, score_threshold, min_score, evidence_of_bad_boxes)
    errors.sort(key=lambda e: -e.score)
    return errors


def _missing(trace: Trace, det_iou: np.ndarray, scores: np.ndarray, iou: float, score_threshold: float, min_score: float,
             taken: set[int]) -> list[LabelError]:
    """The ``missing`` entries: confident detections on no label (IoU ``< iou`` with every GT box),
    not in ``taken`` (the evidence of a sloppy box); of several on one place, the best."""
    det = trace.detections
    best_label_iou = det_iou.max(axis=0, initial=0.0) if det_iou.shape[0] else np.zeros(len(scores))
    candidates = [d for d in np.flatnonzero((scores >= score_threshold) & (best_label_iou < iou)).tolist() if d not in taken]
    if not candidates:
        return []
    candidates = np.array(candidates, dtype=np.int64)
    # a detection half on a label is more often the model's second box on it than a new object
    missing = scores[candidates] * (1.0 - best_label_iou[candidates] / iou) ** 2
    objectness = trace.proposal_scores.double().numpy()[det.proposal_index.numpy()[candidates]]
    dropped = _suppressed(det.boxes[candidates], missing, iou)
    errors = []
    for d, score, obj, dropped_here in zip(candidates.tolist(), missing.tolist(), objectness.tolist(), dropped.tolist()):
        if dropped_here or score < min_score:
            continue
        evidence = {"detection_score": round(float(scores[d]), SCORE_DECIMALS), "proposal_score": round(obj, SCORE_DECIMALS),
                    "best_label_iou": round(float(best_label_iou[d]), SCORE_DECIMALS)}
        box = _box(det.boxes[d].tolist())
        errors.append(LabelError(LabelErrorKind.MISSING, round(score, SCORE_DECIMALS), None, None, None, int(det.labels[d]), box, d, None, evidence))
    return errors


def trace_with_verdict(model, image: Tensor, boxes: Tensor) -> tuple[Trace, BoxVerdict | None]:
    """Trace ``image`` (``[3, H, W]`` in 0..1) once and, for our :class:`FasterRCNN`, run the head
    on ``boxes`` ``[G, 4]`` (original pixels) from the same trunk features; other models (any
    with ``trace(image)``) give no verdict. Uses the model's current mode."""
    if isinstance(model, FasterRCNN):
        staged = StagedTrace(model, image)
        trace = staged.trace()
        return trace, staged.classify_boxes(boxes)
    return model.trace(image), None


def _class_name(class_names: Sequence[str], label: int | None) -> str | None:
    if label is None:
        return None
    return class_names[label - 1] if 1 <= label <= len(class_names) else f"class {label}"


def _rounded(box) -> list[float] | None:
    return None if box is None else [round(v, BOX_DECIMALS) for v in box]


def label_errors_report(errors: Sequence[Sequence[LabelError]], images: Sequence[Mapping], class_names: Sequence[str]) -> list[dict]:
    """The dataset report (schema in the module docstring), most likely first (ties: image order).

    Args:
        errors: per image, from :func:`find_label_errors`.
        images: per image, ``{"image_id": int, "file_name": str}``.
        class_names: one per label.
    """
    if len(errors) != len(images):
        raise ValueError(f"{len(errors)} lists of label errors for {len(images)} images")
    rows = []
    for found, image in zip(errors, images):
        for e in found:
            rows.append({
                "image_id": int(image["image_id"]), "file_name": str(image["file_name"]), "kind": e.kind.value, "score": e.score,
                "label": _class_name(class_names, e.label), "box": _rounded(e.box),
                "suggested_label": _class_name(class_names, e.suggested_label), "suggested_box": _rounded(e.suggested_box),
                "evidence": {**({"stage": e.stage.value} if e.stage is not None else {}), **e.evidence},
            })
    rows.sort(key=lambda row: -row["score"])
    return rows


@torch.no_grad()
def find_label_errors_dataset(
    model,
    dataset,
    iou: float = 0.5,
    score_threshold: float = 0.5,
    device: torch.device | str = "cpu",
    progress: Callable[[int, int], None] | None = None,
    process_group: ProcessGroup | None = None,
) -> list[dict]:
    """Trace every image of ``dataset`` once (eval mode) and return :func:`label_errors_report`.

    ``progress(done, total)`` is called after each image, counting this process's. Under
    ``torchrun`` (``process_group`` with several processes) each process looks at every
    ``world_size``-th image and every process returns the whole report. The model's mode is restored.
    """
    group = process_group or ProcessGroup()
    mine = range(group.rank, len(dataset), group.world_size)
    was_training = model.training
    model.eval()
    found = []
    try:
        for done, i in enumerate(mine, start=1):
            image, target = dataset[i]
            trace, verdict = trace_with_verdict(model, image.to(device), torch.as_tensor(target["boxes"]).to(device))
            found.append(find_label_errors(trace, target, verdict, iou, score_threshold))
            if progress is not None:
                progress(done, len(mine))
    finally:
        model.train(was_training)
    found = gather_shards(found, group)
    images = []
    for i in range(len(dataset)):
        info = dataset.info(i)
        images.append({"image_id": info["image_id"], "file_name": info["path"] or ""})
    class_names = list(dataset.class_names) or list(model.config.class_names)
    return label_errors_report(found, images, class_names)

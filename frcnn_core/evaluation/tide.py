"""What each error costs: TIDE's error types and their dAP, exactly as the ``tidecv`` package computes them.

TIDE (Bolya et al., "TIDE: A General Toolbox for Identifying Object Detection Errors",
ECCV 2020) sorts every detection that is not a true positive into one error type, and
every ground-truth box no detection found into ``missed``; an *oracle* then fixes all the
errors of one type, and the AP gained (dAP) says what that type costs. This module is
``tidecv`` 1.0.1's ``TIDERun`` (box mode) rewritten over numpy arrays; its figures equal
the package's (tests/core/test_tide.py runs both). Inputs are those of
:func:`~frcnn_core.evaluation.metrics.evaluate_voc`: per image ``boxes`` ``[D, 4]`` xyxy,
``scores``, ``labels`` in 1..C, and the target's ``boxes``, ``labels``, ``difficult``.
Every detection given is used (no score threshold; ``tidecv``'s loader keeps the best 100
per image, COCO's ``maxDets`` and our detector's ``detections_per_image`` default).

The rule, at the foreground IoU ``t`` (``iou_threshold``, TIDE's 0.5) and the background
IoU ``b`` (TIDE's 0.1); IoUs are pycocotools' (continuous pixels, no ``+1``):

- **Matching**, per image: detections in decreasing score (ties in the order given), each
  takes the *unused* GT box of its class with the highest IoU (the first on ties) if that
  IoU is ``>= t``. (VOC's matching, :func:`~frcnn_core.evaluation.metrics.match_image`, looks
  only at the best box of its class, used or not, so TIDE finds a box VOC calls a duplicate.)
- **Difficult boxes** are TIDE's ignore regions (its COCO loader's ``iscrowd``): not
  positives, never matched; a detection left unmatched that covers one of its class by
  more than ``t`` of its own area (pycocotools' crowd IoU) is *ignored*: not in the AP.
- **Error of each unmatched detection** (the ignored ones too, as TIDE does; IoUs with the
  non-difficult boxes): the first that holds of ``localization`` (``b <= `` best IoU with a
  box of its class ``<= t``), ``classification`` (IoU ``>= t`` with a box of another class),
  ``duplicate`` (IoU ``>= t`` with a box of its class that a detection took),
  ``background`` (IoU ``<= b`` with every box, or no box at all), else ``both`` (TIDE's
  catch-all "Other", whose short name is "Both").
- **Missed**: a GT box no detection took and that no localization or classification error
  points at while it is free.
- **AP**: per class over every detection, the precision made monotone and read at the 101
  recalls 0, 0.01, ..., 1 (COCO's interpolation); the mAP is the mean over the classes
  that have a GT box or a detection (a class with detections but no box counts 0).
  Values are fractions (``tidecv`` prints them times 100).
- **Oracles** (dAP of a type = the mAP with every error of the type fixed minus the mAP,
  clipped at 0): a GT box that localization or classification errors point at while it
  is free goes to the highest-scoring of *all* those errors (the first on ties); if that
  one is of the type fixed it becomes a true positive of the box's class, and the type's
  other errors are removed (so are those pointing at a used box). ``duplicate``,
  ``background`` and ``both`` errors are removed. ``missed`` boxes leave the positives
  and no detection is added. In the fixed AP the detections that were errors come before
  the true positives among equal scores, as ``tidecv`` rebuilds its lists.

:meth:`TideOracle.map_without` applies the missed oracle to any set of GT boxes no
detection took; :mod:`frcnn_core.evaluation.diagnose` uses it for the boxes lost at each stage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from pycocotools import mask as mask_utils

from .metrics import detection_arrays, target_arrays

TIDE_IOU = 0.5  # TIDE's foreground IoU (its pos_threshold), the dAP's "@0.5"
BACKGROUND_IOU = 0.1  # TIDE's background IoU (its background_threshold)
RECALL_POINTS = np.arange(101) / 100  # COCO's and TIDE's recall grid, as tidecv computes it


class TideError(str, Enum):
    """TIDE's six error types, in ``tidecv``'s order (``TIDE._error_types``)."""

    CLASSIFICATION = "classification"
    LOCALIZATION = "localization"
    BOTH = "both"
    DUPLICATE = "duplicate"
    BACKGROUND = "background"
    MISSED = "missed"


TIDE_ERRORS = tuple(TideError)
FALSE_POSITIVE_ERRORS = tuple(e for e in TideError if e is not TideError.MISSED)
NO_ERROR = -1  # in an error-code array: a true positive
NO_BOX = -1  # in a GT-index array: none
_CODE = {error: k for k, error in enumerate(TIDE_ERRORS)}


def false_positive_errors(
    iou: np.ndarray,
    same_class: np.ndarray,
    gt_used: np.ndarray,
    iou_threshold: float = TIDE_IOU,
    background_iou: float = BACKGROUND_IOU,
) -> tuple[np.ndarray, np.ndarray]:
    """TIDE's error type of each detection, were it a false positive (rule in the module docstring).

    Args:
        iou: ``[D, G]`` IoU of each detection with each GT box considered.
        same_class: ``[D, G]`` bool, the detection's label is the box's.
        gt_used: ``[G]`` bool, a detection took the box.

    Returns:
        ``(codes [D], boxes [D])``: each code indexes :data:`TIDE_ERRORS` (never ``missed``);
        ``boxes`` is the GT column a localization error (the best box of its class) or a
        classification error (the best box of another class) points at, else ``NO_BOX``.
    """
    num = iou.shape[0]
    if iou.shape[1] == 0:
        return np.full(num, _CODE[TideError.BACKGROUND], np.int64), np.full(num, NO_BOX, np.int64)
    same_iou = np.where(same_class, iou, 0.0)
    other_iou = np.where(same_class, 0.0, iou)
    rows = np.arange(num)
    best_same, best_other = same_iou.argmax(axis=1), other_iou.argmax(axis=1)
    same_value, other_value = same_iou[rows, best_same], other_iou[rows, best_other]
    localization = (background_iou <= same_value) & (same_value <= iou_threshold)
    classification = other_value >= iou_threshold
    duplicate = np.where(gt_used[None, :], same_iou, 0.0).max(axis=1) >= iou_threshold
    background = iou.max(axis=1) <= background_iou
    codes = np.select(
        [localization, classification, duplicate, background],
        [_CODE[TideError.LOCALIZATION], _CODE[TideError.CLASSIFICATION], _CODE[TideError.DUPLICATE], _CODE[TideError.BACKGROUND]],
        default=_CODE[TideError.BOTH],
    )
    boxes = np.where(localization, best_same, np.where(classification, best_other, NO_BOX))
    return codes.astype(np.int64), boxes.astype(np.int64)


def _xywh(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


@dataclass(frozen=True, eq=False)
class TideImage:
    """TIDE's verdict on every detection and GT box of one image.

    Detections are in TIDE's order (decreasing score, ties in the order given); GT boxes in
    the target's order, difficult ones included (flagged).

    Attributes:
        order: ``[D]`` the index in the given detections of each row.
        scores, labels: ``[D]`` (scores in the model's own precision).
        true_positive: ``[D]`` bool; ignored: ``[D]`` bool (on a difficult box, not in the AP).
        errors: ``[D]`` index in :data:`TIDE_ERRORS` of each unmatched detection's type
            (ignored ones too), ``NO_ERROR`` for true positives.
        fixes: ``[D]`` bool, the localization or classification error chosen to fix its box.
        fix_labels: ``[D]`` the class that fix makes it a true positive of (its box's).
        gt_labels, difficult: ``[G]``.
        gt_used: ``[G]`` bool, a detection took it; gt_missed: ``[G]`` bool, TIDE's ``missed``.
    """

    order: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    true_positive: np.ndarray
    ignored: np.ndarray
    errors: np.ndarray
    fixes: np.ndarray
    fix_labels: np.ndarray
    gt_labels: np.ndarray
    difficult: np.ndarray
    gt_used: np.ndarray
    gt_missed: np.ndarray

    @property
    def false_negative(self) -> np.ndarray:
        """``[G]`` bool: non-difficult boxes no detection took (TIDE's false negatives)."""
        return ~self.difficult & ~self.gt_used


def tide_image(
    boxes,
    scores,
    labels,
    gt_boxes,
    gt_labels,
    difficult=None,
    iou_threshold: float = TIDE_IOU,
    background_iou: float = BACKGROUND_IOU,
) -> TideImage:
    """TIDE's matching and errors of one image (rule in the module docstring).

    Args:
        boxes: ``[D, 4]`` xyxy; scores, labels: ``[D]`` (tensors, arrays or lists).
        gt_boxes: ``[G, 4]`` xyxy in the same pixels; gt_labels: ``[G]``; difficult: ``[G]``
            bool or ``None``.
    """
    boxes, scores, labels = detection_arrays({"boxes": boxes, "scores": scores, "labels": labels})
    gt_boxes, gt_labels, difficult = target_arrays({"boxes": gt_boxes, "labels": gt_labels, "difficult": difficult})
    order = np.argsort(-scores, kind="stable")
    boxes, scores, labels = boxes[order], scores[order], labels[order]
    num, num_gt = len(scores), len(gt_labels)
    keep = np.flatnonzero(~difficult)
    if num and num_gt:
        overlap = np.asarray(mask_utils.iou(_xywh(boxes), _xywh(gt_boxes), difficult.astype(np.uint8).tolist()), np.float64).reshape(num, num_gt)
    else:
        overlap = np.zeros((num, num_gt))
    iou = overlap[:, keep]  # TIDE's ex.gt: the boxes that are not ignore regions
    same_class = labels[:, None] == gt_labels[keep][None, :]

    true_positive = np.zeros(num, bool)
    used = np.zeros(len(keep), bool)
    same_iou = np.where(same_class, iou, 0.0)
    for d in np.flatnonzero((same_iou >= iou_threshold).any(axis=1)):  # greedy in score order: each match changes the next
        free = np.where(used, 0.0, same_iou[d])
        g = free.argmax()
        if free[g] >= iou_threshold:
            used[g] = true_positive[d] = True

    crowd = overlap[:, difficult] > iou_threshold
    crowd &= labels[:, None] == gt_labels[difficult][None, :]
    ignored = ~true_positive & crowd.any(axis=1)

    codes, targets = false_positive_errors(iou, same_class, used, iou_threshold, background_iou)
    errors = np.where(true_positive, NO_ERROR, codes)
    # TIDE's BestGTMatch: a free box pointed at by localization/classification errors goes to the
    # highest-scoring of them, the first on ties: the first in this (decreasing score) order.
    pointing = (errors == _CODE[TideError.LOCALIZATION]) | (errors == _CODE[TideError.CLASSIFICATION])
    pointing &= targets != NO_BOX
    pointing[pointing] &= ~used[targets[pointing]]
    fixes = np.zeros(num, bool)
    candidates = np.flatnonzero(pointing)
    _, first = np.unique(targets[candidates], return_index=True)
    fixes[candidates[first]] = True
    usable = np.zeros(len(keep), bool)
    usable[targets[pointing]] = True
    fix_labels = np.where(targets != NO_BOX, gt_labels[keep][np.maximum(targets, 0)], labels) if len(keep) else labels.copy()

    gt_used, gt_missed = np.zeros(num_gt, bool), np.zeros(num_gt, bool)
    gt_used[keep] = used
    gt_missed[keep] = ~used & ~usable
    return TideImage(order, scores, labels, true_positive, ignored, errors, fixes, fix_labels, gt_labels, difficult, gt_used, gt_missed)


def _class_ap(correct: np.ndarray, num_gt: int) -> float:
    """TIDE's AP of one class from its detections' hits ``[N]`` in ranked order."""
    if num_gt == 0:
        return 0.0
    if correct.size == 0:
        return 0.0
    tp = np.cumsum(correct)
    fp = np.cumsum(~correct)
    precision = np.maximum.accumulate((tp / (tp + fp))[::-1])[::-1]
    recall = tp / num_gt
    at = np.searchsorted(recall, RECALL_POINTS, side="left")
    read = np.where(at < len(precision), precision[np.minimum(at, len(precision) - 1)], 0.0)
    return float(read.sum() / len(read))


def _mean_ap(labels: np.ndarray, scores: np.ndarray, correct: np.ndarray, rank: np.ndarray, num_gt: np.ndarray) -> float:
    """TIDE's mAP: the mean AP over the classes with a GT box or a detection (``nan`` if none).

    Args:
        labels, scores, correct, rank: ``[N]`` the AP's detections; among equal scores the
            lower ``rank`` comes first.
        num_gt: ``[C + 1]`` positives per label.
    """
    classes = np.union1d(np.unique(labels), np.flatnonzero(num_gt))
    if classes.size == 0:
        return float("nan")
    by_class = np.lexsort((rank, -scores.astype(np.float64), labels))
    labels, correct = labels[by_class], correct[by_class]
    starts = np.searchsorted(labels, classes, side="left")
    ends = np.searchsorted(labels, classes, side="right")
    aps = [_class_ap(correct[s:e], int(num_gt[k]) if k < len(num_gt) else 0) for k, s, e in zip(classes.tolist(), starts, ends)]
    return float(np.mean(aps))


@dataclass(frozen=True)
class TideSummary:
    """TIDE's figures of a dataset.

    Attributes:
        map: TIDE's mAP at its IoU (a fraction; ``nan`` with no GT box and no detection).
        dap: per :class:`TideError`, the mAP gained if all its errors were fixed (>= 0).
        counts: errors per type (ignored detections included, as ``tidecv`` counts them).
    """

    map: float
    dap: dict[TideError, float]
    counts: dict[TideError, int]


class TideOracle:
    """The AP data of a whole dataset (one :class:`TideImage` per image) and TIDE's oracles on it."""

    def __init__(self, images: Sequence[TideImage]) -> None:
        def cat(name: str, dtype) -> np.ndarray:
            parts = [getattr(image, name) for image in images]
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        self.scores = cat("scores", np.float64)
        self.labels = cat("labels", np.int64)
        self.true_positive = cat("true_positive", bool)
        self.ignored = cat("ignored", bool)
        self.errors = cat("errors", np.int64)
        self.fixes = cat("fixes", bool)
        self.fix_labels = cat("fix_labels", np.int64)
        self.gt_labels = cat("gt_labels", np.int64)
        self.difficult = cat("difficult", bool)
        self.gt_used = cat("gt_used", bool)
        self.gt_missed = cat("gt_missed", bool)
        self._size = int(max(self.labels.max(initial=0), self.gt_labels.max(initial=0))) + 1
        # tidecv's order of its AP lists: image by image, each in decreasing score
        self._rank = np.arange(len(self.scores))
        kept = ~self.ignored
        self.map = _mean_ap(self.labels[kept], self.scores[kept], self.true_positive[kept], self._rank[kept], self._positives())

    @property
    def false_negative(self) -> np.ndarray:
        """``[sum G]`` bool over the images' target rows: non-difficult boxes no detection took."""
        return ~self.difficult & ~self.gt_used

    def _positives(self, removed: np.ndarray | None = None) -> np.ndarray:
        counted = ~self.difficult if removed is None else ~self.difficult & ~removed
        return np.bincount(self.gt_labels[counted], minlength=self._size)

    def _fixed_map(self, fixed: TideError | None, removed: np.ndarray | None = None) -> float:
        """tidecv's ``fix_errors``: the mAP with the errors of type ``fixed`` fixed and the
        GT boxes ``removed`` out of the positives."""
        fixing = self.errors == (_CODE[fixed] if fixed is not None else NO_ERROR - 1)
        kept = ~self.ignored & ~fixing
        correct, labels = self.true_positive.copy(), self.labels.copy()
        if fixed in (TideError.LOCALIZATION, TideError.CLASSIFICATION):
            made = fixing & self.fixes  # an ignored detection's error is fixed too, as in tidecv
            kept |= made
            correct |= made
            labels[made] = self.fix_labels[made]
        # tidecv rebuilds its lists with the former errors first, then the true positives
        rank = self._rank + self.true_positive * len(self._rank)
        return _mean_ap(labels[kept], self.scores[kept], correct[kept], rank[kept], self._positives(removed))

    def dap(self, error: TideError) -> float:
        """The mAP gained if every error of type ``error`` were fixed (TIDE's oracle), at least 0."""
        if error is TideError.MISSED:
            return self.map_without(self.gt_missed)
        return self._gain(self._fixed_map(error))

    def map_without(self, boxes: np.ndarray) -> float:
        """TIDE's missed oracle on the false negatives among ``boxes`` (``[sum G]`` bool over the
        images' target rows): the mAP gained if they left the positives, no detection added;
        at least 0, and 0 when there is none."""
        removed = np.asarray(boxes, bool) & self.false_negative
        if not removed.any():
            return 0.0
        return self._gain(self._fixed_map(None, removed))

    def _gain(self, fixed_map: float) -> float:
        if np.isnan(self.map) or np.isnan(fixed_map):
            return 0.0
        return max(fixed_map - self.map, 0.0)

    def error_counts(self) -> dict[TideError, int]:
        """Errors per type over the dataset (ignored detections included, as ``tidecv`` counts them)."""
        counts = np.bincount(self.errors[self.errors >= 0], minlength=len(TIDE_ERRORS))
        counts[_CODE[TideError.MISSED]] = int(self.gt_missed.sum())
        return {error: int(n) for error, n in zip(TIDE_ERRORS, counts)}

    def summary(self) -> TideSummary:
        return TideSummary(self.map, {error: self.dap(error) for error in TIDE_ERRORS}, self.error_counts())


def tide_errors(
    detections: Sequence[Mapping],
    targets: Sequence[Mapping],
    iou_threshold: float = TIDE_IOU,
    background_iou: float = BACKGROUND_IOU,
) -> TideSummary:
    """TIDE's mAP, dAP and error counts of a dataset (rule in the module docstring).

    Args:
        detections, targets: one per image, as :func:`~frcnn_core.evaluation.metrics.evaluate_voc` takes them.
        iou_threshold: TIDE's foreground IoU; background_iou: its background IoU.
    """
    if len(detections) != len(targets):
        raise ValueError(f"{len(detections)} detection lists for {len(targets)} images")
    images = [
        tide_image(*detection_arrays(det), *target_arrays(target), iou_threshold=iou_threshold, background_iou=background_iou)
        for det, target in zip(detections, targets)
    ]
    return TideOracle(images).summary()

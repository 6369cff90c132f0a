"""The ``tidecv`` package's figures for detections and targets given as ``evaluate_voc`` takes them,
and sets of detections with every kind of error forced (for the tests that compare with it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tidecv
from tidecv.errors.main_errors import (
    BackgroundError,
    BoxError,
    ClassError,
    DuplicateError,
    FalseNegativeError,
    MissedError,
    OtherError,
)

from frcnn_core.evaluation.metrics import detection_arrays, target_arrays

NAMES = {ClassError: "classification", BoxError: "localization", OtherError: "both", DuplicateError: "duplicate", BackgroundError: "background", MissedError: "missed"}


@dataclass
class TideFigures:
    """tidecv's numbers as fractions: ``map``, ``dap`` and ``counts`` per error name, and its
    ``FalseNeg`` special error (every false negative out of the positives)."""

    map: float
    dap: dict[str, float]
    counts: dict[str, int]
    false_negatives_dap: float


def _xywh(box) -> list[float]:
    return [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]


def tidecv_figures(detections, targets) -> TideFigures:
    """Run ``tidecv`` (box mode, its thresholds 0.5 and 0.1) on every detection given: difficult
    boxes become its ignore regions of their class, as its COCO loader does with ``iscrowd``."""
    gt, preds = tidecv.Data("gt", max_dets=10**9), tidecv.Data("preds", max_dets=10**9)
    for image, (det, target) in enumerate(zip(detections, targets)):
        gt.add_image(image, str(image))
        preds.add_image(image, str(image))
        boxes, labels, difficult = target_arrays(target)
        for box, label, hard in zip(boxes, labels.tolist(), difficult.tolist()):
            if hard:
                gt.add_ignore_region(image, label, box=_xywh(box))
            else:
                gt.add_ground_truth(image, label, _xywh(box))
        boxes, scores, labels = detection_arrays(det)
        for box, score, label in zip(boxes, scores.tolist(), labels.tolist()):
            preds.add_detection(image, label, score, _xywh(box))
    run = tidecv.TIDE().evaluate(gt, preds, mode=tidecv.TIDE.BOX)
    dap = {NAMES[error]: value / 100 for error, value in run.fix_main_errors().items()}
    counts = {NAMES[error]: len(found) for error, found in run.error_dict.items()}
    false_negatives = run.fix_special_errors()[FalseNegativeError] / 100
    return TideFigures(run.ap / 100, dap, counts, false_negatives)


def random_errors(seed: int, num_images: int = 30, num_classes: int = 3, difficult_rate: float = 0.0, coarse_scores: bool = False):
    """A set of ``(detections, targets)`` where every error happens: detections near each GT box
    (a few pixels off up to far off, 20 % of them of a random class, some two or three to a
    box) and boxes on nothing; GT boxes of 20-80 px in 380 x 380 images, some ``difficult``.
    ``coarse_scores`` rounds scores to 0.1, so that many tie."""
    rng = np.random.default_rng(seed)
    detections, targets = [], []
    for _ in range(num_images):
        num_gt = int(rng.integers(0, 6))
        corner = rng.uniform(0, 300, (num_gt, 2))
        gt_boxes = np.concatenate([corner, corner + rng.uniform(20, 80, (num_gt, 2))], axis=1)
        gt_labels = rng.integers(1, num_classes + 1, num_gt)
        boxes, labels = [], []
        for box, label in zip(gt_boxes, gt_labels):
            for _ in range(int(rng.integers(0, 3))):
                boxes.append(box + rng.normal(0, rng.choice([2.0, 8.0, 20.0]), 4))
                labels.append(label if rng.random() < 0.8 else rng.integers(1, num_classes + 1))
        for _ in range(int(rng.integers(0, 4))):
            corner = rng.uniform(0, 300, 2)
            boxes.append(np.concatenate([corner, corner + rng.uniform(10, 80, 2)]))
            labels.append(rng.integers(1, num_classes + 1))
        boxes = np.array(boxes, np.float64).reshape(-1, 4)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        scores = rng.random(len(boxes)).astype(np.float32)
        if coarse_scores:
            scores = np.round(scores, 1)
        detections.append({"boxes": boxes, "scores": scores, "labels": np.array(labels, np.int64)})
        targets.append({"boxes": gt_boxes, "labels": gt_labels, "difficult": rng.random(num_gt) < difficult_rate})
    return detections, targets

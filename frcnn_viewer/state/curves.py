"""The curves people expect of "analyse all": per-class precision–recall and the confusion matrix.

Computed by the core, exactly as ``frcnn eval --plots`` computes them
(:func:`frcnn_core.evaluation.metrics.evaluate_voc` with :func:`frcnn_core.evaluation.scoring.pr_curve`, and
:func:`frcnn_core.evaluation.confusion.confusion_matrix`), over the images whose results hold GT. No Qt:
the plots tab draws what :func:`evaluation_curves` returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from frcnn_core.evaluation.confusion import confusion_matrix
from frcnn_core.evaluation.metrics import evaluate_voc
from frcnn_core.evaluation.scoring import pr_curve

from .results import ImageResult


@dataclass(frozen=True)
class ClassCurve:
    """One class's precision–recall curve (points as :func:`frcnn_core.evaluation.scoring.pr_curve`
    thins them) and its VOC AP (``None`` without GT of the class)."""

    name: str
    ap: float | None
    num_gt: int
    precision: list[float]
    recall: list[float]


@dataclass(frozen=True)
class EvaluationCurves:
    """PR curves per class and the ``[C + 1, C + 1]`` confusion matrix (rows truth, columns
    prediction, index 0 background) of ``images`` images at ``iou`` / ``score_threshold``."""

    curves: list[ClassCurve]
    confusion: np.ndarray
    class_names: tuple[str, ...]
    images: int
    iou: float
    score_threshold: float


def evaluation_curves(results: Mapping[int, ImageResult], class_names: Sequence[str], iou: float, score_threshold: float) -> EvaluationCurves:
    """The curves of the ``results`` that hold GT (their detections and GT in displayed pixels).

    Args:
        class_names: the model's classes, one per label 1..C.
        iou: the matching IoU of the PR curves and of the confusion matrix.
        score_threshold: the least score of a detection counted in the confusion matrix (the
            PR curves run over every score).
    """
    annotated = [results[i] for i in sorted(results) if results[i].target is not None]
    detections = [{"boxes": r.detections.boxes.numpy(), "scores": r.detections.scores.numpy(), "labels": r.detections.labels.numpy()} for r in annotated]
    targets = [r.target for r in annotated]
    num_classes = len(class_names)
    voc = evaluate_voc(detections, targets, num_classes, iou_threshold=iou)
    curves = []
    for k, name in enumerate(class_names, start=1):
        points = pr_curve(voc, k)
        curves.append(ClassCurve(name, voc["per_class_ap"].get(k), int(voc["num_gt"][k]), points["precision"], points["recall"]))
    matrix = confusion_matrix(detections, targets, num_classes, iou, score_threshold)
    return EvaluationCurves(curves, matrix, tuple(class_names), len(annotated), iou, score_threshold)

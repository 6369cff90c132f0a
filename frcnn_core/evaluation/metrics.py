"""Detection metrics: PASCAL VOC average precision, and COCO AP through pycocotools.

Inputs, one entry per image in the same order:

- ``detections[i]``: a mapping (or :class:`~frcnn_core.roi.postprocess.Detections`) with
  ``boxes`` ``[D, 4]`` xyxy original pixels, ``scores`` ``[D]`` and ``labels`` ``[D]``
  in 1..C (tensors, arrays or lists).
- ``targets[i]``: a dataset target (:mod:`frcnn_core.data.sample`) with ``boxes``
  ``[G, 4]``, ``labels`` ``[G]`` and optionally ``difficult`` ``[G]`` and ``size``.

VOC rules (:func:`evaluate_voc`, the devkit's), decided per image by :func:`match_image`,
the one matching that ``frcnn eval``, the viewer's TP/FP colouring and the diagnosis
(:mod:`frcnn_core.evaluation.diagnose`) all use: per class, detections are taken in decreasing
score (ties in the given order); each looks at the ground-truth box of its class with
the highest IoU (continuous pixels, no ``+1``; the first such box on ties). If that IoU
is ``>= iou_threshold`` and the box is ``difficult``, the detection is ignored (neither
true nor false positive); if the box is unmatched, the detection is a true positive
and takes it; if another detection took it already, the detection is a false positive
(a duplicate), even when a second unmatched box of its class also overlaps it by
``iou_threshold`` or more: it is not offered that one. Anything else is a false
positive. Difficult boxes do not count as positives to find.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ..boxes import pairwise_iou


def _array(value, dtype, shape_tail: tuple[int, ...] = ()) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype).reshape((-1, *shape_tail))


def _scores(value) -> np.ndarray:
    """``[D]`` scores in their own float precision (a float32 score of 0.9 passes a 0.9 threshold)."""
    scores = _array(value, None)
    return scores if np.issubdtype(scores.dtype, np.floating) else scores.astype(np.float64)


def detection_arrays(det: Mapping) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(boxes [D, 4] float64, scores [D] in their own precision, labels [D] int64)`` of one image."""
    return _array(det["boxes"], np.float64, (4,)), _scores(det["scores"]), _array(det["labels"], np.int64)


def target_arrays(target: Mapping) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(boxes [G, 4] float64, labels [G] int64, difficult [G] bool)`` of one image."""
    boxes, labels = _array(target["boxes"], np.float64, (4,)), _array(target["labels"], np.int64)
    difficult = target.get("difficult")
    difficult = np.zeros(len(labels), bool) if difficult is None else _array(difficult, bool)
    return boxes, labels, difficult


def voc_ap(recall: np.ndarray, precision: np.ndarray, use_11_point: bool = False) -> float:
    """Average precision from a PR curve given in decreasing-score order.

    Args:
        recall, precision: ``[D]`` cumulative values after each detection.
        use_11_point: VOC2007's mean of the best precision at recall ``>= t`` for
            ``t = 0, 0.1, ..., 1``. Otherwise (VOC2010 on) the exact area under the
            curve made monotone (each precision replaced by the best at any higher
            recall).

    Returns:
        AP in 0..1; 0 for an empty curve.
    """
    recall, precision = np.asarray(recall, np.float64), np.asarray(precision, np.float64)
    if recall.size == 0:
        return 0.0
    if use_11_point:
        return float(np.mean([precision[recall >= t].max(initial=0.0) for t in np.linspace(0.0, 1.0, 11)]))
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


@dataclass(frozen=True, eq=False)
class ImageMatching:
    """The VOC outcome of every detection and every ground-truth box of one image.

    Matching is per class in decreasing score, so the matches of the detections scoring
    at least any threshold ``t`` do not depend on the detections below ``t``: one matching
    over all detections serves every score threshold (a slider), and restricting it to
    ``scores >= t`` gives exactly the matching of the detections kept at ``t``.

    Attributes:
        scores, labels: ``[D]`` of the detections, in the order given (scores keep their
            float precision, so thresholds compare as the model's own numbers).
        true_positive: ``[D]`` bool.
        matched_gt: ``[D]`` the GT index a true positive took, else -1 (:attr:`NONE`).
        ignored: ``[D]`` bool: its best box of its class is ``difficult`` at IoU
            ``>= iou_threshold`` (neither true nor false positive).
        iou: ``[D, G]`` IoU of every detection with every GT box, any class.
        gt_labels, difficult: ``[G]``.
        gt_matched: ``[G]`` the detection that took each GT box, else -1.
        iou_threshold: as given.
    """

    NONE = -1

    scores: np.ndarray
    labels: np.ndarray
    true_positive: np.ndarray
    matched_gt: np.ndarray
    ignored: np.ndarray
    iou: np.ndarray
    gt_labels: np.ndarray
    difficult: np.ndarray
    gt_matched: np.ndarray
    iou_threshold: float

    def shown(self, score_threshold: float = 0.0) -> np.ndarray:
        """``[D]`` bool: detections scoring at least ``score_threshold``."""
        return self.scores >= score_threshold

    def false_positive(self, score_threshold: float = 0.0) -> np.ndarray:
        """``[D]`` bool: false positives among detections scoring at least ``score_threshold``."""
        return self.shown(score_threshold) & ~self.true_positive & ~self.ignored

    def found(self, score_threshold: float = 0.0) -> np.ndarray:
        """``[G]`` bool: GT boxes taken by a detection scoring at least ``score_threshold``."""
        taken = self.gt_matched >= 0
        found = np.zeros(len(self.gt_matched), bool)
        found[taken] = self.scores[self.gt_matched[taken]] >= score_threshold
        return found

    def missed(self, score_threshold: float = 0.0) -> list[int]:
        """Indices of the non-difficult GT boxes no detection scoring at least ``score_threshold`` took."""
        return np.flatnonzero(~self.difficult & ~self.found(score_threshold)).tolist()

    def summary(self, score_threshold: float = 0.0) -> dict[str, int]:
        """``{"true_positives", "false_positives", "missed"}`` counts at ``score_threshold``."""
        return {
            "true_positives": int((self.true_positive & self.shown(score_threshold)).sum()),
            "false_positives": int(self.false_positive(score_threshold).sum()),
            "missed": len(self.missed(score_threshold)),
        }

    def average_precision(self) -> float | None:
        """Mean over the image's classes with non-difficult GT of the VOC area AP of this
        image alone (all detections); ``None`` when it has no such GT."""
        aps = []
        for label in np.unique(self.gt_labels[~self.difficult]):
            mine = (self.labels == label) & ~self.ignored
            order = np.argsort(-self.scores[mine], kind="stable")
            hits = self.true_positive[mine][order].astype(np.float64)
            tp, fp = np.cumsum(hits), np.cumsum(1.0 - hits)
            num_gt = int(((self.gt_labels == label) & ~self.difficult).sum())
            aps.append(voc_ap(tp / num_gt, tp / np.maximum(tp + fp, np.finfo(np.float64).eps)))
        return float(np.mean(aps)) if aps else None


def match_image(
    boxes,
    scores,
    labels,
    gt_boxes,
    gt_labels,
    difficult=None,
    iou_threshold: float = 0.5,
) -> ImageMatching:
    """VOC matching of one image's detections to its ground truth (rule in the module docstring).

    Args:
        boxes: ``[D, 4]`` xyxy; scores, labels: ``[D]`` (tensors, arrays or lists).
        gt_boxes: ``[G, 4]`` xyxy in the same pixels; gt_labels: ``[G]``;
        difficult: ``[G]`` bool, or ``None`` for none.
        iou_threshold: the least IoU of a match (inclusive).
    """
    boxes, scores, labels = _array(boxes, np.float64, (4,)), _scores(scores), _array(labels, np.int64)
    gt_boxes, gt_labels = _array(gt_boxes, np.float64, (4,)), _array(gt_labels, np.int64)
    difficult = np.zeros(len(gt_labels), bool) if difficult is None else _array(difficult, bool)
    num, num_gt = len(scores), len(gt_labels)
    true_positive, ignored = np.zeros(num, bool), np.zeros(num, bool)
    matched_gt, gt_matched = np.full(num, ImageMatching.NONE, np.int64), np.full(num_gt, ImageMatching.NONE, np.int64)
    iou = pairwise_iou(torch.from_numpy(boxes), torch.from_numpy(gt_boxes)).numpy() if num and num_gt else np.zeros((num, num_gt))
    if num and num_gt:
        same_class = np.where(labels[:, None] == gt_labels[None, :], iou, -1.0)
        best = same_class.argmax(axis=1)
        for d in np.argsort(-scores, kind="stable"):  # greedy in score order: each match changes the next
            g = best[d]
            if same_class[d, g] < iou_threshold:
                continue
            if difficult[g]:
                ignored[d] = True
            elif gt_matched[g] == ImageMatching.NONE:
                gt_matched[g], matched_gt[d], true_positive[d] = d, g, True
    return ImageMatching(scores, labels, true_positive, matched_gt, ignored, iou, gt_labels, difficult, gt_matched, iou_threshold)


def evaluate_voc(
    detections: Sequence[Mapping],
    targets: Sequence[Mapping],
    num_classes: int,
    iou_threshold: float = 0.5,
    use_11_point: bool = False,
) -> dict:
    """PASCAL VOC AP per class and their mean (rules in the module docstring).

    Returns:
        A dict (per-class entries keyed by label ``k`` in 1..C):

        - ``map``: mean AP over the classes that have at least one non-difficult
          ground-truth box (a class without any has no AP and is left out of the
          mean); ``nan`` when no class has one.
        - ``per_class_ap``: ``{k: AP or None}`` (``None``: no ground truth).
        - ``precision``, ``recall``, ``scores``: ``{k: [D_k] array}``, the PR curve
          after each of the class's detections in decreasing score order (ignored
          detections left out).
        - ``num_gt``: ``{k: non-difficult boxes}``; ``num_detections``: ``{k: D_k}``.
        - ``iou_threshold``, ``use_11_point``: as given.
    """
    if len(detections) != len(targets):
        raise ValueError(f"{len(detections)} detection lists for {len(targets)} images")
    dets = [detection_arrays(d) for d in detections]
    gts = [target_arrays(t) for t in targets]
    matchings = [match_image(*det, *gt, iou_threshold=iou_threshold) for det, gt in zip(dets, gts)]
    result = {"per_class_ap": {}, "precision": {}, "recall": {}, "scores": {}, "num_gt": {}, "num_detections": {}}
    for k in range(1, num_classes + 1):
        num_gt = sum(int(((m.gt_labels == k) & ~m.difficult).sum()) for m in matchings)
        mine = [m.labels == k for m in matchings]
        scores = np.concatenate([m.scores[s] for m, s in zip(matchings, mine)])
        tp = np.concatenate([m.true_positive[s] for m, s in zip(matchings, mine)])
        counted = ~np.concatenate([m.ignored[s] for m, s in zip(matchings, mine)])
        order = np.argsort(-scores, kind="stable")
        scores, tp, counted = scores[order], tp[order], counted[order]
        scores, tp = scores[counted], tp[counted].astype(np.float64)
        tp_cum, fp_cum = np.cumsum(tp), np.cumsum(1.0 - tp)
        recall = tp_cum / num_gt if num_gt else np.zeros_like(tp_cum)
        precision = tp_cum / np.maximum(tp_cum + fp_cum, np.finfo(np.float64).eps)
        result["per_class_ap"][k] = voc_ap(recall, precision, use_11_point) if num_gt else None
        result["precision"][k], result["recall"][k], result["scores"][k] = precision, recall, scores
        result["num_gt"][k], result["num_detections"][k] = num_gt, len(scores)
    aps = [ap for ap in result["per_class_ap"].values() if ap is not None]
    result["map"] = float(np.mean(aps)) if aps else math.nan
    result["iou_threshold"], result["use_11_point"] = iou_threshold, use_11_point
    return result


# COCOeval.stats, in order.
COCO_STAT_NAMES = ("ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large", "ar_1", "ar_10", "ar_max", "ar_small", "ar_medium", "ar_large")


def _coco_ground_truth(targets: Sequence[Mapping], class_names: Sequence[str]) -> dict:
    """An in-memory COCO dataset: image ``i`` has id ``i``, label ``k`` category ``k``.

    Difficult boxes become ``iscrowd`` regions, pycocotools' only way to ignore a box.
    """
    images, annotations = [], []
    for i, target in enumerate(targets):
        boxes, labels, difficult = target_arrays(target)
        height, width = target.get("size", (0, 0))
        images.append({"id": i, "width": int(width), "height": int(height)})
        for box, label, hard in zip(boxes.tolist(), labels.tolist(), difficult.tolist()):
            w, h = box[2] - box[0], box[3] - box[1]
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": label, "bbox": [box[0], box[1], w, h], "area": w * h, "iscrowd": int(hard)})
    categories = [{"id": k, "name": name} for k, name in enumerate(class_names, start=1)]
    return {"images": images, "annotations": annotations, "categories": categories}


def _coco_results(detections: Sequence[Mapping], num_classes: int) -> list[dict]:
    results = []
    for i, det in enumerate(detections):
        boxes, scores, labels = detection_arrays(det)
        if labels.size and (labels.min() < 1 or labels.max() > num_classes):
            raise ValueError(f"image {i}: detection labels must be in 1..{num_classes}, got {sorted(set(labels.tolist()))}")
        for box, score, label in zip(boxes.tolist(), scores.tolist(), labels.tolist()):
            results.append({"image_id": i, "category_id": label, "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]], "score": score})
    return results


def _mean_defined(values: np.ndarray) -> float | None:
    defined = values[values > -1]
    return float(defined.mean()) if defined.size else None


def evaluate_coco(detections: Sequence[Mapping], targets: Sequence[Mapping], class_names: Sequence[str], max_detections: int = 100) -> dict:
    """COCO box AP with pycocotools (its printing silenced).

    Args:
        class_names: one per label; label ``k`` is category ``k``.
        max_detections: the largest of COCOeval's ``maxDets`` (its default 100).

    Returns:
        ``ap`` (AP@[.5:.95]), ``ap50``, ``ap75``, ``ap_small/medium/large``,
        ``ar_1/10/max``, ``ar_small/medium/large`` (``nan`` where COCO reports -1,
        i.e. no ground truth), ``per_class_ap`` and ``per_class_ap50``
        (``{k: value or None}``, ``None`` for a class without ground truth), and
        ``stats``, COCOeval's 12 numbers. With no detections at all pycocotools
        cannot run; every AP and AR is then 0 (``nan``/``None`` without ground truth).
    """
    if len(detections) != len(targets):
        raise ValueError(f"{len(detections)} detection lists for {len(targets)} images")
    ground_truth = _coco_ground_truth(targets, class_names)
    results = _coco_results(detections, len(class_names))
    has_gt = {k: False for k in range(1, len(class_names) + 1)}
    for ann in ground_truth["annotations"]:
        has_gt[ann["category_id"]] |= not ann["iscrowd"]
    if not results:
        empty = 0.0 if any(has_gt.values()) else math.nan
        per_class = {k: 0.0 if present else None for k, present in has_gt.items()}
        return {**dict.fromkeys(COCO_STAT_NAMES, empty), "per_class_ap": per_class, "per_class_ap50": dict(per_class), "stats": [empty] * len(COCO_STAT_NAMES)}
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = ground_truth
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(results)
        evaluator = COCOeval(coco_gt, coco_dt, "bbox")
        evaluator.params.maxDets = [1, 10, max_detections]
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = [float(v) if v > -1 else math.nan for v in evaluator.stats]
    precision = evaluator.eval["precision"]  # [iou thresholds, recall points, classes, area ranges, maxDets]
    iou50 = int(np.argmin(np.abs(evaluator.params.iouThrs - 0.5)))
    per_class = {k: _mean_defined(precision[:, :, k - 1, 0, -1]) for k in has_gt}
    per_class50 = {k: _mean_defined(precision[iou50, :, k - 1, 0, -1]) for k in has_gt}
    return {**dict(zip(COCO_STAT_NAMES, stats)), "per_class_ap": per_class, "per_class_ap50": per_class50, "stats": stats}

"""True and false positives of one image's detections, by the PASCAL VOC rule.

Detections are taken in decreasing score; each is matched to the unmatched GT box of
its class with the highest IoU, if that IoU is at least the threshold (0.5). A match
to a ``difficult`` GT box counts neither way. Because the order is by score, the
matches of the detections above any score threshold do not depend on those below
it, so one matching serves every position of the score slider.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from frcnn_core.boxes import pairwise_iou

IOU_THRESHOLD = 0.5


@dataclass
class Matching:
    """Per-detection outcome for one image.

    Attributes:
        scores, labels: ``[D]`` of the detections (in the order given).
        true_positive: ``[D]`` bool; matched_gt: ``[D]`` GT index of a true positive, else -1.
        ignored: ``[D]`` bool, matched a ``difficult`` GT (neither true nor false positive).
        gt_labels, difficult: ``[G]``.
    """

    scores: np.ndarray
    labels: np.ndarray
    true_positive: np.ndarray
    matched_gt: np.ndarray
    ignored: np.ndarray
    gt_labels: np.ndarray
    difficult: np.ndarray

    def false_positive(self, score_threshold: float = 0.0) -> np.ndarray:
        """``[D]`` bool: false positives among detections scoring at least ``score_threshold``."""
        return (self.scores >= score_threshold) & ~self.true_positive & ~self.ignored

    def missed(self, score_threshold: float = 0.0) -> list[int]:
        """Non-difficult GT boxes no detection scoring at least ``score_threshold`` found."""
        found = set(self.matched_gt[self.true_positive & (self.scores >= score_threshold)].tolist())
        return [g for g in range(len(self.difficult)) if not self.difficult[g] and g not in found]

    def average_precision(self) -> float | None:
        """Mean over the image's GT classes of the VOC area-under-PR-curve AP (``None`` without GT)."""
        aps = []
        for label in np.unique(self.gt_labels[~self.difficult]):
            mine = (self.labels == label) & ~self.ignored
            order = np.argsort(-self.scores[mine], kind="stable")
            hits = self.true_positive[mine][order]
            tp, fp = np.cumsum(hits), np.cumsum(~hits)
            recall = np.concatenate(([0.0], tp / int(((self.gt_labels == label) & ~self.difficult).sum()), [1.0]))
            precision = np.concatenate(([0.0], tp / np.maximum(tp + fp, 1), [0.0]))
            precision = np.maximum.accumulate(precision[::-1])[::-1]
            steps = np.nonzero(recall[1:] != recall[:-1])[0]
            aps.append(float(((recall[steps + 1] - recall[steps]) * precision[steps + 1]).sum()))
        return float(np.mean(aps)) if aps else None

    def summary(self, score_threshold: float = 0.0) -> dict[str, int]:
        shown = self.scores >= score_threshold
        return {
            "true_positives": int((self.true_positive & shown).sum()),
            "false_positives": int(self.false_positive(score_threshold).sum()),
            "missed": len(self.missed(score_threshold)),
        }


def match_detections(
    boxes: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray,
    gt_boxes: np.ndarray,
    gt_labels: np.ndarray,
    difficult: np.ndarray | None = None,
    iou_threshold: float = IOU_THRESHOLD,
) -> Matching:
    """Match detections (``[D, 4]`` xyxy, ``[D]``, ``[D]``) to GT (``[G, 4]``, ``[G]``) of one image."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    gt_boxes = np.asarray(gt_boxes, dtype=np.float32).reshape(-1, 4)
    scores, labels, gt_labels = np.asarray(scores), np.asarray(labels), np.asarray(gt_labels)
    difficult = np.zeros(len(gt_boxes), dtype=bool) if difficult is None else np.asarray(difficult, dtype=bool)
    num = len(boxes)
    true_positive = np.zeros(num, dtype=bool)
    ignored = np.zeros(num, dtype=bool)
    matched_gt = np.full(num, -1, dtype=np.int64)
    if num and len(gt_boxes):
        iou = pairwise_iou(torch.from_numpy(boxes), torch.from_numpy(gt_boxes)).numpy()
        iou[labels[:, None] != gt_labels[None, :]] = -1.0
        taken = np.zeros(len(gt_boxes), dtype=bool)
        for d in np.argsort(-scores, kind="stable"):  # a few hundred detections at most
            g = int(np.argmax(iou[d]))
            if iou[d, g] < iou_threshold:
                continue
            if difficult[g]:
                ignored[d] = True
            elif not taken[g]:
                taken[g] = True
                true_positive[d] = True
                matched_gt[d] = g
    return Matching(scores.astype(np.float32), labels, true_positive, matched_gt, ignored, gt_labels, difficult)

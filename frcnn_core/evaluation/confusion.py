"""The detection confusion matrix, with a background row and column.

The rule (Ultralytics' ``ConfusionMatrix`` convention, with TIDE's and VOC's handling
of ignored boxes): per image, keep the detections scoring at least
``score_threshold``; pair detections and GT boxes whatever their classes, greedily by
decreasing IoU (ties: higher score first), each at most once, only pairs with IoU
``>= iou``. Then

- a pair with a non-difficult GT box of class ``t`` and a detection of class ``p``
  counts in ``matrix[t, p]`` (the diagonal: right class; off it: confused);
- a pair with a difficult (crowd) box counts nowhere;
- an unpaired non-difficult GT box of class ``t`` counts in ``matrix[t, 0]`` (missed);
- an unpaired detection of class ``p`` counts in ``matrix[0, p]`` (background false positive).

Rows are the truth, columns the prediction, index 0 is background and ``k`` is label
``k``; ``matrix[0, 0]`` is always 0. Ultralytics keeps IoU ``>`` its threshold and
puts background last with rows as predictions; here IoU is inclusive as in
:func:`frcnn_core.evaluation.metrics.match_image`. Pairing ignores classes, so the diagonal may
differ from the VOC true positives, which match within a class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ..boxes import pairwise_iou
from .metrics import detection_arrays, target_arrays

BACKGROUND = 0


def _pairs(iou: np.ndarray, scores: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Greedy one-to-one ``(detection, gt)`` pairs by decreasing IoU, then decreasing score."""
    d, g = np.nonzero(iou >= threshold)
    order = np.lexsort((-scores[d], -iou[d, g]))
    used_d, used_g, pairs = set(), set(), []
    for k in order.tolist():
        if d[k] not in used_d and g[k] not in used_g:
            used_d.add(d[k])
            used_g.add(g[k])
            pairs.append((int(d[k]), int(g[k])))
    return pairs


def confusion_matrix(
    detections: Sequence[Mapping],
    targets: Sequence[Mapping],
    num_classes: int,
    iou: float = 0.5,
    score_threshold: float = 0.5,
) -> np.ndarray:
    """``[C + 1, C + 1]`` int64 counts (rule in the module docstring).

    Args:
        detections: per image, ``boxes`` ``[D, 4]`` xyxy, ``scores`` ``[D]``, ``labels`` ``[D]`` in 1..C.
        targets: per image, ``boxes`` ``[G, 4]``, ``labels`` ``[G]``, optionally ``difficult`` ``[G]``.
    """
    if len(detections) != len(targets):
        raise ValueError(f"{len(detections)} detection lists for {len(targets)} images")
    matrix = np.zeros((num_classes + 1, num_classes + 1), np.int64)
    for det, target in zip(detections, targets):
        boxes, scores, labels = detection_arrays(det)
        kept = scores >= score_threshold
        boxes, scores, labels = boxes[kept], scores[kept], labels[kept]
        gt_boxes, gt_labels, difficult = target_arrays(target)
        pairs = []
        if len(boxes) and len(gt_boxes):
            pairs = _pairs(pairwise_iou(torch.from_numpy(boxes), torch.from_numpy(gt_boxes)).numpy(), scores, iou)
        paired_d, paired_g = {d for d, _ in pairs}, {g for _, g in pairs}
        for d, g in pairs:
            if not difficult[g]:
                matrix[gt_labels[g], labels[d]] += 1
        for g in range(len(gt_labels)):
            if g not in paired_g and not difficult[g]:
                matrix[gt_labels[g], BACKGROUND] += 1
        for d in range(len(labels)):
            if d not in paired_d:
                matrix[BACKGROUND, labels[d]] += 1
    return matrix

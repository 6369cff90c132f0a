"""A model's detections on a dataset scored as ``frcnn eval`` reports them.

:func:`score_detections` is the report that ``frcnn eval --json`` writes, the end of
``frcnn train`` and the viewer's training dock show: VOC mAP@0.5 (area and 11-point),
COCO AP and, per class, the APs, the number of GT boxes and a thinned PR curve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .metrics import evaluate_coco, evaluate_voc


def dataset_targets(dataset) -> list[dict]:
    """Targets of every image, read without decoding pixels."""
    return [dataset.info(i)["target"] for i in range(len(dataset))]


def pr_curve(voc: dict, label: int, points: int = 200) -> dict[str, list[float]]:
    """Precision, recall and score thresholds of class ``label`` from an :func:`evaluate_voc`
    result, at most ``points`` of them spread evenly over its ranked detections."""
    n = len(voc["scores"][label])
    keep = np.unique(np.linspace(0, n - 1, min(n, points)).round().astype(int)) if n else np.zeros(0, dtype=int)
    return {key: [round(float(v), 5) for v in voc[key][label][keep]] for key in ("precision", "recall", "scores")}


def score_detections(detections: Sequence[Mapping], dataset) -> dict:
    """VOC mAP@0.5 (area and 11-point) and COCO AP of ``detections`` (one per image of ``dataset``).

    Returns:
        ``{"images", "map50", "map50_11pt", "coco_ap", "coco_ap50", "coco_ap75", "per_class"}``
        with ``per_class[name] = {"ap50", "ap50_11pt", "coco_ap", "num_gt", "pr_curve"}``
        (an AP is ``None`` for a class without ground truth; ``pr_curve`` as :func:`pr_curve`).
    """
    targets = dataset_targets(dataset)
    num_classes = len(dataset.class_names)
    voc = evaluate_voc(detections, targets, num_classes, iou_threshold=0.5)
    voc11 = evaluate_voc(detections, targets, num_classes, iou_threshold=0.5, use_11_point=True)
    coco = evaluate_coco(detections, targets, list(dataset.class_names))
    per_class = {
        name: {
            "ap50": voc["per_class_ap"].get(k + 1),
            "ap50_11pt": voc11["per_class_ap"].get(k + 1),
            "coco_ap": coco["per_class_ap"].get(k + 1),
            "num_gt": voc["num_gt"][k + 1],
            "pr_curve": pr_curve(voc, k + 1),
        }
        for k, name in enumerate(dataset.class_names)
    }
    return {"images": len(dataset), "map50": voc["map"], "map50_11pt": voc11["map"], "coco_ap": coco["ap"], "coco_ap50": coco["ap50"], "coco_ap75": coco["ap75"], "per_class": per_class}

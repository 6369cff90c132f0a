"""Shared by ``frcnn eval`` and the end of ``frcnn train``: predict, score, print, save."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..evaluate import evaluate_coco, evaluate_voc
from ..export import write_json
from ..inference import predict_dataset
from ..train.distributed import ProcessGroup
from .progress import progress_bar


def dataset_targets(dataset) -> list[dict]:
    """Targets of every image, read without decoding pixels."""
    return [dataset.info(i)["target"] for i in range(len(dataset))]


def pr_curve(voc: dict, label: int, points: int = 200) -> dict:
    """Precision, recall and score thresholds of class ``label``, at most ``points`` of them."""
    n = len(voc["scores"][label])
    keep = np.unique(np.linspace(0, n - 1, min(n, points)).round().astype(int)) if n else np.zeros(0, dtype=int)
    return {key: [round(float(v), 5) for v in voc[key][label][keep]] for key in ("precision", "recall", "scores")}


def score_detections(detections, dataset) -> dict:
    """VOC mAP@0.5 (area and 11-point) and COCO AP for ``detections`` against ``dataset``."""
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


def print_report(report: dict) -> None:
    print(f"images: {report['images']}")
    print(f"mAP@0.5 (VOC, area): {report['map50']:.4f}   mAP@0.5 (VOC, 11-point): {report['map50_11pt']:.4f}")
    print(f"COCO AP@[.5:.95]: {report['coco_ap']:.4f}   AP50: {report['coco_ap50']:.4f}   AP75: {report['coco_ap75']:.4f}")
    print(f"{'class':20s} {'AP50':>8s} {'AP50 11pt':>10s} {'COCO AP':>8s}")
    for name, row in report["per_class"].items():
        cells = [f"{row[k]:.4f}" if row[k] is not None else "-" for k in ("ap50", "ap50_11pt", "coco_ap")]
        print(f"{name:20s} {cells[0]:>8s} {cells[1]:>10s} {cells[2]:>8s}")


def evaluate_and_report(model, dataset, device: torch.device, json_path: Path | None = None, batch_size: int = 4, progress: bool = False, process_group: ProcessGroup | None = None) -> dict:
    """Under torchrun (``process_group``) every process predicts its share and only the first
    one scores, prints and writes (the others return ``{}``)."""
    with progress_bar(progress, "eval") as bar:
        detections = predict_dataset(model, dataset, batch_size=batch_size, device=device, progress=bar, process_group=process_group)
    if process_group is not None and not process_group.is_main:
        return {}
    report = score_detections(detections, dataset)
    print_report(report)
    if json_path is not None:
        write_json(report, json_path)
    return report

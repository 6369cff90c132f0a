"""Shared by ``frcnn eval`` and the end of ``frcnn train``: predict, score (:mod:`frcnn_core.evaluation.scoring`), print, save."""

from __future__ import annotations

from pathlib import Path

import torch

from ..evaluation.confusion import confusion_matrix
from ..evaluation.plots import save_confusion_matrix, save_pr_curves
from ..evaluation.scoring import dataset_targets, score_detections
from ..files.export import write_json
from ..inference import predict_dataset
from ..train.distributed import ProcessGroup
from .progress import progress_bar

PR_CURVES_PNG = "pr_curves.png"
CONFUSION_MATRIX_PNG = "confusion_matrix.png"


def print_report(report: dict) -> None:
    print(f"images: {report['images']}")
    print(f"mAP@0.5 (VOC, area): {report['map50']:.4f}   mAP@0.5 (VOC, 11-point): {report['map50_11pt']:.4f}")
    print(f"COCO AP@[.5:.95]: {report['coco_ap']:.4f}   AP50: {report['coco_ap50']:.4f}   AP75: {report['coco_ap75']:.4f}")
    print(f"{'class':20s} {'AP50':>8s} {'AP50 11pt':>10s} {'COCO AP':>8s}")
    for name, row in report["per_class"].items():
        cells = [f"{row[k]:.4f}" if row[k] is not None else "-" for k in ("ap50", "ap50_11pt", "coco_ap")]
        print(f"{name:20s} {cells[0]:>8s} {cells[1]:>10s} {cells[2]:>8s}")


def write_plots(report: dict, detections, dataset, folder: Path, iou: float = 0.5, score_threshold: float = 0.5) -> list[Path]:
    """The PR curves of ``report`` and the confusion matrix of ``detections`` as PNGs in ``folder``."""
    matrix = confusion_matrix(detections, dataset_targets(dataset), len(dataset.class_names), iou, score_threshold)
    title = f"Confusion matrix (IoU {iou:g}, score {score_threshold:g})"
    return [save_pr_curves(report["per_class"], folder / PR_CURVES_PNG), save_confusion_matrix(matrix, dataset.class_names, folder / CONFUSION_MATRIX_PNG, title)]


def evaluate_and_report(
    model, dataset, device: torch.device, json_path: Path | None = None, batch_size: int = 4, progress: bool = False,
    process_group: ProcessGroup | None = None, plots: Path | None = None,
) -> dict:
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
    if plots is not None:
        written = write_plots(report, detections, dataset, plots)
        print(f"plots written: {', '.join(str(p) for p in written)}")
    return report

"""PNG figures of an evaluation: per-class precision–recall curves and the confusion matrix.

Drawn with matplotlib's Agg canvas on a ``Figure`` of its own (no pyplot state, no GUI
backend, no Qt). The data come from the core (:func:`frcnn_core.evaluation.scoring.score_detections`'s
``pr_curve``, :func:`frcnn_core.evaluation.confusion.confusion_matrix`), so the viewer draws the
same numbers its own way.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..files.atomic import atomic_write_bytes

DPI = 120


def _save(figure: Figure, path: str | os.PathLike) -> Path:
    """Write ``figure`` as a PNG atomically (the parent folder is created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def save_pr_curves(per_class: Mapping[str, Mapping], path: str | os.PathLike) -> Path:
    """One precision–recall curve per class on one plot, AP@0.5 in the legend.

    Args:
        per_class: ``{class_name: {"ap50", "pr_curve": {"precision", "recall"}}}``, the
            ``per_class`` of a :func:`~frcnn_core.evaluation.scoring.score_detections` report.
    """
    figure = Figure(figsize=(6.4, 5.2))
    axes = figure.add_subplot()
    for name, row in per_class.items():
        ap = "-" if row.get("ap50") is None else f"{row['ap50']:.3f}"
        axes.plot(row["pr_curve"]["recall"], row["pr_curve"]["precision"], label=f"{name}  AP50 {ap}")
    axes.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision", title="Precision–recall at IoU 0.5 (VOC)")
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    return _save(figure, path)


def save_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], path: str | os.PathLike, title: str = "Confusion matrix") -> Path:
    """The ``[C + 1, C + 1]`` matrix of :func:`~frcnn_core.evaluation.confusion.confusion_matrix` as a
    heat map with its counts: rows the truth, columns the prediction, background first."""
    matrix = np.asarray(matrix)
    names = ["background", *class_names]
    size = max(4.0, 0.6 * len(names) + 2.5)
    figure = Figure(figsize=(size, size * 0.9))
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    ticks = np.arange(len(names))
    axes.set_xticks(ticks, names, rotation=45, ha="right")
    axes.set_yticks(ticks, names)
    axes.set(xlabel="predicted", ylabel="true", title=title)
    high = matrix.max(initial=0) / 2
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            axes.text(column, row, str(count), ha="center", va="center", fontsize="small", color="white" if count > high else "black")
    figure.tight_layout()
    return _save(figure, path)

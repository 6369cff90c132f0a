"""The curves of a run: every step's losses, learning rate, time and sampling health.

Kept as columns of one NumPy array whose size is bounded: when it is full, every other
row is dropped and from then on only every second step is kept (and so on), so a run
of any length costs at most ``max_points`` rows while the curves keep their shape.
"""

from __future__ import annotations

import numpy as np

from frcnn_core.train import best_validation

LOSS_KEYS = ("rpn_cls", "rpn_reg", "roi_cls", "roi_reg", "total")
STAT_KEYS = ("positive_anchors", "negative_anchors", "fg_rois", "bg_rois", "roi_accuracy", "roi_fg_accuracy")
COLUMNS = ("iteration", "lr", "seconds", *LOSS_KEYS, *STAT_KEYS)
VAL_SPLIT = "val"  # the "split" of a validation's row in metrics.jsonl (training steps have none)
VAL_COLUMNS = ("iteration", *LOSS_KEYS, "map50", "coco_ap")


def split_rows(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """The rows of a ``metrics.jsonl`` as ``(training steps, validations)``."""
    return [r for r in rows if r.get("split") != VAL_SPLIT], [r for r in rows if r.get("split") == VAL_SPLIT]


class ValidationHistory:
    """The validations of a run (``metrics.jsonl`` rows with ``"split": "val"``), in order:
    few (ten a run by default), so all are kept."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def __len__(self) -> int:
        return len(self.rows)

    def append(self, record: dict) -> None:
        self.rows.append({k: float(record[k]) if k != "iteration" else int(record[k]) for k in VAL_COLUMNS if k in record})

    def extend(self, rows: list[dict]) -> None:
        for row in rows:
            self.append(row)

    def clear(self) -> None:
        self.rows.clear()

    def column(self, name: str) -> np.ndarray:
        return np.array([row.get(name, np.nan) for row in self.rows], dtype=np.float64)

    def best(self) -> dict | None:
        """The validation whose weights are in ``best.pt`` (the trainer's rule, :func:`best_validation`)."""
        return best_validation(self.rows)


class MetricHistory:
    """Rows of :data:`COLUMNS` (``StepResult.metrics()`` keys), at most ``max_points`` of them."""

    def __init__(self, max_points: int = 200_000) -> None:
        if max_points < 2:
            raise ValueError(f"max_points must be >= 2, got {max_points}")
        self.max_points = max_points
        self._rows = np.full((max_points, len(COLUMNS)), np.nan)
        self._count = 0
        self.stride = 1  # one row kept per `stride` steps
        self._seen = 0

    def __len__(self) -> int:
        return self._count

    def append(self, metrics: dict) -> None:
        """Add one step (missing keys are NaN)."""
        self._seen += 1
        if (self._seen - 1) % self.stride:
            return
        if self._count == self.max_points:
            kept = self._rows[: self._count : 2].copy()
            self._rows[: len(kept)] = kept
            self._count = len(kept)
            self.stride *= 2
            self._seen = 1
        self._rows[self._count] = [float(metrics.get(k, np.nan)) for k in COLUMNS]
        self._count += 1

    def extend(self, rows: list[dict]) -> None:
        for row in rows:
            self.append(row)

    def clear(self) -> None:
        self._count, self.stride, self._seen = 0, 1, 0

    def column(self, name: str) -> np.ndarray:
        """``[len]`` values of column ``name`` (a read-only view)."""
        view = self._rows[: self._count, COLUMNS.index(name)]
        view.flags.writeable = False
        return view

    def last(self, name: str, default: float = float("nan")) -> float:
        return float(self._rows[self._count - 1, COLUMNS.index(name)]) if self._count else default

    def to_dict(self) -> dict[str, list[float]]:
        """Every column as a list (``iteration`` as ints)."""
        data = {name: self.column(name).tolist() for name in COLUMNS}
        data["iteration"] = [int(v) for v in data["iteration"]]
        return data


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each point (fewer at the start); NaNs are skipped."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(values) == 0:
        return values
    finite = np.isfinite(values)
    sums = np.concatenate(([0.0], np.cumsum(np.where(finite, values, 0.0))))
    counts = np.concatenate(([0], np.cumsum(finite)))
    end = np.arange(1, len(values) + 1)
    start = np.maximum(end - window, 0)
    n = counts[end] - counts[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[end] - sums[start]) / np.maximum(n, 1), np.nan)

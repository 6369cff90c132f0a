"""Reading a run's ``metrics.jsonl`` (written by ``frcnn_core.train.Trainer``) back into curves.

One JSON object per line with the keys of ``StepResult.metrics()`` (``iteration``, ``lr``,
``seconds``, the losses and the sampling statistics) plus ``time``. A run killed while
writing leaves a cut last line: it is skipped. Any other bad line is an error naming the
file and the line.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from frcnn_core.train import METRICS_FILE

log = logging.getLogger(__name__)


class MetricsLogError(ValueError):
    """A metrics log could not be read; the message names the file (and line)."""


def metrics_path(path: str | Path) -> Path:
    """``path`` itself, or ``path/metrics.jsonl`` when ``path`` is a run folder."""
    path = Path(path).expanduser()
    return path / METRICS_FILE if path.is_dir() else path


def read_metrics(path: str | Path) -> list[dict]:
    """The rows of a metrics log (or of a run folder's ``metrics.jsonl``), in file order."""
    path = metrics_path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MetricsLogError(f"{path}: cannot read the metrics log: {exc}") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):  # cut off by a crash while writing
                log.warning("%s: last line is incomplete, skipped", path)
                continue
            raise MetricsLogError(f"{path}, line {number}: not JSON: {exc}") from None
        if not isinstance(row, dict) or not isinstance(row.get("iteration"), int):
            raise MetricsLogError(f"{path}, line {number}: expected an object with an integer 'iteration'")
        rows.append(row)
    if not rows:
        raise MetricsLogError(f"{path}: no metrics in the log")
    return rows

"""frcnn_viewer.state.training.metrics_log: reading a run's metrics.jsonl back."""

from __future__ import annotations

import json

import pytest

from frcnn_viewer.state.training.metrics_log import MetricsLogError, read_metrics


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_a_run_folder_or_its_file_gives_the_rows_and_a_cut_last_line_is_skipped(tmp_path):
    rows = [{"iteration": i, "total": 1.0 / i, "lr": 0.01} for i in range(1, 4)]
    _write(tmp_path / "metrics.jsonl", [json.dumps(r) for r in rows] + ['{"iteration": 4, "tot'])
    assert read_metrics(tmp_path) == rows
    assert read_metrics(tmp_path / "metrics.jsonl") == rows


def test_a_broken_line_in_the_middle_is_an_error_naming_file_and_line(tmp_path):
    path = _write(tmp_path / "m.jsonl", ['{"iteration": 1}', "garbage", '{"iteration": 3}'])
    with pytest.raises(MetricsLogError, match=r"m\.jsonl, line 2"):
        read_metrics(path)
    with pytest.raises(MetricsLogError, match="cannot read"):
        read_metrics(tmp_path / "missing.jsonl")

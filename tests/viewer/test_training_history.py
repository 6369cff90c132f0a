"""frcnn_viewer.state.training.history: bounded curves and their smoothing."""

from __future__ import annotations

import numpy as np

from frcnn_viewer.state.training.history import COLUMNS, MetricHistory, moving_average


def test_rows_keep_every_metric_and_missing_ones_are_nan():
    history = MetricHistory()
    history.append({"iteration": 1, "total": 2.5, "lr": 0.01})
    assert len(history) == 1
    assert history.column("total").tolist() == [2.5]
    assert np.isnan(history.last("roi_accuracy"))
    data = history.to_dict()
    assert set(data) == set(COLUMNS) and data["iteration"] == [1]


def test_memory_is_bounded_for_any_run_length_and_the_curve_keeps_its_span():
    history = MetricHistory(max_points=64)
    for i in range(1, 10_001):
        history.append({"iteration": i, "total": 1.0 / i})
    iterations = history.column("iteration")
    assert len(history) <= 64
    assert iterations[0] == 1 and iterations[-1] > 9_800  # first and (nearly) last step still there
    assert np.all(np.diff(iterations) == history.stride)  # evenly thinned, in order


def test_moving_average_matches_a_direct_mean_and_skips_nan():
    values = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    smoothed = moving_average(values, 3)
    assert smoothed[0] == 1.0 and smoothed[1] == 1.5
    assert smoothed[2] == 1.5  # the NaN is skipped, not spread
    assert smoothed[5] == 5.0
    assert np.array_equal(moving_average(values[:2], 1), values[:2])  # window 1: unchanged

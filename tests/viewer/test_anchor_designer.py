"""The anchor designer: dataset-wide coverage of the current anchors, live, and the optimiser."""

from __future__ import annotations

import threading

import numpy as np
from PySide6 import QtCore

from frcnn_core.anchors.coverage import AnchorLayout, GtBoxes, grid_coverage
from frcnn_core.data import open_dataset


def test_the_panel_shows_the_cores_coverage_of_every_open_gt_box_and_follows_edits(window, large_objects):
    window.open_paths([str(large_objects)])
    window.set_parameters(min_size=256, max_size=512, anchor_scales=(1.5, 2.5), anchor_ratios=(1.0,))
    answer = window.anchor_design()
    expected = grid_coverage(GtBoxes.from_dataset(open_dataset(large_objects)), AnchorLayout((1.5, 2.5), (1.0,), 16, 256, 512))
    assert answer.coverage.gt_boxes == 6 and np.allclose(answer.coverage.best_iou.numpy(), expected.best_iou.numpy())
    assert f"{100 * expected.share_at_least(0.5):.1f}% ≥ 0.5" in window.anchor_designer.figures.text()
    assert answer.anchor_sizes.shape == (2, 2) and answer.box_sizes.shape == (6, 2)
    window.set_parameters(anchor_scales=(12.0, 14.0))  # anchors as large as the objects
    assert window.anchor_design().coverage.share_at_least(0.5) > expected.share_at_least(0.5)


def test_optimise_fills_in_anchors_that_cover_no_worse_and_runs_off_the_gui_thread(window, large_objects):
    window.open_paths([str(large_objects)])
    window.set_parameters(min_size=256, max_size=512, anchor_scales=(1.5, 2.5), anchor_ratios=(0.5, 1.0))
    before = window.anchor_design().coverage
    computed_in = set()  # the thread each answer is emitted from: the worker's, never the GUI thread
    window.anchor_designer.worker.designed.connect(lambda _answer: computed_in.add(threading.current_thread()), QtCore.Qt.ConnectionType.DirectConnection)
    answer = window.anchor_design(optimise=True)
    assert answer.search is not None and answer.search.improved
    after = window.document.parameters
    assert len(after.anchor_scales) == 2 and len(after.anchor_ratios) == 2 and after.anchor_scales != (1.5, 2.5)
    now = window.anchor_design().coverage
    assert now.share_at_least(0.5) >= before.share_at_least(0.5) and now.share_at_least(0.7) >= before.share_at_least(0.7)
    assert computed_in and threading.main_thread() not in computed_in

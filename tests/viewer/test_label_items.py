"""The canvas's labels: placed together across layers, none over another; a dropped one shows
while the mouse is over its box."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore


def placed_rects(window) -> dict[str, np.ndarray]:
    """Each visible layer's label rectangles as last painted (device pixels, NaN: dropped)."""
    canvas = window.canvas
    canvas.grab()
    transform = canvas.view.childGroup.sceneTransform() * canvas.viewportTransform()
    screen = QtCore.QRectF(canvas.viewport().rect())
    board = canvas.label_board
    return {name.value: board.rects(items.labels, transform, screen) for name, items in canvas.layer_items.items()
            if items.labels.isVisible() and items.labels.labels()}


def test_labels_of_all_layers_never_overlap_and_ground_truth_comes_first(window, coco_file):
    window.open_paths([coco_file])
    window.set_layer_option("detections", "score_threshold", 0.0)  # an untrained model: many labels
    rects = placed_rects(window)
    assert set(rects) >= {"ground_truth", "detections"}
    assert not np.isnan(rects["ground_truth"]).any()  # the first layer always finds room
    every = np.concatenate([r[~np.isnan(r[:, 0])] for r in rects.values()])
    hit = ((every[:, None, 0] < every[None, :, 2]) & (every[None, :, 0] < every[:, None, 2])
           & (every[:, None, 1] < every[None, :, 3]) & (every[None, :, 1] < every[:, None, 3]))
    assert not hit[~np.eye(len(every), dtype=bool)].any()


def test_a_dropped_label_shows_while_the_mouse_is_over_its_box(window, coco_file):
    window.open_paths([coco_file])
    window.set_layer_option("detections", "score_threshold", 0.0)
    rects = placed_rects(window)["detections"]
    item = window.canvas.layer_items["detections"].labels
    dropped = np.flatnonzero(np.isnan(rects[:, 0]))
    assert len(dropped)
    x1, y1, x2, y2 = item.label_boxes()[dropped[0]]
    window.canvas.label_board.set_hover((x1 + x2) / 2, (y1 + y2) / 2)
    window.canvas.grab()
    assert item.shows_hovered
    window.canvas.label_board.set_hover(-50.0, -50.0)
    window.canvas.grab()
    assert not item.shows_hovered

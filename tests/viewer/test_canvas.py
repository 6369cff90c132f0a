"""frcnn_viewer.canvas: image pixels map to the widget, zoom, 1:1, hover and the panels' widgets."""

from __future__ import annotations

import numpy as np
import pytest

from frcnn_viewer.state.layer_options import AnchorSubset, LayerName


def test_image_pixels_map_to_widget_points_with_y_down(window, image_file):
    window.open_paths([image_file])
    canvas = window.canvas
    top_left, bottom_right = canvas.image_to_widget(0, 0), canvas.image_to_widget(160, 120)
    assert bottom_right.x() > top_left.x() and bottom_right.y() > top_left.y()
    assert canvas.rect().contains(top_left) and canvas.rect().contains(bottom_right)  # fit shows all
    x, y = canvas.widget_to_image(canvas.image_to_widget(40, 30))
    assert x == pytest.approx(40, abs=1) and y == pytest.approx(30, abs=1)
    assert canvas.view.state["autoRange"] == [False, False]


def test_actual_size_and_zoom(window, image_file):
    window.open_paths([image_file])
    canvas = window.canvas
    canvas.zoom_actual_size()
    a, b = canvas.image_to_widget(10, 10), canvas.image_to_widget(110, 60)
    assert b.x() - a.x() == pytest.approx(100, abs=1) and b.y() - a.y() == pytest.approx(50, abs=1)
    canvas.zoom(2.0)
    a, b = canvas.image_to_widget(10, 10), canvas.image_to_widget(110, 10)
    assert b.x() - a.x() == pytest.approx(200, abs=2)


def test_hover_over_a_positive_anchor_highlights_it_and_its_gt(window, qtbot, coco_file):
    window.open_paths([coco_file])
    window.set_layer_visible("anchor_labels", True)
    state = window.document.anchor_state
    positive = int(np.nonzero(state.labels == 1)[0][0])
    x1, y1, x2, y2 = state.anchors[positive]
    point = window.canvas.image_to_widget((x1 + x2) / 2, (y1 + y2) / 2)
    qtbot.mouseMove(window.canvas.viewport(), point)
    qtbot.waitUntil(lambda: len(window.canvas.hover_item.boxes()) == 2, timeout=3000)
    assert "positive anchor" in window.statusBar().currentMessage()


def test_layer_panel_follows_and_drives_the_layers(window, image_file):
    window.open_paths([image_file])
    box = window.layer_panel.boxes["anchors"]
    window.set_layer_visible("anchors", True)
    assert box.isChecked()
    box.setChecked(False)
    assert not window.document.layers["anchors"].visible
    box.opacity.setValue(30)
    assert window.document.layers["anchors"].opacity == pytest.approx(0.3)
    assert all(item.opacity() == pytest.approx(0.3) for item in window.canvas.layer_items["anchors"].items())
    proposals = window.layer_panel.boxes["proposals"]
    proposals.sliders["top_k"].setValue(20)
    assert window.document.layers["proposals"].options.top_k == 20
    threshold = window.layer_panel.boxes["detections"].options["score_threshold"]
    threshold.setValue(25)
    assert window.document.layers["detections"].options.score_threshold == pytest.approx(0.25)
    assert window.document.counts()["shown_detections"] == len(window.document.shown_detections())
    assert "Display threshold" in threshold.toolTip() and "score_thresh" in threshold.toolTip()  # which threshold it is
    subset = window.layer_panel.boxes[LayerName.ANCHORS].options["subset"]
    subset.setCurrentIndex(subset.findText("All anchors"))
    assert window.document.layers["anchors"].options.subset is AnchorSubset.ALL
    window.set_layer_option("anchors", "subset", "cell")  # from code: the panel follows
    assert subset.currentText() == "One feature cell (click the image)"


def test_colour_change_redraws_the_layer(window, coco_file):
    window.open_paths([coco_file])
    window.document.layers["ground_truth"].set_colour((10, 20, 30))
    item = window.canvas.layer_items["ground_truth"].boxes["gt"]
    assert item.colour() == (10, 20, 30, 255)

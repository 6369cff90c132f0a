"""The real window, offscreen: open images, toggle every layer, click, change parameters, export."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PySide6 import QtCore

from frcnn_core.files.export import read_rich_results
from frcnn_viewer import LAYER_NAMES
from frcnn_viewer.panels.provenance_panel import describe
from frcnn_viewer.state.image_list import COLUMNS, Column

from .conftest import BOXES


def canvas_pixels(window) -> np.ndarray:
    """The canvas as it is drawn, ``[H, W, 3]`` uint8."""
    image = window.canvas.grab().toImage().convertToFormat(window.canvas.grab().toImage().Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def colour_near(pixels: np.ndarray, point: QtCore.QPoint, colour, radius: int = 2) -> bool:
    """Whether ``colour`` appears within ``radius`` pixels of ``point``."""
    x, y = point.x(), point.y()
    patch = pixels[max(y - radius, 0): y + radius + 1, max(x - radius, 0): x + radius + 1].reshape(-1, 3)
    return bool((np.abs(patch.astype(int) - colour).max(axis=1) <= 8).any())


def hide_all(window) -> None:
    for name in LAYER_NAMES:
        window.set_layer_visible(name, False)


def drawn_boxes(window, layer: str) -> dict[str, np.ndarray]:
    """The boxes each visible box item of ``layer`` holds, by group key."""
    items = window.canvas.layer_items[layer]
    return {key: item.boxes() for key, item in items.boxes.items() if item.isVisible()}


def test_open_plain_image_shows_it_with_the_untrained_banner(window, image_file):
    assert window.open_paths([image_file]) == 1
    doc = window.document
    assert doc.image.size == (120, 160) and not doc.image.annotated
    assert window.banner.isVisible() and "Untrained" in window.banner.text()
    shown = window.canvas.image_item.image
    assert shown.dtype == np.uint8 and shown.shape == (120, 160, 3) and shown.flags["C_CONTIGUOUS"]
    assert doc.trace is not None and doc.trace.image_size == (120, 160)
    assert window.client.worker.thread() is not QtCore.QThread.currentThread()  # inference off the GUI thread


def test_each_layer_draws_its_items_and_pixels(window, coco_file):
    assert window.open_paths([coco_file]) == 2
    doc = window.document
    window.set_layer_option("detections", "score_threshold", 0.0)
    window.set_layer_option("anchor_labels", "show_ignored", True)
    hide_all(window)
    blank = canvas_pixels(window)
    state, trace = doc.anchor_state, doc.trace
    expected = {
        "ground_truth": {"gt": len(BOXES)},
        "anchors": {"anchors": int(state.inside.sum())},
        "anchor_labels": {"positive": int((state.labels == 1).sum()), "negative": int((state.labels == 0).sum()), "ignored": int((state.labels == -1).sum())},
        "roi_samples": {"foreground": int((trace.roi_labels > 0).sum()), "background": int((trace.roi_labels == 0).sum())},
    }
    for name in LAYER_NAMES:
        window.set_layer_visible(name, True)
        pixels = canvas_pixels(window)
        changed = (np.abs(pixels.astype(int) - blank).max(axis=2) > 0).sum()
        assert changed > 100, f"{name} drew nothing"
        if name in expected:
            counts = {key: len(boxes) for key, boxes in drawn_boxes(window, name).items() if key in expected[name]}
            assert counts == expected[name], name
        window.set_layer_visible(name, False)
        assert not any(item.isVisible() for item in window.canvas.layer_items[name].items()), name
        np.testing.assert_array_equal(canvas_pixels(window), blank)
    # detections: every detection at threshold 0 is drawn, in one item per state
    window.set_layer_visible("detections", True)
    assert sum(len(b) for b in drawn_boxes(window, "detections").values() if len(b)) >= len(trace.detections)
    # proposals: top-K after NMS, coloured in objectness bins
    window.set_layer_visible("proposals", True)
    window.set_layer_option("proposals", "top_k", 7)
    assert sum(len(b) for b in drawn_boxes(window, "proposals").values()) == min(7, len(trace.proposals))
    window.set_layer_option("proposals", "stage", "pre_nms")
    window.set_layer_option("proposals", "top_k", 100_000)
    assert sum(len(b) for b in drawn_boxes(window, "proposals").values()) == len(trace.pre_nms_boxes)
    # objectness: a heatmap of the feature grid
    window.set_layer_visible("objectness", True)
    assert window.canvas.layer_items["objectness"].heatmap.image.shape == (*trace.feature_size, 4)


def test_ground_truth_is_drawn_where_the_boxes_are(window, coco_file):
    window.open_paths([coco_file])
    hide_all(window)
    window.set_layer_option("ground_truth", "show_names", False)
    window.set_layer_visible("ground_truth", True)
    pixels = canvas_pixels(window)
    colour = window.document.layers["ground_truth"].colour
    x1, y1, x2, y2 = BOXES[0]  # an anchor covers it, so it is not drawn in the "uncovered" colour
    assert colour_near(pixels, window.canvas.image_to_widget(x1, (y1 + y2) / 2), colour)
    assert colour_near(pixels, window.canvas.image_to_widget((x1 + x2) / 2, y2), colour)
    assert not colour_near(pixels, window.canvas.image_to_widget((x1 + x2) / 2, (y1 + y2) / 2), colour)
    window.document.layers["ground_truth"].set_opacity(0.0)
    assert not colour_near(canvas_pixels(window), window.canvas.image_to_widget(x1, (y1 + y2) / 2), colour)


def test_clicking_the_image_picks_a_feature_cell_and_its_anchors(window, qtbot, coco_file):
    window.open_paths([coco_file])
    hide_all(window)
    window.set_layer_visible("anchors", True)
    window.set_layer_option("anchors", "subset", "cell")
    x, y = 100.0, 60.0
    qtbot.mouseClick(window.canvas.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=window.canvas.image_to_widget(x, y))
    state = window.document.anchor_state
    assert window.document.selected_cell == state.geometry.cell_at(x, y)
    boxes = drawn_boxes(window, "anchors")
    assert len(boxes["anchors"]) == state.geometry.num_anchors_per_cell
    x1, y1, x2, y2 = state.geometry.cell_rect(*window.document.selected_cell)
    np.testing.assert_allclose((boxes["anchors"][:, :2] + boxes["anchors"][:, 2:]) / 2, [[(x1 + x2) / 2, (y1 + y2) / 2]] * len(boxes["anchors"]), atol=1e-3)
    np.testing.assert_allclose(boxes["cell"], [[x1, y1, x2, y2]])
    assert len(window.canvas.layer_items["anchors"].segments["grid"].xData) > 0  # the feature grid


def test_changing_a_parameter_relabels_counts_and_drawing(window, coco_file):
    window.open_paths([coco_file])
    window.set_layer_visible("anchor_labels", True)
    window.set_layer_option("anchor_labels", "sampled", False)
    positives_before = window.counts()["candidate_positive"]
    window.parameter_panel.widgets["rpn_positives_per_gt"].setValue(window.document.parameters.rpn_positives_per_gt + 8)
    assert window.counts()["candidate_positive"] > positives_before
    before, scales_before = window.counts(), len(window.document.parameters.anchor_scales)
    box = window.parameter_panel.widgets["rpn_pos_iou"]
    box.setValue(0.3)
    after = window.counts()
    assert not window.busy  # relabelling needs no model run
    assert window.document.parameters.rpn_pos_iou == pytest.approx(0.3)
    assert after["candidate_positive"] > before["candidate_positive"]
    assert len(drawn_boxes(window, "anchor_labels")["positive"]) == after["candidate_positive"]
    assert window.stats_panel.values["candidate_positive"].text() == str(after["candidate_positive"])
    assert f"anchors {after['anchors']}" in window.summary_label.text()
    scales = window.parameter_panel.widgets["anchor_scales"]
    scales.setText("1, 2")
    scales.editingFinished.emit()
    assert window.document.parameters.anchor_scales == (1.0, 2.0)
    assert window.counts()["anchors"] == before["anchors"] // scales_before * 2
    scales.setText("big")
    scales.editingFinished.emit()
    assert window.document.parameters.anchor_scales == (1.0, 2.0)  # unchanged, and said why
    assert "not applied" in window.document.messages[-1].text
    assert scales.text() == "1, 2"


def test_proposal_parameters_rerun_the_model(window, coco_file):
    window.open_paths([coco_file])
    assert window.set_parameters(rpn_post_nms_top_n_test=5)
    window.wait_until_idle()
    assert window.counts()["proposals"] <= 5
    assert window.document.trace.proposals.shape[0] <= 5
    # the model tells the window what changed and what that re-ran (a parameter edit reached it)
    before = window.document.model.config.rpn_post_nms_top_n_test
    assert any(m.text == f"model settings: rpn_post_nms_top_n_test {before} -> 5 (re-runs proposals, roi samples, losses, head, detections)"
               for m in window.document.messages)
    window.set_parameters(score_thresh=0.5)
    window.wait_until_idle()
    assert window.document.messages[-1].text == "model settings: score_thresh 0.05 -> 0.5 (re-runs detections)"
    assert bool((window.document.trace.detections.scores >= 0.5).all())


def test_each_score_threshold_says_which_it_is(window):
    """Four thresholds, four names: the model's (Parameters), the display's (Detections layer),
    the diagnosis' operating point and the suggestions' offer; each control's tooltip says which."""
    model = window.parameter_panel.widgets["score_thresh"]
    display = window.layer_panel.boxes["detections"].options["score_threshold"]
    operating = window.diagnosis_panel.score
    offer = window.annotation.panel.min_score
    assert model.toolTip().startswith("the model's own threshold") and "score_thresh" in model.toolTip()
    assert display.toolTip().startswith("Display threshold") and operating.toolTip().startswith("Operating score")
    assert offer.toolTip().startswith("Offer score (min_score)")
    for tip in (display.toolTip(), operating.toolTip(), offer.toolTip()):
        assert "Model score threshold" in tip  # each says it is not the model's


def test_clicking_a_detection_shows_its_provenance(window, qtbot, coco_file):
    window.open_paths([coco_file])
    window.set_layer_option("detections", "score_threshold", 0.0)
    doc = window.document
    box = doc.trace.detections.boxes[0].tolist()
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    qtbot.mouseClick(window.canvas.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=window.canvas.image_to_widget(x, y))
    chosen = doc.selected_detection
    assert chosen is not None
    provenance = doc.provenance()
    trace = doc.trace
    assert provenance.proposal == int(trace.detections.proposal_index[chosen])
    assert provenance.anchor == int(trace.proposal_anchor_index[provenance.proposal])
    heights = window.provenance_panel.bars.opts["height"]
    assert len(heights) == len(doc.model.config.class_names) + 1 and sum(heights) == pytest.approx(1.0, abs=1e-4)
    assert "from anchor" in window.provenance_panel.text.text()
    assert set(drawn_boxes(window, "detections")) >= {"selected", "source_proposal", "source_anchor"}
    # a model that votes says so: its box is no longer the proposal moved by the deltas alone
    assert "box voting" not in describe(dataclasses.replace(provenance, box_vote_iou=0.0))
    assert "box voting: the mean of its class's boxes of IoU ≥ 0.8" in describe(dataclasses.replace(provenance, box_vote_iou=0.8))


def test_export_current_and_all_in_both_schemas(window, coco_file, tmp_path):
    window.open_paths([coco_file])
    trace = window.document.trace
    path = window.export_detections(tmp_path / "one.json")
    rows = json.loads(path.read_text())
    assert len(rows) == len(trace.detections)
    assert {r["image_id"] for r in rows} == {100} and {r["category_id"] for r in rows} <= {7, 9}
    x, y, w, h = rows[0]["bbox"]
    np.testing.assert_allclose([x, y, x + w, y + h], trace.detections.boxes[0].tolist(), atol=0.011)  # 2 decimals
    rows = json.loads(window.export_detections(tmp_path / "all.json", scope="all").read_text())
    assert {r["image_id"] for r in rows} == {100, 101}
    rich = read_rich_results(window.export_detections(tmp_path / "rich.json", scope="all", format="rich"))
    assert [image["image_id"] for image in rich["images"]] == [100, 101]
    assert rich["class_names"] == ["red", "blue"] and rich["model"]["checkpoint"] is None
    assert sum(len(image["detections"]) for image in rich["images"]) == len(rows)
    assert window.export_detections(tmp_path / "x.json", format="yaml") is None


def test_export_view_writes_a_png(window, image_file, tmp_path):
    window.open_paths([image_file])
    path = window.export_view(tmp_path / "view.png")
    from PIL import Image

    with Image.open(path) as im:
        assert im.size == (window.canvas.width(), window.canvas.height())


def test_next_and_previous_image_with_keys(window, qtbot, coco_file):
    window.open_paths([coco_file])
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=5000)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Right)
    assert window.document.index == 1
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Left)
    assert window.document.index == 0
    window.wait_until_idle()


def test_sort_by_errors_runs_the_model_on_every_image(window, coco_file):
    window.open_paths([coco_file])
    window.analyse_all(wait=True)
    assert set(window.document.results) == {0, 1}
    window.image_list.sort_by(Column.MISSED, descending=True)
    model = window.image_list.model
    assert model.rowCount() == 2
    rows = [model.index(row, 0).data(model.ENTRY_ROLE) for row in range(2)]
    assert rows == window.document.ranked("missed")
    missed = COLUMNS.index(Column.MISSED)
    assert [model.index(row, missed).data() for row in range(2)] == [str(window.document.results[i].errors(0.5)["missed"]) for i in rows]


def test_settings_remember_recent_files_and_layers(qtbot, settings, image_file):
    from frcnn_viewer import MainWindow

    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.open_paths([image_file])
    first.set_layer_visible("objectness", True)
    first.close()
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    assert str(image_file) in second.settings.recent_files()
    assert second.document.layers["objectness"].visible
    second.wait_until_idle()
    second.close()


def test_drop_files_onto_the_window_opens_them(window, voc_dir, image_file):
    from PySide6 import QtGui

    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(voc_dir)), QtCore.QUrl.fromLocalFile(str(image_file))])
    event = QtGui.QDropEvent(QtCore.QPointF(50, 50), QtCore.Qt.DropAction.CopyAction, mime,
                             QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    window.wait_until_idle()
    assert [e.name for e in window.document.entries] == ["a.png", "plain.png"]
    assert window.document.image.difficult.tolist() == [False, True]
    assert set(window.document.class_names) == {"red", "blue"}

"""A torchvision Faster R-CNN in the real window, offscreen: loaded from its bare state_dict (a
tiny random-init MobileNetV3 FPN), every layer drawn, the level choice, the architecture in the
status bar, class names from the open images, its settings in the parameter panel, the
diagnosis, suggestions and drag and drop."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui

from frcnn_viewer import LAYER_NAMES

ARCH = "fasterrcnn_mobilenet_v3_large_320_fpn"


@pytest.fixture
def loaded(window, coco_file, state_dict_file):
    assert window.open_paths([coco_file]) == 2
    assert window.load_checkpoint(state_dict_file, arch=ARCH)
    window.set_parameters(min_size=96, max_size=128)  # a small input: fast on a CPU
    assert window.wait_until_idle(60_000)
    return window


def texts(window) -> list[str]:
    return [m.text for m in window.document.messages]


def test_it_loads_named_from_the_open_images_with_its_architecture_shown(loaded, state_dict_file):
    doc = loaded.document
    assert doc.model.arch == ARCH and doc.model.checkpoint == str(state_dict_file)
    assert ARCH in loaded.architecture_label.text() and not loaded.banner_row.isVisible()
    assert doc.model.config.class_names == ("red", "blue")
    assert any("open images' (red, blue)" in text for text in texts(loaded))
    assert doc.trace is not None and [level.name for level in doc.trace.levels] == ["0", "1", "pool"]
    assert doc.trace.input_size == (96, 128)


def test_every_layer_draws_and_the_level_choice_lists_its_levels(loaded):
    for name in LAYER_NAMES:
        loaded.set_layer_visible(name, True)
    loaded.set_layer_option("anchors", "subset", "all")
    loaded.wait_until_idle()
    items = loaded.canvas.layer_items
    trace = loaded.document.trace
    assert len(items["anchors"].boxes["anchors"].boxes()) == len(trace.anchors)
    assert len(items["proposals"].boxes["objectness_4"].boxes()) + sum(
        len(items["proposals"].boxes[f"objectness_{b}"].boxes()) for b in range(4)
    ) == min(50, len(trace.proposals))
    assert items["objectness"].heatmap.image is not None
    box = loaded.layer_panel.boxes["anchors"]
    combo = box.options["level"]
    assert box.choices["level"] == ("all", "0", "1", "pool") and combo.count() == 4 and combo.itemText(3) == "pool (stride 64)"
    combo.setCurrentIndex(3)  # the user picks "pool"
    assert loaded.document.layers["anchors"].options.level == "pool"
    assert len(items["anchors"].boxes["anchors"].boxes()) == trace.levels[2].num_anchors


def test_the_parameter_panel_greys_out_its_fixed_anchors_and_changes_the_rest(loaded):
    widgets = loaded.parameter_panel.widgets
    assert not widgets["anchor_scales"].isEnabled() and not widgets["anchor_stride"].isEnabled()
    assert widgets["rpn_pos_iou"].isEnabled() and widgets["min_size"].isEnabled() and widgets["rpn_score_thresh"].isEnabled()
    assert widgets["min_size"].value() == 96
    widgets["rpn_post_nms_top_n_test"].setValue(7)
    assert loaded.wait_until_idle(60_000)
    assert loaded.document.parameters.rpn_post_nms_top_n_test == 7 and len(loaded.document.trace.proposals) <= 7


def test_diagnosis_analyse_all_and_suggestions_work_on_it(loaded):
    report = loaded.diagnose(wait=True, score_threshold=0.0)
    assert report is not None and len(loaded.document.results) == 2
    assert {row["image_id"] for row in report["gt"]} == {100, 101} and len(report["gt"]) == 4  # every GT box judged
    assert sum(report["summary"]["gt"].values()) == 4
    loaded.set_mode("annotate")
    loaded.wait_until_idle()
    detections = len(loaded.document.trace.detections)
    assert detections and loaded.accept_suggestions(min_score=0.0) > 0  # a random model's scores are about 1/3


def test_a_file_without_names_takes_the_classes_of_images_opened_after_it(window, coco_file, state_dict_file):
    assert window.load_checkpoint(state_dict_file, arch=ARCH)
    assert window.document.model.config.class_names == () and "class 1..2" in texts(window)[-1]
    assert window.open_paths([coco_file]) == 2
    assert window.wait_until_idle(60_000)
    assert window.document.model.config.class_names == ("red", "blue") and window.document.model.checkpoint == str(state_dict_file)
    assert not any("differs from the open images" in text for text in texts(window))


def test_a_dropped_checkpoint_is_loaded_as_the_model(window, state_dict_file, qtbot):
    data = QtCore.QMimeData()
    data.setUrls([QtCore.QUrl.fromLocalFile(str(state_dict_file))])
    event = QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.DropAction.CopyAction, data,
                             QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.document.model is not None and window.document.model.arch is not None, timeout=60_000)
    assert window.wait_until_idle(60_000)
    assert "fasterrcnn_mobilenet_v3_large" in window.architecture_label.text()
    # the file cannot tell MobileNetV3 at 800 px from 320 px: the message says which was assumed
    assert any("assum" in text for text in texts(window))

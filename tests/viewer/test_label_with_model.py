"""Labelling with the model in the real window, offscreen: suggestions from a trace with known
detections (built directly: no training), accepted, rejected and saved through the scripting
methods and the keys; copy and paste; the next unlabelled image; the class list file."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6 import QtCore

from frcnn_core import Detections, FasterRCNN, cpu_config
from frcnn_core.annotations import read_voc_xml
from frcnn_viewer.annotation.model.class_file import CLASS_FILE
from frcnn_viewer.state.models import ModelInfo
from frcnn_viewer.state.results import ImageResult, detection_uncertainty

from .conftest import BOXES

Key = QtCore.Qt.Key
Mod = QtCore.Qt.KeyboardModifier
LEFT = QtCore.Qt.MouseButton.LeftButton
CLASSES = ("red", "blue")
# Three detections on the conftest image: the red square (0.9), the blue bar (0.7), and a
# low-score red box in the empty corner (0.3).
DETECTED = [BOXES[0], BOXES[1], [2.0, 80.0, 18.0, 110.0]]
DETECTED_LABELS = [1, 2, 1]
DETECTED_SCORES = [0.9, 0.7, 0.3]


def give_trace(window, boxes=DETECTED, labels=DETECTED_LABELS, scores=DETECTED_SCORES) -> None:
    """Make the viewer's model count as trained and show a trace of the current image whose
    detections are ``boxes``/``labels``/``scores`` (the rest of the trace is a real one)."""
    doc = window.document
    config = cpu_config(len(CLASSES), CLASSES, min_size=64, max_size=96)
    if doc.model is None or not doc.model.trained:
        doc.set_model(ModelInfo(config, "trained.pt"))
        assert window.wait_until_idle(60_000)
    torch.manual_seed(0)
    trace = FasterRCNN(config).eval().trace(doc.image.tensor)
    scores = torch.tensor(scores, dtype=torch.float32)
    labels = torch.tensor(labels)
    class_scores = torch.zeros(len(labels), len(CLASSES) + 1)
    class_scores[torch.arange(len(labels)), labels] = scores
    class_scores[:, 0] = 1 - scores
    trace.detections = Detections(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), scores, labels, class_scores,
                                  torch.zeros(len(labels), dtype=torch.int64), torch.zeros(len(labels), 4))
    assert doc.show_trace(doc.index, trace, doc.image)


@pytest.fixture
def labelling(window, qtbot, folder):
    """The window annotating ``folder`` (two images), classes red and blue, the model's detections
    on the first image as suggestions; active so its shortcuts fire."""
    assert window.open_paths([folder]) == 2
    window.set_mode("annotate")
    window.current_class = "red"
    window.current_class = "blue"
    assert window.wait_until_idle(60_000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    give_trace(window)
    return window


def boxes_of(window) -> np.ndarray:
    return np.array([b.box for b in window.annotation.session.boxes]).reshape(-1, 4)


def click(qtbot, window, point, double: bool = False) -> None:
    position = window.canvas.image_to_widget(*point)
    viewport = window.canvas.viewport()
    if double:
        qtbot.mouseDClick(viewport, LEFT, pos=position)
    else:
        qtbot.mouseClick(viewport, LEFT, pos=position)


def centre(box) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def test_accept_all_above_half_then_save_writes_exactly_those_boxes_and_undo_removes_them(labelling, folder):
    window = labelling
    shown = window.suggestions()
    assert shown["labels"] == ["red", "blue"]  # the 0.3 box is below the slider (0.5)
    np.testing.assert_allclose(shown["scores"], [0.9, 0.7], atol=1e-6)
    window.annotation.set_min_score(0.2)
    assert len(window.suggestions()["labels"]) == 3  # the slider shows it live

    assert window.accept_suggestions(min_score=0.5) == 2
    np.testing.assert_allclose(boxes_of(window), DETECTED[:2], atol=1e-4)
    assert window.suggestions()["labels"] == ["red"] and window.suggestions()["scores"][0] == pytest.approx(0.3)
    path = window.save_annotations()
    saved = read_voc_xml(path)
    assert [b.label for b in saved.boxes] == ["red", "blue"]
    np.testing.assert_allclose([b.box for b in saved.boxes], DETECTED[:2], atol=1.0)  # the writer rounds to whole pixels

    window.annotation.undo()  # one step for the whole accept-all
    assert len(boxes_of(window)) == 0
    assert len(window.suggestions()["labels"]) == 3  # they are suggestions again
    window.annotation.redo()
    assert len(boxes_of(window)) == 2


def test_reject_hides_one_and_undo_brings_it_back(labelling):
    window = labelling
    assert window.reject_suggestion(1)  # the blue bar
    assert window.suggestions()["labels"] == ["red"]
    assert not window.annotation.dirty  # rejecting changes no box
    window.annotation.undo()
    assert window.suggestions()["labels"] == ["red", "blue"]


def test_a_box_drawn_over_a_suggestion_of_its_class_hides_it(labelling, qtbot):
    window = labelling
    window.current_class = "red"
    x1, y1, x2, y2 = BOXES[0]
    viewport, canvas = window.canvas.viewport(), window.canvas
    qtbot.keyClick(window, Key.Key_W)  # arm drawing: the drag starts on the suggestion
    qtbot.mousePress(viewport, LEFT, pos=canvas.image_to_widget(x1 + 2, y1 + 2))
    for t in (0.3, 0.6, 1.0):
        qtbot.mouseMove(viewport, pos=canvas.image_to_widget(x1 + 2 + t * (x2 - x1 - 6), y1 + 2 + t * (y2 - y1 - 6)))
    qtbot.mouseRelease(viewport, LEFT, pos=canvas.image_to_widget(x2 - 4, y2 - 4))
    assert len(boxes_of(window)) == 1
    assert window.suggestions()["labels"] == ["blue"]  # IoU >= 0.5 with a red box: hidden
    window.annotation.choose_class("blue")  # relabel: a blue box does not hide the red suggestion
    assert window.suggestions()["labels"] == ["red", "blue"]


def test_keys_enter_delete_shift_enter_copy_paste(labelling, qtbot):
    window = labelling
    click(qtbot, window, centre(BOXES[1]))  # select the blue suggestion
    assert window.annotation.model.selected_suggestion == 1
    qtbot.keyClick(window, Key.Key_Delete)  # reject it
    assert window.suggestions()["labels"] == ["red"]
    click(qtbot, window, centre(BOXES[0]))
    qtbot.keyClick(window, Key.Key_Return)  # accept the red one
    assert [b.label for b in window.annotation.session.boxes] == ["red"]
    qtbot.keyClick(window, Key.Key_Z, Mod.ControlModifier)
    qtbot.keyClick(window, Key.Key_Z, Mod.ControlModifier)  # and the rejection
    assert len(boxes_of(window)) == 0 and window.suggestions()["labels"] == ["red", "blue"]
    window.annotation.set_min_score(0.8)
    qtbot.keyClick(window, Key.Key_Return, Mod.ShiftModifier)  # accept all shown: the red one only
    assert [b.label for b in window.annotation.session.boxes] == ["red"]

    qtbot.keyClick(window, Key.Key_Escape)
    qtbot.keyClick(window, Key.Key_C, Mod.ControlModifier)  # nothing selected: copies every box
    qtbot.keyClick(window, Key.Key_V, Mod.ControlModifier)
    np.testing.assert_allclose(boxes_of(window), [DETECTED[0], DETECTED[0]], atol=1e-4)
    qtbot.keyClick(window, Key.Key_Z, Mod.ControlModifier)  # a paste is one step
    assert len(boxes_of(window)) == 1


def test_double_click_accepts_and_hover_tells_the_provenance(labelling, qtbot):
    window = labelling
    model = window.annotation.model
    assert model.hover_note(*centre(BOXES[1])).startswith("suggestion: blue 0.70")
    click(qtbot, window, centre(BOXES[1]), double=True)
    assert [b.label for b in window.annotation.session.boxes] == ["blue"]
    # a box the model did not detect: the stage that lost it
    window.annotation.set_min_score(0.95)
    assert model.hover_note(*centre(BOXES[1])).startswith("the model lost this box: ")


def test_copy_the_previous_images_boxes(labelling, qtbot):
    window = labelling
    window.accept_suggestions(0.5)
    window.save_annotations()
    window.annotation.unsaved_policy = "save"
    assert window.next_image()
    assert len(boxes_of(window)) == 0
    qtbot.keyClick(window, Key.Key_V, Mod.ControlModifier | Mod.ShiftModifier)
    assert [b.label for b in window.annotation.session.boxes] == ["red", "blue"]
    np.testing.assert_allclose(boxes_of(window), DETECTED[:2], atol=1.0)


def test_next_unlabelled_follows_the_uncertainty_among_images_without_a_file(window, qtbot, tmp_path):
    from PIL import Image

    from .conftest import draw_image

    folder = tmp_path / "many"
    folder.mkdir()
    for k in range(4):
        Image.fromarray(draw_image(seed=k)).save(folder / f"im{k}.png")
    assert window.open_paths([folder]) == 4
    window.set_mode("annotate")
    doc = window.document
    window.sort_images("uncertainty")  # runs "analyse all" in the worker
    assert window.wait_until_idle(60_000)
    assert len(doc.results) == 4  # each with the uncertainty the worker computed
    assert all(r.uncertainty == detection_uncertainty(r.detections.class_scores) for r in doc.results.values())
    assert max(r.uncertainty for r in doc.results.values()) > 0
    none = Detections(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.int64), torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64), torch.zeros(0, 4))
    doc.set_results(doc.results_key, {i: ImageResult(none, (1.0, 1.0), None, uncertainty=u) for i, u in enumerate((0.1, 0.5, 1.2, 0.8))})
    assert doc.ranked("uncertainty") == [2, 3, 1, 0]
    assert [row[0] for row in window.annotation.model.image_rows(False, window.annotation.model.labelling_order())] == [2, 3, 1, 0]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Key.Key_N)
    assert doc.index == 2
    window.annotation.save()  # an image without objects, saved, counts as labelled
    assert window.next_unlabelled() and doc.index == 3
    (folder / "im1.xml").write_text((folder / "im2.xml").read_text())
    assert window.next_unlabelled() and doc.index == 0  # im1 has a file now: skipped
    window.annotation.save()
    assert window.next_unlabelled() and doc.index == 3  # the current one is never "next"
    window.annotation.save()
    assert not window.next_unlabelled()


def test_the_class_list_is_kept_in_the_folders_classes_txt(window, settings, qtbot, folder):
    assert window.open_paths([folder]) == 2
    window.set_mode("annotate")
    window.current_class = "zebra"
    window.current_class = "ant"
    assert (folder / CLASS_FILE).read_text() == "zebra\nant\n"
    window.annotation.rename_class("ant", "bee")
    assert (folder / CLASS_FILE).read_text() == "zebra\nbee\n"

    from frcnn_viewer import MainWindow

    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert again.wait_until_idle(60_000)
    again.set_mode("annotate")
    assert again.open_paths([folder]) == 2
    assert again.annotation.classes.names[:2] == ["zebra", "bee"]  # read back, in order
    again.close()


def test_retrain_trains_on_the_labelled_folder(labelling, monkeypatch, folder):
    window = labelling
    asked = {}
    monkeypatch.setattr(window.training, "start", lambda **keywords: asked.update(keywords) or True)
    assert not window.annotation.retrain()  # one image labelled is not enough
    window.accept_suggestions(0.5)
    window.save_annotations()
    window.annotation.unsaved_policy = "save"
    window.next_image()
    window.annotation.paste_previous()
    assert window.annotation.retrain()  # unsaved changes are saved first
    assert (folder / "im1.xml").exists()
    assert asked["data"] == str(folder) and asked["val_fraction"] == pytest.approx(0.2)
    assert asked["class_names"] == ("red", "blue") and not window.training.follow

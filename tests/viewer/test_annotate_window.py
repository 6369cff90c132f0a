"""Annotation mode in the real window, offscreen: mouse drags at ``canvas.image_to_widget``
positions on the view's viewport, keys through the window's shortcuts, files on disk."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from frcnn_core.annotations import read_voc_xml

from .conftest import BOXES

Key = QtCore.Qt.Key
Mod = QtCore.Qt.KeyboardModifier
LEFT = QtCore.Qt.MouseButton.LeftButton


@pytest.fixture
def annotating(window, qtbot, folder):
    """The window in annotation mode on ``folder``, active so its shortcuts fire."""
    assert window.open_paths([folder]) == 2
    window.set_mode("annotate")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return window


def drag(qtbot, window, start, end, steps: int = 4) -> None:
    """Press at image point ``start``, move in ``steps`` to ``end`` and release there."""
    canvas = window.canvas
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, LEFT, pos=canvas.image_to_widget(*start))
    for t in np.linspace(0, 1, steps + 1)[1:]:
        qtbot.mouseMove(viewport, pos=canvas.image_to_widget(start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])))
    qtbot.mouseRelease(viewport, LEFT, pos=canvas.image_to_widget(*end))


def boxes_of(window) -> np.ndarray:
    return np.array([b.box for b in window.annotation.session.boxes]).reshape(-1, 4)


def labels_of(window) -> list[str]:
    return [b.label for b in window.annotation.session.boxes]


TOLERANCE = 0.5  # image pixels lost to the integer widget positions of the mouse


def test_draw_move_resize_relabel_delete_undo_redo_save_and_reopen(annotating, qtbot, folder, settings):
    window = annotating
    window.current_class = "blue"
    window.current_class = "red"  # new boxes are red; the class list is blue (key 1), red (key 2)
    assert window.annotation.classes.names == ["blue", "red"]
    blue = 1

    drag(qtbot, window, (20, 16), (76, 72))  # draw
    np.testing.assert_allclose(boxes_of(window), [BOXES[0]], atol=TOLERANCE)
    assert labels_of(window) == ["red"]
    np.testing.assert_allclose(window.document.image.gt_boxes, boxes_of(window), atol=1e-4)  # the document's GT follows
    assert window.windowTitle().startswith("*")

    drag(qtbot, window, (48, 44), (58, 54))  # move by (10, 10) from inside
    np.testing.assert_allclose(boxes_of(window), [[30, 26, 86, 82]], atol=2 * TOLERANCE)
    x1, y1, x2, y2 = boxes_of(window)[0]
    drag(qtbot, window, (x2, y2), (96, 90))  # resize by the bottom-right corner
    drag(qtbot, window, (x1, (y1 + 90) / 2), (25, (y1 + 90) / 2))  # and by the left edge
    np.testing.assert_allclose(boxes_of(window), [[25, y1, 96, 90]], atol=TOLERANCE)

    qtbot.keyClick(window, Key(Key.Key_0 + blue))  # relabel with the number key
    assert labels_of(window) == ["blue"] and window.current_class == "blue"
    before = boxes_of(window)[0]
    qtbot.keyClick(window, Key.Key_Right)  # nudge one image pixel
    qtbot.keyClick(window, Key.Key_Down, Mod.ShiftModifier)  # and ten down
    np.testing.assert_allclose(boxes_of(window)[0], before + (1, 10, 1, 10), atol=1e-9)

    qtbot.keyClick(window, Key.Key_Delete)
    assert len(boxes_of(window)) == 0 and len(window.document.image.gt_boxes) == 0
    qtbot.keyClick(window, Key.Key_Z, Mod.ControlModifier)  # undo the delete
    np.testing.assert_allclose(boxes_of(window)[0], before + (1, 10, 1, 10))
    qtbot.keyClick(window, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)  # redo it
    assert len(boxes_of(window)) == 0
    qtbot.keyClick(window, Key.Key_Z, Mod.ControlModifier)
    qtbot.keyClick(window, Key.Key_Z, Mod.ControlModifier)  # the two nudges were one step
    np.testing.assert_allclose(boxes_of(window)[0], before)
    qtbot.keyClick(window, Key.Key_Z, Mod.ControlModifier)
    assert labels_of(window) == ["red"]
    qtbot.keyClick(window, Key.Key_Y, Mod.ControlModifier)
    assert labels_of(window) == ["blue"]

    qtbot.keyClick(window, Key.Key_D, Mod.ControlModifier)  # duplicate, shifted inside the image
    assert len(boxes_of(window)) == 2 and labels_of(window) == ["blue", "blue"]
    window.current_class = "red"
    drag(qtbot, window, (112, 4), (150, 30))  # beside both boxes
    expected = boxes_of(window).copy()
    assert labels_of(window) == ["blue", "blue", "red"]

    path = window.save_annotations()
    assert path == folder / "im0.xml" and not window.windowTitle().startswith("*")
    saved = read_voc_xml(path)
    assert saved.labels() == ["blue", "blue", "red"] and (saved.width, saved.height) == (160, 120)
    np.testing.assert_allclose([b.box for b in saved.boxes], expected, atol=0.5)  # rounded only when writing

    from frcnn_viewer import MainWindow

    again = MainWindow(settings=settings)  # reopen: the folder is now a labelImg dataset
    qtbot.addWidget(again)
    assert again.open_paths([folder]) == 1
    np.testing.assert_allclose(again.document.image.gt_boxes, [b.box for b in saved.boxes])
    assert again.document.image.gt_names == ["blue", "blue", "red"]
    again.set_mode("annotate")
    np.testing.assert_allclose(boxes_of(again), [b.box for b in saved.boxes])
    again.close()


def test_w_draws_over_a_box_and_a_click_selects_without_editing(annotating, qtbot):
    window = annotating
    window.current_class = "red"
    drag(qtbot, window, (20, 16), (76, 72))
    drag(qtbot, window, (40, 40), (60, 60))  # inside a box: moves it
    np.testing.assert_allclose(boxes_of(window), [[40, 36, 96, 92]], atol=2 * TOLERANCE)
    qtbot.keyClick(window, Key.Key_W)
    drag(qtbot, window, (50, 50), (70, 70))  # after W: draws, even inside the box
    assert len(boxes_of(window)) == 2
    undo_steps = window.annotation.stack.count()
    viewport = window.canvas.viewport()
    qtbot.mouseClick(viewport, LEFT, pos=window.canvas.image_to_widget(45, 45))  # a click selects, edits nothing
    assert window.annotation.session.selected == 0 and window.annotation.stack.count() == undo_steps
    qtbot.mouseClick(viewport, LEFT, pos=window.canvas.image_to_widget(150, 10))  # beside every box: deselects, no box
    assert window.annotation.session.selected is None and len(boxes_of(window)) == 2
    drag(qtbot, window, (150, 110), (190, 150))  # past the image border: clipped, still a box
    np.testing.assert_allclose(boxes_of(window)[-1], [150, 110, 160, 120], atol=TOLERANCE)


def test_edits_relabel_anchors_live_and_flag_uncovered_boxes(annotating, qtbot):
    window = annotating
    window.set_layer_visible("anchor_labels", True)
    window.current_class = "red"
    doc = window.document
    drag(qtbot, window, (20, 20), (24, 24))  # far smaller than the smallest anchor
    assert doc.counts()["gt_without_positive"] == 1
    flagged = window.canvas.layer_items["ground_truth"].boxes["uncovered"].boxes()
    np.testing.assert_allclose(flagged, boxes_of(window), atol=1e-4)
    assert window.annotation.panel.box_form.note.text().startswith("No anchor")
    state = doc.anchor_state
    assert (state.max_iou[state.labels == 1] < state.pos_iou).all()  # only "best anchor" positives
    drag(qtbot, window, (24, 24), (76, 72))  # resize to the red square: anchors now match it
    assert doc.counts()["gt_without_positive"] == 0
    assert "uncovered" not in window.canvas.layer_items["ground_truth"].boxes
    state = doc.anchor_state
    assert (state.max_iou[state.labels == 1] >= state.pos_iou).any()
    np.testing.assert_allclose(window.canvas.layer_items["anchor_labels"].boxes["positive"].boxes(), state.anchors[state.labels == 1])
    assert "positive anchors match" in window.annotation.panel.box_form.note.text()


def test_unsaved_changes_on_switching_images_and_closing(annotating, qtbot, folder):
    window = annotating
    answers = []
    window.annotation.ask = lambda text: answers.pop(0)
    window.current_class = "red"
    drag(qtbot, window, (20, 16), (76, 72))
    answers.append("cancel")
    qtbot.keyClick(window, Key.Key_D)  # next image: cancelled, back with the edits
    assert window.document.index == 0 and len(boxes_of(window)) == 1 and window.annotation.dirty
    answers.append("discard")
    qtbot.keyClick(window, Key.Key_D)
    assert window.document.index == 1 and not (folder / "im0.xml").exists() and not answers
    qtbot.keyClick(window, Key.Key_A)
    assert len(boxes_of(window)) == 0

    window.annotation.autosave = True  # saved without asking when moving on
    drag(qtbot, window, (20, 16), (76, 72))
    qtbot.keyClick(window, Key.Key_D)
    assert window.document.index == 1 and read_voc_xml(folder / "im0.xml").labels() == ["red"]

    drag(qtbot, window, (90, 40), (150, 100))
    answers.append("cancel")
    window.close()  # the prompt's cancel keeps the window open
    assert window.isVisible() and window.annotation.dirty
    window.annotation.unsaved_policy = "save"
    window.close()
    assert not window.isVisible() and read_voc_xml(folder / "im1.xml").labels() == ["red"]


def test_malformed_annotation_file_is_reported_and_left_untouched(window, qtbot, folder):
    bad = folder / "im0.xml"
    bad.write_text("<annotation><filename>im0.png</filename><size><width>160</width>")  # truncated
    original = bad.read_bytes()
    window.open_paths([folder])  # inspection: the labelImg folder skips it, saying why
    assert any("im0.xml" in m.text and "not well-formed" in m.text for m in window.document.messages)
    window.set_mode("annotate")
    window.open_paths([folder])  # annotation lists every image, the bad one included
    doc = window.document
    assert doc.entries[doc.index].name == "im0.png"
    assert window.annotation.session.error and "im0.xml" in window.annotation.session.error
    assert doc.messages[-1].level == "error" and "im0.xml" in doc.messages[-1].text
    assert "im0.xml" in window.annotation.panel.file_label.text()
    drag(qtbot, window, (20, 16), (76, 72))  # nothing to edit
    assert not window.annotation.session.boxes and not window.annotation.dirty
    assert window.save_annotations() is None
    assert bad.read_bytes() == original
    window.close()
    assert bad.read_bytes() == original


def test_verified_toggle_and_unverified_filter(annotating, qtbot, folder):
    window = annotating
    qtbot.keyClick(window, Key.Key_Space)
    assert window.annotation.verified and window.annotation.dirty
    window.save_annotations()
    assert read_voc_xml(folder / "im0.xml").verified
    assert 'verified="yes"' in (folder / "im0.xml").read_text()
    window.annotation.unverified_only = True
    listed = [window.annotation.panel.images.item(r).text().strip() for r in range(window.annotation.panel.images.count())]
    assert listed == ["im1.png"]
    qtbot.keyClick(window, Key.Key_D)
    assert window.document.index == 1
    qtbot.keyClick(window, Key.Key_A)  # the only earlier image is verified
    assert window.document.index == 1
    window.annotation.unverified_only = False
    qtbot.keyClick(window, Key.Key_A)
    assert window.document.index == 0


def test_mode_switch_takes_and_gives_back_conflicting_keys(window, qtbot, folder):
    window.open_paths([folder])
    view_actions = {a.text(): a for a in window.findChildren(type(window.annotation.actions.mode_action))}
    actual_size = view_actions["&Actual size (1:1)"]
    assert "1" in [s.toString() for s in actual_size.shortcuts()]
    window.set_mode("annotate")
    assert window.annotation.dock.isVisible() and window.annotation.editor.enabled
    assert "1" not in [s.toString() for s in actual_size.shortcuts()]
    dialog = window.annotation.show_help()
    texts = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    for keys in ("W", "A", "D", "Del / Backspace", "Ctrl+S", "Ctrl+Z", "Ctrl+Shift+Z / Ctrl+Y", "Ctrl+D", "Space", "1 … 9"):
        assert keys in texts
    dialog.close()
    window.set_mode("inspect")
    assert "1" in [s.toString() for s in actual_size.shortcuts()] and not window.annotation.editor.enabled
    with pytest.raises(ValueError):
        window.set_mode("draw")


def test_datasets_with_gt_start_from_it_and_save_where_they_keep_annotations(window, coco_file, voc_dir):
    window.open_paths([coco_file])  # a COCO set: no VOC file yet, the boxes come from the JSON
    path = window.save_annotations()  # scripting works from inspection mode too
    assert path == coco_file.parent / "img0.xml"
    saved = read_voc_xml(path)
    assert saved.labels() == ["red", "blue"]
    np.testing.assert_allclose([b.box for b in saved.boxes], BOXES)
    window.open_paths([voc_dir])  # a VOC directory: its files live in Annotations/
    window.set_mode("annotate")
    assert window.annotation.session.xml_path == voc_dir / "Annotations" / "a.xml"
    assert [b.difficult for b in window.annotation.session.boxes] == [False, True]
    window.annotation.toggle_verified()
    assert window.save_annotations() == voc_dir / "Annotations" / "a.xml" and read_voc_xml(voc_dir / "Annotations" / "a.xml").verified


def test_a_class_added_while_annotating_labels_its_boxes_in_the_traced_target(annotating, qtbot):
    window = annotating
    doc = window.document
    assert doc.class_names == () and doc.model.config.class_names == ("object",)  # a plain folder
    window.current_class = "cat"
    window.current_class = "dog"
    drag(qtbot, window, (90, 40), (150, 100))
    assert doc.class_names == ("cat", "dog") and window.annotation.classes.names == ["cat", "dog"]
    assert window.wait_until_idle(60_000)
    assert doc.model.config.class_names == ("cat", "dog")  # the untrained model was rebuilt for them
    window.show_image(0)  # trace the edited image again
    assert window.wait_until_idle(60_000) and doc.trace is not None
    assert doc.trace.gt_labels.tolist() == [2]  # dog, not dropped as an unknown class
    np.testing.assert_allclose(doc.trace.gt_boxes.numpy(), boxes_of(window), atol=1e-4)


def test_every_annotation_action_runs_its_command_through_the_typed_table(window, monkeypatch):
    """Each row of the action tables names a Command; the controller's HANDLERS table (not a
    method looked up by name) runs it with the row's arguments."""
    from frcnn_viewer.annotation.view.actions import MODEL_ACTIONS, SET_ACTIONS
    from frcnn_viewer.annotation.view.controller import HANDLERS
    from frcnn_viewer.annotation.view.shortcuts import ACTIONS, NUDGE_FAR, Command

    rows = ACTIONS + SET_ACTIONS + MODEL_ACTIONS
    assert set(HANDLERS) == set(Command) == {spec.command for spec in rows}
    calls = []
    for command in Command:
        monkeypatch.setitem(HANDLERS, command, lambda controller, *args, c=command: calls.append((c, args)))
    window.set_mode("annotate")
    actions = window.annotation.actions
    for spec in ACTIONS:
        actions.keyed[spec].trigger()
    for spec in SET_ACTIONS + MODEL_ACTIONS:
        actions.named[spec.command].trigger()
    assert calls == [(spec.command, spec.args) for spec in rows]
    assert (Command.NUDGE, (0, NUDGE_FAR)) in calls and (Command.PICK_CLASS, (9,)) in calls

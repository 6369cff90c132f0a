"""The Issues list: the dismissals sidecar, each kind's fix, Enter and Delete in the real window
(issues given as the worker gives them), and a real search in the worker."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from PySide6 import QtCore

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.annotations import BoxAnnotation, ImageAnnotation, read_voc_xml, write_voc_xml
from frcnn_core.evaluation.label_errors import LabelErrorKind
from frcnn_core.models.checkpoint import save_checkpoint
from frcnn_viewer.annotation.model.dismissed import DISMISSED_FILE, Dismissal, DismissedFileError, DismissedStore, read_dismissed
from frcnn_viewer.annotation.model.issues import FixKind, Issue, IssueList, fix_of, is_open

from .conftest import BOXES

Key = QtCore.Qt.Key
CLASSES = ("red", "blue")
LOOSE = (40.0, 16.0, 96.0, 72.0)  # BOXES[0] moved 20 px right
EXTRA = (2.0, 80.0, 18.0, 110.0)  # the empty lower-left corner


def labels(red=BOXES[0], blue=BOXES[1]) -> list[BoxAnnotation]:
    return [BoxAnnotation("red", tuple(red)), BoxAnnotation("blue", tuple(blue))]


def make_issue(kind: LabelErrorKind, folder=None, entry: int = 0, image: str = "im0.png", score: float = 0.8) -> Issue:
    """An issue of image ``entry`` as the worker gives it: on the red box (row 0), or for
    ``missing`` the empty corner."""
    if kind is LabelErrorKind.MISSING:
        return Issue(entry, image, folder, kind, score, None, None, None, EXTRA, "blue", {"detection_score": 0.9})
    red = tuple(BOXES[0])
    fix = {LabelErrorKind.WRONG_CLASS: (red, "blue"), LabelErrorKind.BAD_BOX: (LOOSE, "red"), LabelErrorKind.SPURIOUS: (None, None)}[kind]
    return Issue(entry, image, folder, kind, score, 0, red, "red", fix[0], fix[1], {"objectness": 0.1},
                 head_scores=(0.1, 0.2, 0.7), class_names=("background", *CLASSES))


# ----- Qt-free: the sidecar and the fixes ---------------------------------------------------------
def test_the_sidecar_keeps_dismissals_and_knows_the_same_box_again(tmp_path):
    store = DismissedStore()
    bad = Dismissal("a.jpg", LabelErrorKind.BAD_BOX, "cat", (10.0, 10.0, 50.0, 50.0))
    missing = Dismissal("a.jpg", LabelErrorKind.MISSING, None, (100.0, 100.0, 140.0, 140.0))
    path = store.add(tmp_path, bad)
    store.add(tmp_path, missing)
    assert path == tmp_path / DISMISSED_FILE
    document = json.loads(path.read_text())
    assert document["schema"] == "frcnn-viewer/dismissed-label-errors" and len(document["dismissed"]) == 2
    assert read_dismissed(tmp_path) == [bad, missing]
    fresh = DismissedStore()  # another session reads the file
    assert fresh.holds(tmp_path, bad)
    assert fresh.holds(tmp_path, Dismissal("a.jpg", LabelErrorKind.MISSING, None, (104.0, 100.0, 144.0, 140.0)))  # the model's box moved a little
    assert not fresh.holds(tmp_path, Dismissal("a.jpg", LabelErrorKind.BAD_BOX, "cat", (20.0, 10.0, 60.0, 50.0)))  # the box was edited
    assert not fresh.holds(tmp_path, Dismissal("a.jpg", LabelErrorKind.WRONG_CLASS, "cat", bad.box))  # another question about it
    assert not fresh.holds(tmp_path, Dismissal("b.jpg", LabelErrorKind.BAD_BOX, "cat", bad.box))


def test_an_unreadable_sidecar_is_reported_once_and_counts_as_empty(tmp_path):
    (tmp_path / DISMISSED_FILE).write_text('{"schema": "frcnn-viewer/dismissed-label-errors", "dismissed": [{"kind": "typo"}]}')
    with pytest.raises(DismissedFileError, match=rf"{DISMISSED_FILE}: dismissed\[0\]: kind 'typo'"):
        read_dismissed(tmp_path)
    said = []
    store = DismissedStore(report=said.append)
    some = Dismissal("a.jpg", LabelErrorKind.SPURIOUS, "cat", (1.0, 1.0, 5.0, 5.0))
    assert not store.holds(tmp_path, some) and not store.holds(tmp_path, some)
    assert len(said) == 1 and DISMISSED_FILE in said[0]
    (tmp_path / DISMISSED_FILE).write_text("[1, 2")
    with pytest.raises(DismissedFileError, match="not valid JSON"):
        read_dismissed(tmp_path)


@pytest.mark.parametrize("kind", list(LabelErrorKind), ids=lambda k: k.value)
def test_each_kind_has_its_fix_and_a_fixed_issue_is_closed(kind):
    boxes = labels()
    issue = make_issue(kind)
    fix = fix_of(issue, boxes)
    expected = {LabelErrorKind.MISSING: (FixKind.ADD, None, BoxAnnotation("blue", EXTRA)),
                LabelErrorKind.WRONG_CLASS: (FixKind.RELABEL, 0, BoxAnnotation("blue", tuple(BOXES[0]))),
                LabelErrorKind.BAD_BOX: (FixKind.MOVE, 0, BoxAnnotation("red", LOOSE)),
                LabelErrorKind.SPURIOUS: (FixKind.DELETE, 0, None)}[kind]
    assert (fix.kind, fix.row, fix.box) == expected
    if fix.kind is FixKind.ADD:
        after = [*boxes, fix.box]
    elif fix.kind is FixKind.DELETE:
        after = boxes[1:]
    else:
        after = [fix.box, boxes[1]]
    assert is_open(issue, boxes) and not is_open(issue, after) and fix_of(issue, after) is None


def test_the_list_drops_stale_answers_and_hides_dismissed_and_fixed_issues(tmp_path):
    issues = IssueList()
    old = issues.start(2)
    key = issues.start(2)
    assert not issues.add(old, [make_issue(LabelErrorKind.SPURIOUS, tmp_path)])
    wrong, bad = make_issue(LabelErrorKind.WRONG_CLASS, tmp_path, score=0.6), make_issue(LabelErrorKind.MISSING, tmp_path, entry=1, image="im1.png", score=0.9)
    assert issues.add(key, [wrong]) and issues.add(key, [bad])
    assert issues.shown() == [bad, wrong]  # best first
    assert issues.shown(editing=0, boxes=[BoxAnnotation("blue", tuple(BOXES[0]))]) == [bad]  # relabelled since: closed
    issues.dismiss(bad)
    assert issues.shown() == [wrong]
    again = IssueList()  # a later session
    again.add(again.start(1), [make_issue(LabelErrorKind.MISSING, tmp_path, entry=1, image="im1.png", score=0.7)])
    assert again.shown() == []


# ----- the window ---------------------------------------------------------------------------
@pytest.fixture
def labelled(folder):
    """The two 160x120 images of ``folder`` with labelImg VOC files beside them (a red and a blue box each)."""
    for k in range(2):
        write_voc_xml(ImageAnnotation(f"im{k}.png", 160, 120, 3, labels()), folder / f"im{k}.xml")
    return folder


@pytest.fixture
def reviewing(window, qtbot, labelled):
    """The window annotating ``labelled``, its Issues list focused."""
    assert window.open_paths([labelled]) == 2
    window.set_mode("annotate")
    assert window.wait_until_idle(60_000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return window


def give_issues(window, issues: list[Issue]) -> None:
    """Make the list hold ``issues`` as a search's answer would."""
    state = window.issues.issues
    key = state.start(len(window.document.entries))
    window.issues._found(key, issues)
    state.finish(key)


def press(qtbot, window, row: int, key) -> None:
    widget = window.issues.panel.list
    widget.setFocus()
    widget.setCurrentRow(row)
    qtbot.keyClick(widget, key)


@pytest.mark.parametrize("kind", list(LabelErrorKind), ids=lambda k: k.value)
def test_enter_applies_the_fix_as_one_undoable_edit(reviewing, qtbot, labelled, kind):
    window = reviewing
    window.show_image(1)
    give_issues(window, [make_issue(kind, labelled)])
    assert window.issues.panel.list.count() == 1
    press(qtbot, window, 0, Key.Key_Return)
    assert window.document.index == 0  # it went to the issue's image
    boxes = [(b.label, b.box) for b in window.annotation.session.boxes]
    red, blue = ("red", tuple(BOXES[0])), ("blue", tuple(BOXES[1]))
    assert boxes == {LabelErrorKind.MISSING: [red, blue, ("blue", EXTRA)], LabelErrorKind.WRONG_CLASS: [("blue", red[1]), blue],
                     LabelErrorKind.BAD_BOX: [("red", LOOSE), blue], LabelErrorKind.SPURIOUS: [blue]}[kind]
    assert window.issues.panel.list.count() == 0 and window.annotation.dirty
    window.annotation.undo()
    assert [(b.label, b.box) for b in window.annotation.session.boxes] == [red, blue]
    assert window.issues.panel.list.count() == 1  # open again


def test_selecting_an_issue_shows_its_box_and_evidence(reviewing, labelled):
    window = reviewing
    give_issues(window, [make_issue(LabelErrorKind.WRONG_CLASS, labelled, entry=1, image="im1.png")])
    window.issues.panel.list.setCurrentRow(0)
    assert window.document.index == 1 and window.annotation.session.selected == 0
    evidence = window.provenance_panel.evidence
    assert evidence.isVisible() and "wrong class" in evidence.text() and "relabel as blue" in evidence.text()
    heights = window.provenance_panel.bars.opts["height"]
    np.testing.assert_allclose(heights, [0.1, 0.2, 0.7])  # the head's class scores on the box


def test_the_arrows_walk_the_list_and_a_click_on_the_first_row_counts(reviewing, qtbot, labelled):
    window = reviewing
    give_issues(window, [make_issue(LabelErrorKind.SPURIOUS, labelled, score=0.9),
                         make_issue(LabelErrorKind.MISSING, labelled, entry=1, image="im1.png", score=0.8)])
    widget = window.issues.panel.list
    assert widget.currentRow() == -1  # nothing looked at yet
    window.show_image(1)
    widget.setFocus()
    qtbot.mouseClick(widget.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=widget.visualItemRect(widget.item(0)).center())
    assert window.document.index == 0 and window.annotation.session.selected == 0
    qtbot.keyClick(widget, Key.Key_Down)  # the list's, not the annotation mode's nudge
    assert widget.currentRow() == 1 and window.document.index == 1
    qtbot.keyClick(widget, Key.Key_Up)
    assert window.document.index == 0 and [b.box for b in window.annotation.session.boxes] == [tuple(BOXES[0]), tuple(BOXES[1])]


def test_a_tiny_box_is_zoomed_into_view(reviewing, labelled):
    window = reviewing
    speck = (70.0, 60.0, 72.0, 62.0)
    write_voc_xml(ImageAnnotation("im1.png", 160, 120, 3, [*labels(), BoxAnnotation("red", speck)]), labelled / "im1.xml")
    tiny = Issue(1, "im1.png", labelled, LabelErrorKind.SPURIOUS, 0.9, 2, speck, "red", None, None)
    give_issues(window, [make_issue(LabelErrorKind.SPURIOUS, labelled, score=0.95), tiny])
    window.issues.panel.list.setCurrentRow(1)
    assert window.document.index == 1 and window.annotation.session.selected == 2
    shown = window.canvas.view.viewRect()
    assert shown.width() < 60 and shown.contains(QtCore.QPointF(71.0, 61.0))  # not the whole 160 x 120 image
    window.issues.panel.list.setCurrentRow(0)  # a box large enough: the whole image again
    assert window.document.index == 0 and window.canvas.view.viewRect().contains(QtCore.QRectF(0, 0, 160, 120))


def test_delete_dismisses_into_the_sidecar_for_good(reviewing, qtbot, labelled):
    window = reviewing
    spurious, missing = make_issue(LabelErrorKind.SPURIOUS, labelled, score=0.9), make_issue(LabelErrorKind.MISSING, labelled, entry=1, image="im1.png")
    give_issues(window, [spurious, missing])
    press(qtbot, window, 0, Key.Key_Delete)
    assert window.issues.panel.list.count() == 1 and [b.label for b in window.annotation.session.boxes] == ["red", "blue"]
    saved = read_dismissed(labelled)
    assert saved == [Dismissal("im0.png", LabelErrorKind.SPURIOUS, "red", tuple(BOXES[0]))]
    give_issues(window, [spurious, missing])  # the next search finds it again: still not shown
    assert [i.kind for i in window.issues.shown()] == [LabelErrorKind.MISSING]
    assert window.dismiss_issue(0) and len(read_dismissed(labelled)) == 2
    assert window.issues.shown() == []


def test_a_search_in_the_worker_follows_each_new_model(reviewing, labelled, tmp_path, monkeypatch):
    window = reviewing
    drawn_in = set()
    show_status = window.issues.panel.show_status
    monkeypatch.setattr(window.issues.panel, "show_status", lambda text: (drawn_in.add(threading.current_thread()), show_status(text)))
    assert window.find_label_issues() is None  # the untrained model: reported, nothing searched
    torch.manual_seed(0)
    config = cpu_config(len(CLASSES), CLASSES, min_size=96, max_size=128)
    first = save_checkpoint(tmp_path / "first.pt", FasterRCNN(config))
    assert window.load_checkpoint(first)
    (labelled / "im1.xml").write_text("<annotation><object>")  # broken: reported, the search goes on
    found = window.find_label_issues()
    state = window.issues.issues
    assert not state.searching and state.done == state.total == 2
    assert any("im1.xml" in m.text for m in window.document.messages if m.level == "error")
    assert found, "a random model doubts every label"
    for row in found:
        assert row["file_name"] == "im0.png" and 0.0 <= row["score"] <= 1.0
        assert row["kind"] in {k.value for k in LabelErrorKind}
    key = state.key
    torch.manual_seed(1)
    assert window.load_checkpoint(save_checkpoint(tmp_path / "second.pt", FasterRCNN(config)))  # as a retraining run's checkpoint
    assert window.wait_until_idle(60_000)
    assert state.key > key and not state.searching and state.done == 2
    assert read_voc_xml(labelled / "im0.xml").boxes == labels()  # searching changes no file
    assert drawn_in == {threading.main_thread()}  # the worker's answers are drawn in the GUI thread

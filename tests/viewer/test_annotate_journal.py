"""Never losing an edit, in the real window: a viewer killed with SIGKILL, the next one offered
its unsaved edits and restoring them; the journal cleared on save; a corrupt journal tail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

from frcnn_core.annotations import BoxAnnotation, ImageAnnotation, read_voc_xml
from frcnn_viewer.annotation.model.journal import JOURNAL_NAME, EditJournal, JournalFile, Step

REPO = Path(__file__).resolve().parents[2]

# A viewer that makes eight undo steps' worth of edits (with merged nudges, undo and redo among
# them), prints what it shows, then waits to be killed.
EDIT_AND_WAIT = r"""
import json, sys, time
from PySide6 import QtCore, QtWidgets
app = QtWidgets.QApplication([])
from frcnn_viewer import MainWindow

folder, settings = sys.argv[1:3]
window = MainWindow(settings=QtCore.QSettings(settings, QtCore.QSettings.Format.IniFormat))
window.show()
assert window.open_paths([folder]) == 2
window.set_mode("annotate")
c = window.annotation
window.current_class = "red"
c.editor.drawn.emit([20.0, 16.0, 76.0, 72.0])              # 1 add
c.editor.drawn.emit([90.0, 40.0, 150.0, 100.0])            # 2 add
c.session.select(0)
for _ in range(3):
    c.nudge(1.0, 0.0)                                       # 3 nudge (three merged into one step)
c.choose_class("blue")                                      # 4 relabel
c.toggle_difficult()                                        # 5
c.duplicate_selected()                                      # 6 duplicate
c.delete_selected()                                         # 7 delete the duplicate ...
c.undo(); c.undo(); c.redo()                                # ... undone, and the duplicate undone and redone
c.toggle_verified()                                         # 7 mark verified (the delete can no longer be redone)
c.editor.edited.emit(1, [95.0, 45.0, 155.0, 105.0], "Move") # 8 move
boxes = [[b.label, list(b.box), b.difficult] for b in c.session.boxes]
print(json.dumps({"steps": c.stack.index(), "boxes": boxes, "verified": c.verified}), flush=True)
time.sleep(600)
"""


def shown(window) -> list:
    return [[b.label, list(b.box), b.difficult] for b in window.annotation.session.boxes]


def offered(window) -> bool:
    return not window.unsaved_bar.isHidden()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_viewer_loses_no_edit(window, folder, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", EDIT_AND_WAIT, str(folder), str(tmp_path / "child.ini")],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        report = child.stdout.readline()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(60)
    assert child.returncode == -signal.SIGKILL
    made = json.loads(report)
    assert made["steps"] == 8 and len(made["boxes"]) == 3 and made["verified"]
    assert not list(folder.glob("*.xml"))  # nothing was saved

    assert window.open_paths([folder]) == 2  # in the Inspect workspace: the offer shows all the same
    assert offered(window) and "im0.png (8 edits)" in window.unsaved_bar.note.text()
    assert len(window.document.image.gt_boxes) == 0 and not window.annotation.dirty  # opening restored nothing

    assert window.restore_unsaved_edits() == 8
    assert shown(window) == made["boxes"] and window.annotation.verified
    np.testing.assert_array_equal(window.document.image.gt_boxes, [box for _label, box, _difficult in made["boxes"]])
    assert not offered(window) and window.windowTitle().startswith("*")

    stack = window.annotation.stack
    assert stack.count() == 8
    for _ in range(8):
        stack.undo()
    assert shown(window) == [] and not window.annotation.verified and not window.annotation.dirty
    for _ in range(8):
        stack.redo()
    assert shown(window) == made["boxes"] and window.annotation.verified

    path = window.save_annotations()
    assert not (folder / JOURNAL_NAME).exists()  # saved: the journal forgets the image (and, empty, goes)
    saved = read_voc_xml(path)
    assert saved.labels() == [label for label, _box, _difficult in made["boxes"]] and saved.verified


def journal_edits(folder: Path, name: str, *boxes) -> None:
    """Journal, as the viewer does, one added box per ``boxes`` on the image ``name`` (never saved)."""
    keeper = EditJournal(lambda level, text: None)
    before = ImageAnnotation(filename=name, width=160, height=120)
    for box in boxes:
        after = ImageAnnotation(filename=name, width=160, height=120, boxes=before.boxes + [BoxAnnotation("red", box)])
        keeper.record(folder / f"{Path(name).stem}.xml", Step.DO, "Add box", ImageAnnotation(filename=name, width=160, height=120), after)
        before = after


def test_a_corrupt_journal_tail_is_ignored_with_one_line(window, folder):
    journal_edits(folder, "im1.png", (10.0, 10.0, 40.0, 40.0), (50.0, 50.0, 90.0, 90.0))
    with open(folder / JOURNAL_NAME, "ab") as f:
        f.write(b'garbage \x00\xff\n{"journal":1,"file":"im1.xml","step":"do","text":"Add box","verified":fa')  # cut short
    window.set_mode("annotate")
    assert window.open_paths([folder]) == 2
    about_journal = [m for m in window.document.messages if JOURNAL_NAME in m.text]
    assert len(about_journal) == 1 and about_journal[0].level == "warning" and "2 unreadable lines ignored" in about_journal[0].text
    assert "red" not in window.annotation.classes.names
    assert offered(window) and window.restore_unsaved_edits() == 2
    assert "red" in window.annotation.classes.names  # the restored boxes' class joins the list
    assert window.document.index == 1 and [box for _label, box, _difficult in shown(window)] == [[10, 10, 40, 40], [50, 50, 90, 90]]


def test_the_journal_forgets_only_the_images_saved(window, folder):
    journal_edits(folder, "im1.png", (10.0, 10.0, 40.0, 40.0))  # a previous session's unsaved edit of im1
    window.set_mode("annotate")
    assert window.open_paths([folder]) == 2 and offered(window)
    window.annotation.editor.drawn.emit([20.0, 16.0, 76.0, 72.0])  # an edit of im0, journaled at once
    files = [line.file for line in JournalFile(folder).read()[0]]
    assert files.count("im0.xml") == 2 and files.count("im1.xml") == 2  # im0: its base and its edit
    window.save_annotations()
    assert {line.file for line in JournalFile(folder).read()[0]} == {"im1.xml"}
    assert offered(window) and window.restore_unsaved_edits() == 1  # im0 saved: changing image asks nothing
    assert shown(window) == [["red", [10.0, 10.0, 40.0, 40.0], False]]
    window.annotation.stack.undo()
    assert shown(window) == [] and not window.annotation.dirty
    window.annotation.stack.redo()
    window.save_annotations()
    assert not (folder / JOURNAL_NAME).exists()


def test_discard_and_editing_again_give_the_edits_up(window, folder, qtbot):
    journal_edits(folder, "im0.png", (10.0, 10.0, 40.0, 40.0))
    journal_edits(folder, "im1.png", (10.0, 10.0, 40.0, 40.0), (50.0, 50.0, 90.0, 90.0))
    window.set_mode("annotate")
    assert window.open_paths([folder]) == 2
    assert "im0.png (1 edit), im1.png (2 edits)" in window.unsaved_bar.note.text()
    window.annotation.editor.drawn.emit([20.0, 16.0, 76.0, 72.0])  # im0 edited again before restoring: its old edit goes
    assert any(m.level == "warning" and "im0.xml" in m.text and "given up" in m.text for m in window.document.messages)
    assert "im0.png" not in window.unsaved_bar.note.text() and "im1.png (2 edits)" in window.unsaved_bar.note.text()
    qtbot.mouseClick(window.unsaved_bar.discard_button, QtCore.Qt.MouseButton.LeftButton)
    assert not offered(window) and window.restore_unsaved_edits() == 0
    assert {line.file for line in JournalFile(folder).read()[0]} == {"im0.xml"}  # only this session's edit is left
    assert len(shown(window)) == 1 and window.annotation.dirty


def test_a_macro_and_a_rename_are_journaled_as_one_step_each(window, folder):
    window.set_mode("annotate")
    assert window.open_paths([folder]) == 2
    c = window.annotation
    window.current_class = "red"
    c.editor.drawn.emit([20.0, 16.0, 76.0, 72.0])
    c.editor.drawn.emit([90.0, 40.0, 150.0, 100.0])
    c.session.select(None)
    assert c.copy_boxes() == 2 and c.paste_boxes() == 2  # one undo step of two commands
    c.rename_class("red", "crimson")
    lines, bad = JournalFile(folder).read()
    assert bad == 0 and [line.step for line in lines] == [Step.BASE, Step.DO, Step.DO, Step.DO, Step.DO]
    assert [line.text for line in lines[1:]] == ["Add box", "Add box", "Paste 2 boxes", "Rename class 'red' to 'crimson'"]
    assert [len(line.state.boxes) for line in lines] == [0, 1, 2, 4, 4] and {b.label for b in lines[-1].state.boxes} == {"crimson"}
    c.undo()
    assert JournalFile(folder).read()[0][-1].step is Step.UNDO and {b.label for b in JournalFile(folder).read()[0][-1].state.boxes} == {"red"}

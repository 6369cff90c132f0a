"""Each annotation command undoes and redoes exactly its own change on the session's data."""

from __future__ import annotations

import dataclasses

import pytest
from PIL import Image
from PySide6 import QtGui

from frcnn_core.annotations import BoxAnnotation
from frcnn_viewer.annotation.model.classes import ClassList
from frcnn_viewer.annotation.model.session import AnnotationSession, SessionChange
from frcnn_viewer.annotation.view.commands import AddBox, ChangeBox, RemoveBox, RenameClass, SetVerified

from .conftest import draw_image

CAT = BoxAnnotation("cat", (10.0, 10.0, 50.0, 40.0))
DOG = BoxAnnotation("dog", (60.0, 20.0, 150.0, 110.0))


@pytest.fixture
def session(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(draw_image()).save(path)
    session = AnnotationSession()
    session.open(path, (120, 160), [CAT, DOG])
    return session


@pytest.fixture
def stack(qapp):
    return QtGui.QUndoStack()


def test_add_delete_change_undo_and_redo_in_order(session, stack):
    events = []
    session.changed.connect(events.append)
    bird = BoxAnnotation("bird", (1.5, 2.5, 30.25, 40.75))
    stack.push(AddBox(session, bird))
    assert session.boxes == [CAT, DOG, bird] and session.selected == 2 and SessionChange.BOXES in events
    stack.push(RemoveBox(session, 0))
    assert session.boxes == [DOG, bird] and session.selected is None
    stack.push(ChangeBox(session, 1, dataclasses.replace(bird, label="owl", difficult=True), "Relabel"))
    assert session.boxes[1].label == "owl" and session.boxes[1].difficult
    stack.undo()
    assert session.boxes == [DOG, bird]
    stack.undo()
    assert session.boxes == [CAT, DOG, bird] and session.selected == 0  # back in its place
    stack.undo()
    assert session.boxes == [CAT, DOG] and stack.isClean()
    for _ in range(3):
        stack.redo()
    assert [b.label for b in session.boxes] == ["dog", "owl"]


def test_nudges_of_one_box_merge_into_one_step(session, stack):
    for dx in (1, 1, 1):
        box = session.boxes[0]
        moved = (box.box[0] + dx, box.box[1], box.box[2] + dx, box.box[3])
        stack.push(ChangeBox(session, 0, dataclasses.replace(box, box=moved), "Nudge", merge=True))
    stack.push(ChangeBox(session, 1, dataclasses.replace(DOG, box=(61.0, 20.0, 151.0, 110.0)), "Nudge", merge=True))
    assert stack.count() == 2 and session.boxes[0].box == (13.0, 10.0, 53.0, 40.0)
    stack.undo()
    stack.undo()
    assert session.boxes == [CAT, DOG]


def test_verified_and_class_rename_are_undoable(session, stack):
    classes = ClassList(["cat", "dog"])
    stack.push(SetVerified(session, True))
    stack.push(RenameClass(session, classes, "cat", "kitten"))
    assert session.annotation.verified and session.boxes[0].label == "kitten" and classes.names == ["kitten", "dog"]
    stack.undo()
    assert session.boxes[0] == CAT and classes.names == ["cat", "dog"]
    stack.undo()
    assert not session.annotation.verified

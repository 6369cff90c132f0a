"""The journal of annotation edits without Qt: lines on disk, replaying them, runs, forgetting."""

from __future__ import annotations

import json
import os

import pytest

from frcnn_core.annotations import BoxAnnotation, ImageAnnotation
from frcnn_viewer.annotation.model import journal as journal_module
from frcnn_viewer.annotation.model.journal import (
    Edit,
    EditJournal,
    JournalFile,
    Line,
    Snapshot,
    Step,
    replay,
    unsaved_edits,
    without_no_ops,
)


def state(*xs: float, verified: bool = False) -> Snapshot:
    """One 10x10 box per ``x`` (class ``cat``), in order."""
    return Snapshot(tuple(BoxAnnotation("cat", (float(x), 5.0, x + 10.0, 15.0)) for x in xs), verified)


def line(step: Step, s: Snapshot, text: str = "edit", file: str = "im0.xml") -> Line:
    return Line(file, step, text, s)


def annotation(s: Snapshot) -> ImageAnnotation:
    return ImageAnnotation(filename="im0.png", width=160, height=120, boxes=list(s.boxes), verified=s.verified)


BASE, S1, S2, S3 = state(), state(1), state(1, 30), state(1, 30, 60)


def test_replay_follows_the_undo_stack():
    lines = [line(Step.DO, S1, "a"), line(Step.DO, S2, "b"), line(Step.DO, S3, "c"),
             line(Step.UNDO, S2, "c"), line(Step.UNDO, S1, "b"), line(Step.REDO, S2, "b")]
    assert replay(lines, BASE) == [Edit("a", S1), Edit("b", S2)]  # c is undone: not an edit in effect
    after_new_edit = replay(lines + [line(Step.DO, state(1, 30, 90), "d")], BASE)
    assert [e.text for e in after_new_edit] == ["a", "b", "d"]  # a new edit drops what could be redone
    assert replay(lines + [line(Step.DO, state(1, 30, 90), "d"), line(Step.REDO, S3, "c")], BASE)[-1].state == S3  # its state stands


def test_merged_nudges_stay_one_step_and_keep_its_name():
    nudged = [line(Step.DO, S1, "Add box"), line(Step.DO, state(2), "Nudge"), line(Step.AMEND, state(3), "Nudge"),
              line(Step.AMEND, state(4), "Nudge")]
    assert replay(nudged, BASE) == [Edit("Add box", S1), Edit("Nudge", state(4))]
    assert replay(nudged + [line(Step.UNDO, S1, "Nudge")], BASE) == [Edit("Add box", S1)]


def test_an_undo_past_the_last_save_is_an_edit_of_its_own():
    saved = S2  # the run starts at a save after two edits; undoing goes below it
    assert replay([line(Step.UNDO, S1, "Add box")], saved) == [Edit("Undo Add box", S1)]
    assert replay([line(Step.AMEND, state(1, 31), "Nudge")], saved) == [Edit("Nudge", state(1, 31))]


def test_a_lost_line_leaves_the_last_state_standing():
    lines = [line(Step.DO, S1), line(Step.DO, S3), line(Step.UNDO, S2)]  # the line doing S2 is lost
    assert replay(lines, BASE)[-1].state == S2


def test_steps_that_change_no_box_are_not_edits_to_restore():
    edits = [Edit("Add box", S1), Edit("Reject 'dog'", S1), Edit("Mark verified", state(1, verified=True))]
    assert without_no_ops(edits, BASE) == [edits[0], edits[2]]


def test_a_line_round_trips_exactly():
    s = Snapshot((BoxAnnotation("chat noir", (0.1, 1 / 3, 20.25, 99.999999), True, True, "Left"),), True)
    encoded = line(Step.AMEND, s, "Nudge", "ïm 0.xml").encode()
    assert encoded.endswith(b"\n") and encoded.count(b"\n") == 1
    assert Line.decode(encoded.strip()) == line(Step.AMEND, s, "Nudge", "ïm 0.xml")


def test_each_edit_is_in_the_file_at_once_and_fsynced_in_the_background(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(journal_module.os, "fsync", lambda fd: (synced.append(os.fstat(fd).st_ino), real_fsync(fd)))
    keeper = EditJournal(lambda level, text: None)
    keeper.record(tmp_path / "im0.xml", Step.DO, "Add box", annotation(BASE), annotation(S1))
    keeper.record(tmp_path / "im0.xml", Step.DO, "Add box", annotation(BASE), annotation(S2))
    journal = JournalFile(tmp_path)
    assert journal.read() == ([line(Step.BASE, BASE, ""), line(Step.DO, S1, "Add box"), line(Step.DO, S2, "Add box")], 0)  # at once
    keeper.syncer.wait()
    assert synced.count(journal.path.stat().st_ino) == 2  # each edit's line fsync'd
    if os.name == "posix":
        assert synced.count(tmp_path.stat().st_ino) == 1  # and the new file's name, once
    assert journal.path.read_bytes().count(b"\n") == 3


@pytest.mark.parametrize("tail", [b'{"journal":1,"file":"im0.xml","step":"do","te', b"\x00\xff garbage", b'{"journal":2}',
                                  b'{"journal":1,"file":"../im0.xml","step":"do","text":"","verified":false,"boxes":[]}',
                                  (b'{"journal":1,"file":"im0.xml","step":"do","text":"","verified":false,"boxes":[{"label":"a","box":[5,5,1,1],'
                                   b'"difficult":false,"truncated":false,"pose":""}]}')])
def test_an_unreadable_tail_is_counted_and_the_next_line_stays_readable(tmp_path, tail):
    journal = JournalFile(tmp_path)
    journal.append([line(Step.BASE, BASE), line(Step.DO, S1)])
    with open(journal.path, "ab") as f:
        f.write(tail)  # a write cut short, or garbage: no newline at the end
    assert journal.read() == ([line(Step.BASE, BASE), line(Step.DO, S1)], 1)
    journal.append([line(Step.DO, S2)])
    assert journal.read() == ([line(Step.BASE, BASE), line(Step.DO, S1), line(Step.DO, S2)], 1)


def test_unsaved_edits_are_the_last_run_of_each_file(tmp_path):
    lines = [line(Step.BASE, BASE), line(Step.DO, S1, "old"),  # a run of im0 replaced by the next one
             line(Step.BASE, BASE, file="im1.xml"), line(Step.DO, S2, file="im1.xml"),
             line(Step.BASE, S1), line(Step.DO, S2, "new"),
             line(Step.BASE, BASE, file="im2.xml"), line(Step.DO, S1, file="im2.xml"), line(Step.UNDO, BASE, file="im2.xml")]
    found = unsaved_edits(lines, tmp_path)
    assert [(u.annotation_file.name, u.base, u.edits) for u in found] == [  # in the order their last runs began
        ("im1.xml", BASE, (Edit("edit", S2),)), ("im0.xml", S1, (Edit("new", S2),))]  # im2's edit was undone


def test_forget_removes_the_saved_files_lines_and_replaced_runs(tmp_path):
    journal = JournalFile(tmp_path)
    journal.append([line(Step.BASE, BASE), line(Step.DO, S1), line(Step.BASE, BASE, file="im1.xml"), line(Step.DO, S1, file="im1.xml"),
                    line(Step.BASE, S1), line(Step.DO, S2)])
    assert journal.forget({"im1.xml"})
    assert journal.read() == ([line(Step.BASE, S1), line(Step.DO, S2)], 0)
    assert not journal.forget({"im7.xml"})  # nothing to remove: not rewritten
    assert journal.forget({"im0.xml"}) and not journal.path.exists()  # nothing left: no file


def test_edit_journal_records_runs_and_forgets_saved_images(tmp_path):
    messages = []
    keeper = EditJournal(lambda level, text: messages.append((level, text)))
    im0, im1 = tmp_path / "im0.xml", tmp_path / "im1.xml"
    keeper.record(im0, Step.DO, "Add box", annotation(BASE), annotation(S1))
    keeper.record(im0, Step.DO, "Add box", annotation(BASE), annotation(S2))
    keeper.image_left()
    keeper.record(im1, Step.DO, "Add box", annotation(BASE), annotation(S1))
    lines, bad = JournalFile(tmp_path).read()
    assert bad == 0 and [(x.file, x.step) for x in lines] == [("im0.xml", Step.BASE), ("im0.xml", Step.DO), ("im0.xml", Step.DO),
                                                            ("im1.xml", Step.BASE), ("im1.xml", Step.DO)]
    keeper.saved(im1)
    assert {x.file for x in JournalFile(tmp_path).read()[0]} == {"im0.xml"}

    later = EditJournal(lambda level, text: messages.append((level, text)))  # the next session
    later.read_folder(tmp_path)
    [found] = later.found()
    assert found.annotation_file == im0 and found.base == BASE and [e.state for e in found.edits] == [S1, S2]
    later.record(im0, Step.DO, "Add box", annotation(BASE), annotation(S3))  # edited again without restoring: replaced
    assert later.found() == [] and messages[-1][0] == "warning" and "given up" in messages[-1][1]
    assert [e.state for e in unsaved_edits(JournalFile(tmp_path).read()[0], tmp_path)[0].edits] == [S3]


def test_a_journal_that_cannot_be_written_is_reported_once(tmp_path):
    messages = []
    keeper = EditJournal(lambda level, text: messages.append((level, text)))
    gone = tmp_path / "gone" / "im0.xml"  # its folder does not exist
    for s in (S1, S2):
        keeper.record(gone, Step.DO, "Add box", annotation(BASE), annotation(s))
    assert len(messages) == 1 and messages[0][0] == "error" and "not journaled" in messages[0][1]


def test_discard_gives_up_only_the_files_named(tmp_path):
    journal = JournalFile(tmp_path)
    journal.append([line(Step.BASE, BASE), line(Step.DO, S1), line(Step.BASE, BASE, file="im1.xml"), line(Step.DO, S1, file="im1.xml")])
    keeper = EditJournal(lambda level, text: None)
    keeper.read_folder(tmp_path)
    assert keeper.discard([tmp_path / "im0.xml"]) == 1
    assert [u.annotation_file.name for u in keeper.found()] == ["im1.xml"]
    assert [json.loads(raw)["file"] for raw in journal.path.read_bytes().splitlines()] == ["im1.xml", "im1.xml"]

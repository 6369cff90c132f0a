"""The journal of annotation edits: every undoable edit on disk as it happens, so a crash, a
kill or a power cut loses none.

Annotations are saved when the user saves; until then the edits live in memory. Each folder
that holds annotation files gets a journal, ``.frcnn-journal.jsonl`` (JSON lines, append
only), written as each edit, undo and redo happens: the line is in the operating system's
hands before the edit returns (a crash or a kill loses nothing) and fsync'd right after by a
thread of its own (:class:`BackgroundSync`; a power cut then loses nothing either). Saving an
image (or giving up its changes) removes its lines. What is left when the viewer next opens
the folder are the edits that were never saved: :class:`EditJournal` finds them
(:class:`UnsavedEdits`) and the window offers to restore them.

One line is one step of an image's undo stack, with the image's whole annotation after it::

    {"journal": 1, "file": "im0.xml", "step": "do", "text": "Add box", "verified": false,
     "boxes": [{"label": "cat", "box": [20.0, 16.0, 76.0, 72.0], "difficult": false,
                "truncated": false, "pose": "Unspecified"}]}

``file`` names the annotation file (in the journal's folder) the edit is for; ``step`` is a
:class:`Step`; ``box`` is ``(x1, y1, x2, y2)`` in the image file's continuous pixels, as in
:class:`~frcnn_core.annotations.BoxAnnotation`. A run of an image's edits starts with a
``base`` line (the annotation as opened or last saved). Replaying the steps of the last run
(:func:`replay`) gives the undo steps in effect at the end, each with the annotation after
it: exactly the boxes the user last saw, and one undo step per edit the user could still
undo. Whole states rather than differences make every line stand alone: a line lost to a
cut-short write (the last one, typically) costs that line only, and the next lines still
replay to the boxes they record.

A line that cannot be read (half-written, garbage, another version) is skipped and counted;
nothing here raises for a bad journal. Plain Python, no Qt.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from frcnn_core.annotations import BoxAnnotation, ImageAnnotation
from frcnn_core.files.atomic import atomic_write_bytes, fsync_directory

from ...state.events import Event

log = logging.getLogger(__name__)

JOURNAL_NAME = ".frcnn-journal.jsonl"
JOURNAL_VERSION = 1


class Step(Enum):
    """What one journal line records of an image's undo stack."""

    BASE = "base"  # the annotation as opened or saved: a new run of edits starts from it
    DO = "do"  # a new undo step (an edit): the stack's index moved up to a new command
    AMEND = "amend"  # the top step changed in place (consecutive nudges merge into one step)
    UNDO = "undo"
    REDO = "redo"


@dataclass(frozen=True)
class Snapshot:
    """An image's annotation as far as edits change it: its boxes (file pixels, in order) and
    its verified mark."""

    boxes: tuple[BoxAnnotation, ...]
    verified: bool

    @classmethod
    def of(cls, annotation: ImageAnnotation) -> Snapshot:
        return cls(tuple(_box(b.label, b.box, b.difficult, b.truncated, b.pose) for b in annotation.boxes), bool(annotation.verified))

    def to_json(self) -> dict:
        return {"verified": self.verified,
                "boxes": [{"label": b.label, "box": list(b.box), "difficult": b.difficult, "truncated": b.truncated, "pose": b.pose}
                          for b in self.boxes]}

    @classmethod
    def from_json(cls, record: dict) -> Snapshot:
        """Raises ``KeyError``, ``TypeError`` or ``ValueError`` on a malformed record."""
        boxes = []
        for b in record["boxes"]:
            box = [float(v) for v in b["box"]]
            if len(box) != 4 or not (box[0] < box[2] and box[1] < box[3]):
                raise ValueError(f"box {b['box']!r} is not (x1, y1, x2, y2) with x1 < x2, y1 < y2")
            boxes.append(_box(_text(b["label"]), box, _flag(b["difficult"]), _flag(b["truncated"]), _text(b["pose"])))
        return cls(tuple(boxes), _flag(record["verified"]))


def _box(label: str, box, difficult: bool, truncated: bool, pose: str) -> BoxAnnotation:
    return BoxAnnotation(label, tuple(float(v) for v in box), bool(difficult), bool(truncated), pose)


def _text(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


@dataclass(frozen=True)
class Line:
    """One journal line: ``step`` of the annotation ``file``, named ``text``, leaving ``state``."""

    file: str
    step: Step
    text: str
    state: Snapshot

    def encode(self) -> bytes:
        record = {"journal": JOURNAL_VERSION, "file": self.file, "step": self.step.value, "text": self.text, **self.state.to_json()}
        return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")

    @classmethod
    def decode(cls, raw: bytes) -> Line:
        """Raises ``ValueError`` (or ``KeyError``, ``TypeError``) when ``raw`` is not a line of this version."""
        record = json.loads(raw.decode("utf-8"))
        if not isinstance(record, dict) or record.get("journal") != JOURNAL_VERSION:
            raise ValueError("not a journal line of version 1")
        name = _text(record["file"])
        if not name or Path(name).name != name:
            raise ValueError(f"file {name!r} is not a file name")
        return cls(name, Step(record["step"]), _text(record["text"]), Snapshot.from_json(record))


@dataclass(frozen=True)
class Edit:
    """An undo step to restore: its name and the annotation after it."""

    text: str
    state: Snapshot


@dataclass(frozen=True)
class UnsavedEdits:
    """The edits of one image that were journaled and never saved.

    Attributes:
        annotation_file: the image's annotation file (the journal is in its folder).
        base: the annotation they started from (as opened or saved then); ``None`` when its
            line was lost.
        edits: the undo steps in effect when the journal ends, in order; each one's state is
            the annotation after it, the last one's is what the user saw last.
    """

    annotation_file: Path
    base: Snapshot | None
    edits: tuple[Edit, ...]


def replay(lines: Iterable[Line], base: Snapshot | None = None) -> list[Edit]:
    """The undo steps in effect after ``lines`` (one image's run, its ``base`` line excluded),
    as an undo stack would have them: a step done goes on top, an undo takes the top one off
    (to redo), a redo puts it back, an amend changes the top one.

    The line's own state decides when the two disagree (a line lost in between, an undo past
    the start of the run, whose state the run never had): the line then becomes a step of its
    own, so the last step's state is always the last line's.
    """
    steps: list[Edit] = []
    undone: list[Edit] = []

    def top() -> Snapshot | None:
        return steps[-1].state if steps else base

    for line in lines:
        edit = Edit(line.text, line.state)
        if line.step is Step.DO:
            steps.append(edit)
            undone.clear()
        elif line.step is Step.AMEND and steps:
            steps[-1] = Edit(steps[-1].text, line.state)
        elif line.step is Step.UNDO and steps and (steps[-2].state if len(steps) > 1 else base) == line.state:
            undone.append(steps.pop())
        elif line.step is Step.REDO and undone and undone[-1].state == line.state:
            steps.append(undone.pop())
        elif top() != line.state:  # out of step with the lines before: this line's state stands
            steps.append(Edit(f"Undo {line.text}" if line.step is Step.UNDO else line.text, line.state))
            undone.clear()
    return steps


def without_no_ops(edits: Iterable[Edit], start: Snapshot | None) -> list[Edit]:
    """``edits`` less those that leave the annotation as the step before left it (a rejected
    suggestion: an undo step that changes no box)."""
    kept = []
    for edit in edits:
        if edit.state != start:
            kept.append(edit)
        start = edit.state
    return kept


class JournalFile:
    """The journal of one folder's annotation files (``folder/.frcnn-journal.jsonl``)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / JOURNAL_NAME

    def read(self) -> tuple[list[Line], int]:
        """Every readable line in order, and how many lines could not be read (a write cut
        short, garbage). No file: no lines.

        Raises:
            OSError: the file exists but cannot be read.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], 0
        lines, bad = [], 0
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                lines.append(Line.decode(raw))
            except (ValueError, KeyError, TypeError) as exc:  # json's errors are ValueErrors
                log.debug("%s: unreadable line skipped: %s", self.path, exc)
                bad += 1
        return lines, bad

    def append(self, lines: Iterable[Line]) -> bool:
        """Append ``lines`` in one write and hand them to the operating system: once this
        returns, they outlive the process (a crash, a kill), not yet a power cut (:meth:`sync`).
        A file whose last line was cut short first gets the newline it lacks, so the new lines
        stay readable. Returns whether the file was created.

        Raises:
            OSError: the folder or file cannot be written.
        """
        data = b"".join(line.encode() for line in lines)
        created = not self.path.exists()
        with open(self.path, "a+b") as f:
            f.seek(0, os.SEEK_END)
            if f.tell():
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    data = b"\n" + data
            f.write(data)
            f.flush()
        return created

    def sync(self, created: bool = False) -> None:
        """fsync the file (every line appended so far is then on the disk itself), and its
        folder when the file was ``created`` (its name too). Nothing to do when it is gone
        (forgotten meanwhile: the rewrite was synced).

        Raises:
            OSError: the disk refused.
        """
        try:
            fd = os.open(self.path, os.O_RDWR | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_directory(self.folder)

    def forget(self, files: Collection[str]) -> bool:
        """Remove every line of the annotation ``files`` (saved, or their edits given up), and
        the runs of other files that a later run replaced; the file goes when nothing is left.
        Unreadable lines go too. Returns whether the journal changed.

        Raises:
            OSError: the journal cannot be read or rewritten (it is then left as it was).
        """
        lines, bad = self.read()
        kept = [line for line in last_runs(lines) if line.file not in files]
        if len(kept) == len(lines) and not bad:
            return False
        if kept:
            atomic_write_bytes(self.path, b"".join(line.encode() for line in kept))
        else:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            fsync_directory(self.folder)
        return True


def last_runs(lines: list[Line]) -> list[Line]:
    """``lines`` without those of each file that come before its last ``base`` line."""
    last_base = {line.file: i for i, line in enumerate(lines) if line.step is Step.BASE}
    return [line for i, line in enumerate(lines) if i >= last_base.get(line.file, 0)]


def unsaved_edits(lines: list[Line], folder: Path) -> list[UnsavedEdits]:
    """The edits of each file's last run in ``lines`` (a journal of ``folder``) that change
    its annotation, in the order these runs began; files with none are left out."""
    runs: dict[str, list[Line]] = {}
    for line in last_runs(lines):
        runs.setdefault(line.file, []).append(line)
    found = []
    for name, run in runs.items():
        base = run[0].state if run[0].step is Step.BASE else None
        steps = run[1:] if base is not None else run
        edits = without_no_ops(replay(steps, base), base)
        if edits:
            found.append(UnsavedEdits(folder / name, base, tuple(edits)))
    return found


class BackgroundSync:
    """fsync's journal files in a thread of its own, in the order asked, so the GUI thread
    never waits on the disk for an edit.

    An append reaches the operating system before the edit returns, so a crash or a kill loses
    nothing; the fsync that makes it survive a power cut too takes milliseconds on an idle
    disk and can take far longer on a busy one, longer than the GUI thread may block. The
    thread runs while there is something to sync; it only syncs files: it calls nothing back
    and touches no Qt object, and a refusal is logged.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[JournalFile, bool]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def request(self, journal: JournalFile, created: bool) -> None:
        """fsync ``journal`` (and its folder when it was ``created``) soon."""
        with self._lock:
            self._queue.put((journal, created))
            if self._thread is None:  # none running: one starts, and ends when nothing is left to sync
                self._thread = threading.Thread(target=self._run, name="frcnn-journal-sync", daemon=True)
                self._thread.start()

    def wait(self) -> None:
        """Return once every fsync asked for so far is done."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            with self._lock:
                try:
                    journal, created = self._queue.get_nowait()
                except queue.Empty:
                    self._thread = None
                    return
            try:
                journal.sync(created)
            except OSError as exc:
                log.warning("%s: fsync failed (the edits reach the disk when the system flushes it): %s", journal.path, exc)
            finally:
                self._queue.task_done()


class EditJournal:
    """The annotation model's journals: records the session's edits as they happen, forgets
    them when saved, and keeps the unsaved edits found in the folders read.

    Args:
        report: ``(level, text)`` a message for the user (a journal that cannot be written or
            read, unreadable lines, edits replaced).

    A *run* is the edits of one image since it was opened or saved: its first edit writes a
    ``base`` line first. Unsaved edits found for an image are replaced (and no longer offered)
    when a run starts on that image, and forgotten when it is saved.

    ``changed`` is emitted (no argument) when edits leave :meth:`found` (taken, given up,
    replaced or saved); :meth:`read_folder` adds to it quietly (its caller knows).
    """

    def __init__(self, report: Callable[[str, str], None]) -> None:
        self.report = report
        self.changed = Event()
        self._found: dict[Path, UnsavedEdits] = {}  # annotation file -> unsaved edits found
        self._folders_read: set[Path] = set()
        self._run: Path | None = None  # the annotation file whose run has its base line
        self._failing: set[Path] = set()  # folders whose journal could not be written (reported once)
        self.syncer = BackgroundSync()

    # ----- finding unsaved edits -------------------------------------------------------------
    def read_folder(self, folder: Path) -> None:
        """Read ``folder``'s journal (once per folder): its unsaved edits join :meth:`found`;
        unreadable lines are skipped with one message."""
        folder = Path(folder)
        if folder in self._folders_read:
            return
        self._folders_read.add(folder)
        journal = JournalFile(folder)
        try:
            lines, bad = journal.read()
        except OSError as exc:
            self.report("warning", f"{journal.path}: cannot read the journal of unsaved edits: {exc}")
            return
        if bad:
            self.report("warning", f"{journal.path}: {bad} unreadable line{'s' if bad > 1 else ''} ignored "
                                   "(a write cut short, or not a journal line); the other edits are kept")
        for found in unsaved_edits(lines, folder):
            if found.annotation_file != self._run:
                self._found[found.annotation_file] = found

    def found(self) -> list[UnsavedEdits]:
        """The unsaved edits found, per annotation file, in the order they were read."""
        return list(self._found.values())

    def take(self, annotation_file: Path) -> UnsavedEdits | None:
        """Remove the unsaved edits of ``annotation_file`` from :meth:`found` and return them
        (to restore them: they then become a run of their own)."""
        taken = self._found.pop(Path(annotation_file), None)
        if taken is not None:
            self.changed.emit()
        return taken

    def discard(self, annotation_files: Iterable[Path]) -> int:
        """Give up the unsaved edits found for ``annotation_files``: their lines leave the
        journals. Returns how many of these files had some."""
        dropped = [path for path in map(Path, annotation_files) if self._found.pop(path, None) is not None]
        self._forget(dropped)
        if dropped:
            self.changed.emit()
        return len(dropped)

    # ----- recording --------------------------------------------------------------------------
    def record(self, annotation_file: Path, step: Step, text: str, clean: ImageAnnotation, now: ImageAnnotation) -> None:
        """Journal ``step`` (named ``text``) of ``annotation_file``'s undo stack, which left the
        annotation ``now``; ``clean`` is the annotation as opened or last saved (the base of a
        new run). A journal that cannot be written is reported once; the edit stands."""
        annotation_file = Path(annotation_file)
        lines = []
        if self._run != annotation_file:
            self._run = annotation_file
            lines.append(Line(annotation_file.name, Step.BASE, "", Snapshot.of(clean)))
            replaced = self._found.pop(annotation_file, None)
            if replaced is not None:
                self.report("warning", f"{annotation_file.name}: the {len(replaced.edits)} unsaved edits of the last session were "
                                       "not restored before this edit and are given up")
                self.changed.emit()
        lines.append(Line(annotation_file.name, step, text, Snapshot.of(now)))
        folder = annotation_file.parent
        journal = JournalFile(folder)
        try:
            created = journal.append(lines)
        except OSError as exc:
            if folder not in self._failing:
                self._failing.add(folder)
                self.report("error", f"edits are not journaled in {folder} (a crash would lose them until saved): {exc}")
            self._run = None  # the base line is written again with the next edit that can be
            return
        self._failing.discard(folder)
        self.syncer.request(journal, created)

    def image_left(self) -> None:
        """The session opened another image (or none): the next edit starts a new run."""
        self._run = None

    def saved(self, annotation_file: Path) -> None:
        """``annotation_file`` was saved, or its changes given up: its lines leave the journal,
        its unsaved edits found are no longer offered, and the next edit starts a new run."""
        annotation_file = Path(annotation_file)
        self._run = None
        self._forget([annotation_file])
        if self._found.pop(annotation_file, None) is not None:
            self.changed.emit()

    def _forget(self, annotation_files: Iterable[Path]) -> None:
        by_folder: dict[Path, set[str]] = {}
        for path in annotation_files:
            by_folder.setdefault(path.parent, set()).add(path.name)
        for folder, names in by_folder.items():
            journal = JournalFile(folder)
            if not journal.path.exists():
                continue
            try:
                journal.forget(names)
            except OSError as exc:
                self.report("error", f"{journal.path}: cannot remove the edits of {', '.join(sorted(names))}: {exc}")

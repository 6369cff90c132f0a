"""Every annotation edit as a ``QUndoCommand`` over the session's data (undo *and* redo).

A command stores only what it changes (one box before and after, or an index), not a
copy of every box per step. ``redo`` runs when the command is pushed. Consecutive nudges
of one box merge into one step (``QUndoCommand.mergeWith``).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtGui import QUndoCommand

from frcnn_core.annotations import BoxAnnotation

from ..model.classes import ClassList
from ..model.journal import Snapshot
from ..model.session import AnnotationSession
from ..model.suggestions import SuggestionSet

NUDGE_ID = 1  # merge id of arrow-key nudges


class AddBox(QUndoCommand):
    """Add ``box`` at the end (new, duplicated or pasted boxes) and select it."""

    def __init__(self, session: AnnotationSession, box: BoxAnnotation, text: str = "Add box") -> None:
        super().__init__(text)
        self.session, self.box, self.index = session, box, len(session.boxes)

    def redo(self) -> None:
        self.session.insert(self.index, self.box)
        self.session.select(self.index)

    def undo(self) -> None:
        self.session.remove(self.index)
        self.session.select(None)


class AcceptSuggestion(AddBox):
    """Add a suggestion as a GT box and dismiss it (so moving the box away does not bring it back);
    undo removes the box and shows the suggestion again."""

    def __init__(self, session: AnnotationSession, box: BoxAnnotation, suggestions: SuggestionSet, suggested: tuple) -> None:
        super().__init__(session, box, f"Accept {box.label!r}")
        self.suggestions, self.suggested = suggestions, suggested  # (displayed box, class name)

    def redo(self) -> None:
        self.suggestions.dismiss(*self.suggested)
        super().redo()

    def undo(self) -> None:
        super().undo()
        self.suggestions.restore(*self.suggested)


class RejectSuggestion(QUndoCommand):
    """Hide a suggestion (Delete on a selected suggestion); the boxes are not touched."""

    def __init__(self, suggestions: SuggestionSet, box, name: str) -> None:
        super().__init__(f"Reject {name!r}")
        self.suggestions, self.box, self.name = suggestions, tuple(float(v) for v in box), name

    def redo(self) -> None:
        self.suggestions.dismiss(self.box, self.name)

    def undo(self) -> None:
        self.suggestions.restore(self.box, self.name)


class RemoveBox(QUndoCommand):
    """Delete box ``index``; undo puts it back in its place, selected."""

    def __init__(self, session: AnnotationSession, index: int) -> None:
        super().__init__(f"Delete {session.boxes[index].label!r}")
        self.session, self.index = session, index
        self.box = session.boxes[index]

    def redo(self) -> None:
        self.session.remove(self.index)
        self.session.select(None)

    def undo(self) -> None:
        self.session.insert(self.index, self.box)
        self.session.select(self.index)


class ChangeBox(QUndoCommand):
    """Replace box ``index`` with ``new``: move, resize, nudge, relabel, flags, typed coordinates.

    With ``merge``, consecutive changes of the same box (arrow-key nudges) become one step.
    """

    def __init__(self, session: AnnotationSession, index: int, new: BoxAnnotation, text: str, merge: bool = False) -> None:
        super().__init__(text)
        self.session, self.index, self.new, self.merge = session, index, new, merge
        self.old = session.boxes[index]

    def id(self) -> int:
        return NUDGE_ID if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ChangeBox) or other.index != self.index:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.session.replace(self.index, self.new)
        self.session.select(self.index)

    def undo(self) -> None:
        self.session.replace(self.index, self.old)
        self.session.select(self.index)


class SetVerified(QUndoCommand):
    """Mark the image verified or not (labelImg's ``verified="yes"``)."""

    def __init__(self, session: AnnotationSession, verified: bool) -> None:
        super().__init__("Mark verified" if verified else "Mark unverified")
        self.session, self.verified = session, verified

    def redo(self) -> None:
        self.session.set_verified(self.verified)

    def undo(self) -> None:
        self.session.set_verified(not self.verified)


class RenameClass(QUndoCommand):
    """Rename a class in the class list and relabel this image's boxes of that class."""

    def __init__(self, session: AnnotationSession, classes: ClassList, old: str, new: str) -> None:
        super().__init__(f"Rename class {old!r} to {new!r}")
        self.session, self.classes, self.old, self.new = session, classes, old, new.strip()
        self.indices = [i for i, b in enumerate(session.boxes) if b.label == old]

    def redo(self) -> None:
        self._apply(self.old, self.new)

    def undo(self) -> None:
        self._apply(self.new, self.old)

    def _apply(self, old: str, new: str) -> None:
        self.classes.rename(old, new)
        for i in self.indices:
            box = self.session.boxes[i]
            self.session.replace(i, BoxAnnotation(new, box.box, box.difficult, box.truncated, box.pose))


class RestoreEdit(QUndoCommand):
    """An edit of a session that ended without saving, put back from its journal: the image's
    boxes and verified mark go from ``before`` to ``after``; undo puts ``before`` back."""

    def __init__(self, session: AnnotationSession, before: Snapshot, after: Snapshot, text: str) -> None:
        super().__init__(text)
        self.session, self.before, self.after = session, before, after

    def redo(self) -> None:
        self._show(self.after)

    def undo(self) -> None:
        self._show(self.before)

    def _show(self, state: Snapshot) -> None:
        self.session.set_contents([dataclasses.replace(b) for b in state.boxes], state.verified)
        self.session.select(None)

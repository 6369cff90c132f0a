"""The annotation mode's keys (labelImg's flow), the help dialog that lists them, and
the window shortcuts they take over while the mode is on.

:data:`ACTIONS` is the one table: the controller makes a ``QAction`` of each row and the
help dialog lists the same rows, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtGui, QtWidgets


@dataclass(frozen=True)
class ActionSpec:
    """One annotation action: its name (the controller's handler), keys and help text."""

    name: str
    keys: tuple[str, ...]
    text: str


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("arm_drawing", ("W",), "Draw a new box: the next drag draws, even over a box"),
    ActionSpec("previous_image", ("A",), "Previous image (skips verified ones while 'Unverified only' is on)"),
    ActionSpec("next_image", ("D",), "Next image (idem)"),
    ActionSpec("delete_selected", ("Del", "Backspace"), "Delete the selected box (reject the selected suggestion)"),
    ActionSpec("duplicate_selected", ("Ctrl+D",), "Duplicate the selected box"),
    ActionSpec("save", ("Ctrl+S",), "Save this image's VOC XML"),
    ActionSpec("undo", ("Ctrl+Z",), "Undo"),
    ActionSpec("redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo"),
    ActionSpec("toggle_verified", ("Space",), "Mark the image verified / unverified"),
    ActionSpec("toggle_difficult", ("Ctrl+Shift+D",), "Mark the selected box difficult / not"),
    ActionSpec("nudge_left", ("Left",), "Move the selected box 1 pixel (without a selection: previous image)"),
    ActionSpec("nudge_right", ("Right",), "Move the selected box 1 pixel (without a selection: next image)"),
    ActionSpec("nudge_up", ("Up",), "Move the selected box 1 pixel up"),
    ActionSpec("nudge_down", ("Down",), "Move the selected box 1 pixel down"),
    ActionSpec("nudge_left_far", ("Shift+Left",), "Move the selected box 10 pixels"),
    ActionSpec("nudge_right_far", ("Shift+Right",), "Move the selected box 10 pixels"),
    ActionSpec("nudge_up_far", ("Shift+Up",), "Move the selected box 10 pixels up"),
    ActionSpec("nudge_down_far", ("Shift+Down",), "Move the selected box 10 pixels down"),
    ActionSpec("accept_suggestion", ("Return", "Enter"), "Accept the selected suggestion (or double-click it)"),
    ActionSpec("accept_all_suggestions", ("Shift+Return", "Shift+Enter"), "Accept every suggestion shown (one undo step)"),
    ActionSpec("copy_boxes", ("Ctrl+C",), "Copy the selected box (every box without a selection)"),
    ActionSpec("paste_boxes", ("Ctrl+V",), "Paste the copied boxes"),
    ActionSpec("paste_previous", ("Ctrl+Shift+V",), "Copy every box of the previous image (its saved file)"),
    ActionSpec("next_unlabelled", ("N",), "Next image to label: unlabelled, the model's most uncertain first"),
    ActionSpec("cancel", ("Esc",), "Stop drawing, deselect"),
    ActionSpec("show_help", ("F1",), "This list"),
) + tuple(ActionSpec(f"pick_class_{k}", (str(k),), f"Class {k} of the list for new boxes and the selected box") for k in range(1, 10))

MOUSE_HELP = (
    ("Drag on the image", "Draw a box (crosshair guides follow the mouse)"),
    ("Click / drag a box", "Select it / move it"),
    ("Click / double-click a dashed suggestion", "Select it / accept it (hover: where it came from)"),
    ("Drag a corner or an edge", "Resize the box"),
    ("Right or middle drag, wheel", "Pan and zoom as in inspection mode"),
)


def portable(keys) -> set[str]:
    """Key sequences in one comparable spelling."""
    return {QtGui.QKeySequence(k).toString(QtGui.QKeySequence.SequenceFormat.PortableText) for k in keys}


class ShortcutConflicts:
    """Shortcuts of other window actions that the annotation mode takes over (``1`` for 1:1
    zoom, the arrows for previous/next image), removed by :meth:`suspend` and given back by
    :meth:`restore`."""

    def __init__(self, window: QtWidgets.QWidget, own: list[QtGui.QAction]) -> None:
        self.window = window
        self.own = set(own)
        self.taken = portable(k for spec in ACTIONS for k in spec.keys)
        self._saved: list[tuple[QtGui.QAction, list[QtGui.QKeySequence]]] = []

    def suspend(self) -> None:
        for action in self.window.findChildren(QtGui.QAction):
            if action in self.own:
                continue
            shortcuts = action.shortcuts()
            keep = [s for s in shortcuts if s.toString(QtGui.QKeySequence.SequenceFormat.PortableText) not in self.taken]
            if len(keep) != len(shortcuts):
                self._saved.append((action, shortcuts))
                action.setShortcuts(keep)

    def restore(self) -> None:
        for action, shortcuts in self._saved:
            action.setShortcuts(shortcuts)
        self._saved.clear()


class HelpDialog(QtWidgets.QDialog):
    """The keys and mouse gestures of the annotation mode, in a table."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Annotation shortcuts")
        rows = [(" / ".join(spec.keys), spec.text) for spec in ACTIONS if not spec.name.startswith("pick_class_")]
        rows += [("1 … 9", "Class 1 … 9 of the list for new boxes and the selected box"), *MOUSE_HELP]
        self.table = QtWidgets.QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        for r, (keys, text) in enumerate(rows):
            self.table.setItem(r, 0, QtWidgets.QTableWidgetItem(keys))
            self.table.setItem(r, 1, QtWidgets.QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        column = QtWidgets.QVBoxLayout(self)
        column.addWidget(self.table)
        column.addWidget(buttons)
        self.resize(620, 560)

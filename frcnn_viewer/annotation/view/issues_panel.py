"""The Issues dock: the likely label mistakes of the open images, best first.

Only widgets: the :class:`~.issues.IssuesController` fills the list (:meth:`IssuesPanel.show_issues`)
and listens to its signals. With the list focused, **Enter** asks to apply the selected issue's
fix and **Delete** (or Backspace) to dismiss it; the keys are the list's own while it has the
focus (the annotation mode's Enter and Delete act on the canvas otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from frcnn_core.evaluation.label_errors import LabelErrorKind

from ..model.issues import Issue

# One colour per kind, so the list reads at a glance.
KIND_COLOURS = {
    LabelErrorKind.MISSING: "#1f77b4",
    LabelErrorKind.WRONG_CLASS: "#d62728",
    LabelErrorKind.BAD_BOX: "#ff7f0e",
    LabelErrorKind.SPURIOUS: "#7f7f7f",
}
Key = QtCore.Qt.Key
APPLY_KEYS = (Key.Key_Return, Key.Key_Enter)
DISMISS_KEYS = (Key.Key_Delete, Key.Key_Backspace)
# the list's own moves (the annotation mode's arrows nudge boxes elsewhere)
MOVE_KEYS = (Key.Key_Up, Key.Key_Down, Key.Key_PageUp, Key.Key_PageDown, Key.Key_Home, Key.Key_End)
OWN_KEYS = APPLY_KEYS + DISMISS_KEYS + MOVE_KEYS
HINT = "Select an issue to see it; Enter applies the fix (Ctrl+Z undoes it), Delete dismisses it for good."


class IssueListWidget(QtWidgets.QListWidget):
    """A list whose Enter, Delete and arrow keys are its own while it has the focus: it claims
    them before the window's shortcuts (``ShortcutOverride``); Enter and Delete are reported as
    signals, the arrows move through the list."""

    apply_requested = QtCore.Signal(int)
    dismiss_requested = QtCore.Signal(int)

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and event.key() in OWN_KEYS and event.modifiers() in (
            QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.KeyboardModifier.KeypadModifier,
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        row = self.currentRow()
        if event.key() in APPLY_KEYS and row >= 0:
            self.apply_requested.emit(row)
        elif event.key() in DISMISS_KEYS and row >= 0:
            self.dismiss_requested.emit(row)
        else:
            super().keyPressEvent(event)


class IssuesPanel(QtWidgets.QWidget):
    """The *Issues* list with its *Find issues* button and a status line.

    Signals: ``find_clicked()``, ``picked(row)`` (a row of the list became current),
    ``apply_requested(row)`` (Enter), ``dismiss_requested(row)`` (Delete).
    """

    find_clicked = QtCore.Signal()
    picked = QtCore.Signal(int)
    apply_requested = QtCore.Signal(int)
    dismiss_requested = QtCore.Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        column = QtWidgets.QVBoxLayout(self)
        row = QtWidgets.QHBoxLayout()
        self.find_button = QtWidgets.QPushButton("Find issues")
        self.find_button.setToolTip("Compare every open image's labels with what each stage of the trained model says "
                                    "(frcnn label-errors), in the background; the list follows each retrained model")
        self.find_button.clicked.connect(self.find_clicked.emit)
        row.addWidget(self.find_button)
        self.status = QtWidgets.QLabel("no search yet")
        self.status.setWordWrap(True)
        row.addWidget(self.status, 1)
        column.addLayout(row)
        self.list = IssueListWidget()
        self.list.setObjectName("issue_list")
        self.list.setUniformItemSizes(True)
        self.list.currentRowChanged.connect(lambda r: r >= 0 and self.picked.emit(r))
        self.list.apply_requested.connect(self.apply_requested.emit)
        self.list.dismiss_requested.connect(self.dismiss_requested.emit)
        column.addWidget(self.list, 1)
        hint = QtWidgets.QLabel(HINT)
        hint.setWordWrap(True)
        hint.setStyleSheet("QLabel { color: #666; }")
        column.addWidget(hint)

    def show_issues(self, issues: Sequence[Issue], current: int | None) -> None:
        """List ``issues`` (one line each, coloured by kind) with row ``current`` selected, without
        emitting ``picked``."""
        blocker = QtCore.QSignalBlocker(self.list)
        self.list.clear()
        for issue in issues:
            item = QtWidgets.QListWidgetItem(issue.describe())
            item.setForeground(QtGui.QColor(KIND_COLOURS[issue.kind]))
            item.setToolTip(f"{issue.image}: {issue.kind.description} ({issue.kind.value}), score {issue.score:.3f}")
            self.list.addItem(item)
        # no current row unless asked: a click on the first row must report it
        self.list.setCurrentRow(current if current is not None and 0 <= current < len(issues) else -1)
        del blocker

    def show_status(self, text: str) -> None:
        self.status.setText(text)

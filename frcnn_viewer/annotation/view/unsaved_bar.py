"""The offer to restore the edits a previous session never saved: a bar above the canvas.

It only shows the offer and reports the user's answer (``restore_clicked``,
``discard_clicked``); the controller decides, the model's journal
(:mod:`frcnn_viewer.annotation.model.journal`) knows the edits. Nothing waits on it: the
window works as usual while it is shown.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class UnsavedEditsBar(QtWidgets.QFrame):
    """A note with *Restore* and *Discard* buttons, hidden while there is nothing to offer."""

    restore_clicked = QtCore.Signal()
    discard_clicked = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unsaved_edits_bar")
        self.setStyleSheet("#unsaved_edits_bar { background: #cfe3f7; }")
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 6, 0)
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("QLabel { color: #222; padding: 4px 8px; }")
        self.restore_button = QtWidgets.QPushButton("Restore")
        self.restore_button.setToolTip("Put the edits back on their image as undoable edits; save to keep them")
        self.discard_button = QtWidgets.QPushButton("Discard")
        self.discard_button.setToolTip("Give these edits up: the journal forgets them")
        self.restore_button.clicked.connect(self.restore_clicked)
        self.discard_button.clicked.connect(self.discard_clicked)
        row.addWidget(self.note, 1)
        row.addWidget(self.restore_button)
        row.addWidget(self.discard_button)
        self.hide()

    def show_offer(self, text: str | None) -> None:
        """Show ``text`` with the buttons; ``None`` hides the bar."""
        self.note.setText(text or "")
        self.setVisible(text is not None)

"""Message log: every warning and error the document reported, newest last (never a modal dialog)."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from ..state.document import Document, Message

LEVEL_COLOURS = {"info": None, "warning": (200, 140, 0), "error": (220, 40, 40)}


class MessagePanel(QtWidgets.QListWidget):
    """Shows :attr:`Document.messages` as they arrive."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        for message in document.messages:
            self.add(message)
        document.message.connect(self.add)

    def add(self, message: Message) -> None:
        item = QtWidgets.QListWidgetItem(f"{message.level}: {message.text}")
        colour = LEVEL_COLOURS.get(message.level)
        if colour is not None:
            item.setForeground(QtGui.QColor(*colour))
        self.addItem(item)
        self.scrollToBottom()

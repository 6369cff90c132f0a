"""The annotation dock: class list, selected box, this image's file and flags, the image list.

Only widgets: the controller fills them (:meth:`AnnotationPanel.show_image`,
:meth:`AnnotationPanel.show_images`) and listens to their signals.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from .box_form import BoxForm
from .class_list import ClassListPanel
from ..state.annotation_classes import ClassList


class AnnotationPanel(QtWidgets.QWidget):
    """Everything the annotation mode shows beside the canvas.

    Signals: ``verified_toggled(bool)``, ``save_clicked()``, ``image_picked(index)`` (an entry
    index of the document); the option check boxes are public (``autosave``, ``unverified_only``).
    """

    verified_toggled = QtCore.Signal(bool)
    save_clicked = QtCore.Signal()
    image_picked = QtCore.Signal(int)

    def __init__(self, classes: ClassList, parent=None) -> None:
        super().__init__(parent)
        column = QtWidgets.QVBoxLayout(self)
        self.classes = ClassListPanel(classes)
        column.addWidget(QtWidgets.QLabel("Classes (new boxes get the bold one)"))
        column.addWidget(self.classes, 2)
        self.box_form = BoxForm()
        column.addWidget(self.box_form)
        image = QtWidgets.QGroupBox("This image")
        grid = QtWidgets.QGridLayout(image)
        self.file_label = QtWidgets.QLabel()
        self.file_label.setWordWrap(True)
        self.file_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.file_label, 0, 0, 1, 2)
        self.verified = QtWidgets.QCheckBox("Verified (Space)")
        self.verified.clicked.connect(self.verified_toggled.emit)
        grid.addWidget(self.verified, 1, 0)
        save = QtWidgets.QPushButton("Save (Ctrl+S)")
        save.clicked.connect(self.save_clicked.emit)
        grid.addWidget(save, 1, 1)
        self.autosave = QtWidgets.QCheckBox("Save automatically when changing image")
        grid.addWidget(self.autosave, 2, 0, 1, 2)
        column.addWidget(image)
        self.unverified_only = QtWidgets.QCheckBox("Unverified only (list, A and D)")
        column.addWidget(self.unverified_only)
        self.images = QtWidgets.QListWidget()
        self.images.itemClicked.connect(lambda item: self.image_picked.emit(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        column.addWidget(self.images, 1)

    def show_image(self, text: str, error: bool, verified: bool | None) -> None:
        """The file line (red for an unreadable file) and the verified box (``None``: no image)."""
        self.file_label.setText(text)
        self.file_label.setStyleSheet("QLabel { color: #ff5050; }" if error else "")
        blocker = QtCore.QSignalBlocker(self.verified)
        self.verified.setChecked(bool(verified))
        self.verified.setEnabled(verified is not None)
        del blocker

    def show_images(self, rows: list[tuple[int, str, bool]], current: int | None) -> None:
        """``rows``: ``(entry index, name, verified)`` of the images to list."""
        blocker = QtCore.QSignalBlocker(self.images)
        self.images.clear()
        for index, name, verified in rows:
            item = QtWidgets.QListWidgetItem(("✓ " if verified else "   ") + name)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, index)
            self.images.addItem(item)
            if index == current:
                self.images.setCurrentItem(item)
        del blocker

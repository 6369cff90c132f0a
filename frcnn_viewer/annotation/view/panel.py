"""The annotation dock: class list, selected box, this image's file and flags, the model's
suggestions (score slider, accept all, next unlabelled, retrain), the image list.

Only widgets: the controller fills them (:meth:`AnnotationPanel.show_image`,
:meth:`AnnotationPanel.show_images`) and listens to their signals.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..model.classes import ClassList
from ..model.suggestions import OFFER_SCORE_TIP
from .box_form import BoxForm
from .class_list import ClassListPanel


class AnnotationPanel(QtWidgets.QWidget):
    """Everything the annotation mode shows beside the canvas.

    Signals: ``verified_toggled(bool)``, ``save_clicked()``, ``image_picked(index)`` (an entry
    index of the document), ``min_score_changed(float)`` (the suggestion slider),
    ``accept_all_clicked()``, ``next_unlabelled_clicked()``, ``retrain_clicked()``; the option
    check boxes are public (``autosave``, ``unverified_only``), and so is ``min_score`` (the slider,
    in hundredths).
    """

    verified_toggled = QtCore.Signal(bool)
    save_clicked = QtCore.Signal()
    image_picked = QtCore.Signal(int)
    min_score_changed = QtCore.Signal(float)
    accept_all_clicked = QtCore.Signal()
    next_unlabelled_clicked = QtCore.Signal()
    retrain_clicked = QtCore.Signal()

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
        column.addWidget(self._suggestion_box())
        self.unverified_only = QtWidgets.QCheckBox("Unverified only (list, A and D)")
        column.addWidget(self.unverified_only)
        self.images = QtWidgets.QListWidget()
        self.images.itemClicked.connect(lambda item: self.image_picked.emit(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        column.addWidget(self.images, 1)

    def _suggestion_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Model suggestions (dashed)")
        grid = QtWidgets.QGridLayout(box)
        self.min_score = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.min_score.setRange(0, 100)
        self.min_score.setToolTip(OFFER_SCORE_TIP)
        self.min_score_label = QtWidgets.QLabel()
        self.min_score.valueChanged.connect(self._min_score_moved)
        offer = QtWidgets.QLabel("Offer scores ≥")
        offer.setToolTip(OFFER_SCORE_TIP)
        grid.addWidget(offer, 0, 0)
        grid.addWidget(self.min_score, 0, 1)
        grid.addWidget(self.min_score_label, 0, 2)
        self.suggestion_line = QtWidgets.QLabel()
        self.suggestion_line.setWordWrap(True)
        grid.addWidget(self.suggestion_line, 1, 0, 1, 3)
        for row, (text, signal) in enumerate((("Accept all shown (Shift+Enter)", self.accept_all_clicked),
                                              ("Next unlabelled (N)", self.next_unlabelled_clicked),
                                              ("Retrain on the labelled images", self.retrain_clicked))):
            button = QtWidgets.QPushButton(text)
            button.clicked.connect(signal.emit)
            grid.addWidget(button, 2 + row // 2, row % 2 * 2, 1, 1 + row % 2)
        return box

    def _min_score_moved(self, value: int) -> None:
        self.min_score_label.setText(f"{value / 100:.2f}")
        self.min_score_changed.emit(value / 100)

    def show_min_score(self, value: float) -> None:
        """Put the slider at ``value`` (0..1) without announcing it."""
        blocker = QtCore.QSignalBlocker(self.min_score)
        self.min_score.setValue(round(value * 100))
        del blocker
        self.min_score_label.setText(f"{value:.2f}")

    def show_suggestions(self, text: str) -> None:
        """The line under the slider (how many suggestions are shown, or why there are none)."""
        self.suggestion_line.setText(text)

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

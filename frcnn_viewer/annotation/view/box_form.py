"""The selected box in numbers: coordinates in the image file's pixels, class and flags.

Typing a coordinate (then Enter or leaving the field), choosing a class or ticking a flag
emits ``edited`` with the box as the form now shows it; the controller checks it (inside
the image, not empty) and makes an undoable command of it. ``note`` says whether an
anchor can learn the box (the live coverage check).
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from frcnn_core.annotations import BoxAnnotation

COORDINATES = ("x1", "y1", "x2", "y2")


class BoxForm(QtWidgets.QGroupBox):
    """Editable numbers of one box; disabled while no box is selected."""

    edited = QtCore.Signal(object)  # BoxAnnotation

    def __init__(self, parent=None) -> None:
        super().__init__("Selected box", parent)
        self._box: BoxAnnotation | None = None
        grid = QtWidgets.QGridLayout(self)
        self.spins: dict[str, QtWidgets.QDoubleSpinBox] = {}
        for i, key in enumerate(COORDINATES):
            spin = QtWidgets.QDoubleSpinBox()
            spin.setDecimals(2)
            spin.setKeyboardTracking(False)
            spin.setToolTip("continuous pixel coordinates of the image file (VOC writes x1 + 1 and x2, rounded)")
            spin.editingFinished.connect(self._emit)
            grid.addWidget(QtWidgets.QLabel(key), i // 2, (i % 2) * 2)
            grid.addWidget(spin, i // 2, (i % 2) * 2 + 1)
            self.spins[key] = spin
        self.label = QtWidgets.QComboBox()
        self.label.activated.connect(self._emit)
        grid.addWidget(QtWidgets.QLabel("class"), 2, 0)
        grid.addWidget(self.label, 2, 1, 1, 3)
        self.difficult = QtWidgets.QCheckBox("difficult")
        self.truncated = QtWidgets.QCheckBox("truncated")
        for box in (self.difficult, self.truncated):
            box.toggled.connect(self._emit)
        grid.addWidget(self.difficult, 3, 0, 1, 2)
        grid.addWidget(self.truncated, 3, 2, 1, 2)
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.setMinimumHeight(2 * self.note.fontMetrics().lineSpacing() + 4)  # room for two wrapped lines
        grid.addWidget(self.note, 4, 0, 1, 4)
        self.show_box(None, (0, 0), [], "")

    def show_box(self, box: BoxAnnotation | None, size: tuple[int, int], class_names: list[str], note: str) -> None:
        """Show ``box`` of an image of ``size`` ``(H, W)``; ``note`` under it (red when it starts with "!")."""
        self._box = box
        widgets = [*self.spins.values(), self.label, self.difficult, self.truncated]
        blockers = [QtCore.QSignalBlocker(w) for w in widgets]
        height, width = size
        for key, spin in self.spins.items():
            spin.setRange(0.0, float(width if key[0] == "x" else height))
        self.label.clear()
        self.label.addItems(class_names)
        if box is not None:
            for key, value in zip(COORDINATES, box.box):
                self.spins[key].setValue(value)
            if box.label not in class_names:
                self.label.addItem(box.label)
            self.label.setCurrentText(box.label)
            self.difficult.setChecked(box.difficult)
            self.truncated.setChecked(box.truncated)
        del blockers
        self.setEnabled(box is not None)
        warn = note.startswith("!")
        self.note.setText(note.lstrip("! "))
        self.note.setStyleSheet("QLabel { color: #ff5050; font-weight: bold; }" if warn else "")

    def _emit(self, *_args) -> None:
        if self._box is None:
            return
        # a field showing the old value rounded keeps the exact old value (no spurious edit)
        coordinates = tuple(
            old if abs(self.spins[key].value() - round(old, self.spins[key].decimals())) < 1e-9 else self.spins[key].value()
            for key, old in zip(COORDINATES, self._box.box)
        )
        new = BoxAnnotation(
            label=self.label.currentText(),
            box=coordinates,
            difficult=self.difficult.isChecked(),
            truncated=self.truncated.isChecked(),
            pose=self._box.pose,
        )
        if new != self._box:
            self.edited.emit(new)

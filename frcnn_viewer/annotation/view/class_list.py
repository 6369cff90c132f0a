"""Class list panel: pick the class of new boxes, add, rename, delete and recolour classes.

The panel observes a :class:`~frcnn_viewer.annotation.model.classes.ClassList`. Adding and
recolouring change only the list; picking, renaming and deleting touch boxes too, so the
panel asks the controller with signals (which makes undoable commands of them). Row
``k`` is number key ``k``; the default class (for new boxes) is bold.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..model.classes import ClassList


def swatch(colour: tuple[int, int, int], size: int = 12) -> QtGui.QIcon:
    """A square icon of ``colour``."""
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtGui.QColor(*colour))
    return QtGui.QIcon(pixmap)


class ClassListPanel(QtWidgets.QWidget):
    """The classes, numbered for their keys, each with its colour.

    Signals: ``picked(name)`` a class was chosen (click or Enter); ``rename_requested(old, new)``;
    ``delete_requested(name)``; ``problem(text)`` a name was refused.
    """

    picked = QtCore.Signal(str)
    rename_requested = QtCore.Signal(str, str)
    delete_requested = QtCore.Signal(str)
    problem = QtCore.Signal(str)

    def __init__(self, classes: ClassList, parent=None) -> None:
        super().__init__(parent)
        self.classes = classes
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.list = QtWidgets.QListWidget()
        self.list.setToolTip("Click a class to use it for new boxes and the selected box (or press its number)")
        self.list.itemClicked.connect(lambda item: self.picked.emit(self._name(item)))
        self.list.itemActivated.connect(lambda item: self.picked.emit(self._name(item)))
        column.addWidget(self.list, 1)
        row = QtWidgets.QHBoxLayout()
        for text, slot in (("Add…", self._add_dialog), ("Rename…", self._rename_dialog), ("Delete", self._delete), ("Colour…", self._colour_dialog)):
            button = QtWidgets.QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        column.addLayout(row)
        classes.changed.connect(self.refresh)
        self.refresh()

    @staticmethod
    def _name(item: QtWidgets.QListWidgetItem) -> str:
        return item.data(QtCore.Qt.ItemDataRole.UserRole)

    def current_name(self) -> str | None:
        item = self.list.currentItem()
        return self._name(item) if item is not None else None

    def refresh(self) -> None:
        """Rebuild the rows from the class list, keeping the highlighted row."""
        current = self.current_name()
        blocker = QtCore.QSignalBlocker(self.list)
        self.list.clear()
        for number, name in enumerate(self.classes.names, start=1):
            item = QtWidgets.QListWidgetItem(swatch(self.classes.colour(name)), f"{number if number <= 9 else ' '}  {name}")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
            if name == self.classes.default:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                item.setToolTip("the class of new boxes")
            self.list.addItem(item)
            if name == (current or self.classes.default):
                self.list.setCurrentItem(item)
        del blocker

    def _add_dialog(self) -> None:
        name, ok = QtWidgets.QInputDialog.getText(self, "Add a class", "Class name:")
        if ok:
            try:
                self.picked.emit(self.classes.add(name))
            except ValueError as exc:
                self.problem.emit(str(exc))

    def _rename_dialog(self) -> None:
        old = self.current_name()
        if old is None:
            return
        new, ok = QtWidgets.QInputDialog.getText(self, "Rename a class", f"New name for {old!r}:", text=old)
        if ok and new.strip() != old:
            self.rename_requested.emit(old, new)

    def _delete(self) -> None:
        name = self.current_name()
        if name is not None:
            self.delete_requested.emit(name)

    def _colour_dialog(self) -> None:
        name = self.current_name()
        if name is None:
            return
        colour = QtWidgets.QColorDialog.getColor(QtGui.QColor(*self.classes.colour(name)), self, f"Colour of {name!r}")
        if colour.isValid():
            self.classes.set_colour(name, (colour.red(), colour.green(), colour.blue()))

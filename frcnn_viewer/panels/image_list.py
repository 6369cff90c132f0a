"""Image list: the open images by name, sortable by their errors, to find the worst cases fast."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..state.document import Change, Document

SORT_TITLES = {"order": "List order", "missed": "Most missed GT", "false_positives": "Most false positives", "ap": "Lowest AP"}


class ImageListPanel(QtWidgets.QWidget):
    """Names of the open images; selecting one shows it.

    Sorting by errors needs detections on every image: ``analyse_requested`` asks the
    window to run them (in the worker) when they are missing.
    """

    analyse_requested = QtCore.Signal()

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        column = QtWidgets.QVBoxLayout(self)
        row = QtWidgets.QHBoxLayout()
        self.sort = QtWidgets.QComboBox()
        for key, title in SORT_TITLES.items():
            self.sort.addItem(title, key)
        self.sort.currentIndexChanged.connect(self._sort_changed)
        row.addWidget(QtWidgets.QLabel("Sort"))
        row.addWidget(self.sort, 1)
        self.analyse = QtWidgets.QPushButton("Analyse all")
        self.analyse.setToolTip("Run the model on every image to count its errors")
        self.analyse.clicked.connect(self.analyse_requested.emit)
        row.addWidget(self.analyse)
        column.addLayout(row)
        self.list = QtWidgets.QListWidget()
        self.list.currentItemChanged.connect(self._current_changed)
        column.addWidget(self.list, 1)
        document.changed.connect(self._document_changed)
        document.layers["detections"].changed.connect(lambda _layer, what: what == "score_threshold" and self.refresh())

    def _sort_changed(self) -> None:
        if self.sort.currentData() != "order" and len(self.document.results) < len(self.document.entries):
            self.analyse_requested.emit()
        self.refresh()

    def _document_changed(self, aspects: frozenset) -> None:
        if aspects & {Change.ENTRIES, Change.RESULTS, Change.LIST_FILTER}:
            self.refresh()
        elif Change.IMAGE in aspects:
            self._select_current()

    def refresh(self) -> None:
        """Rebuild the list in the chosen order, each name followed by its error counts."""
        doc = self.document
        threshold = doc.layers["detections"].options["score_threshold"]
        blocker = QtCore.QSignalBlocker(self.list)
        self.list.clear()
        for index in doc.ranked(self.sort.currentData()):
            text = doc.entries[index].name
            result = doc.results.get(index)
            if result is not None and result.matching is not None:
                errors = result.errors(threshold)
                ap = result.matching.average_precision()
                text += f"   missed {errors['missed']}  FP {errors['false_positives']}" + (f"  AP {ap:.2f}" if ap is not None else "")
            elif result is not None:
                text += f"   {int((result.detections.scores >= threshold).sum())} detections"
            item = QtWidgets.QListWidgetItem(text)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, index)
            self.list.addItem(item)
        del blocker
        self._select_current()

    def _select_current(self) -> None:
        blocker = QtCore.QSignalBlocker(self.list)
        for row in range(self.list.count()):
            if self.list.item(row).data(QtCore.Qt.ItemDataRole.UserRole) == self.document.index:
                self.list.setCurrentRow(row)
        del blocker

    def _current_changed(self, item: QtWidgets.QListWidgetItem | None) -> None:
        if item is not None:
            index = item.data(QtCore.Qt.ItemDataRole.UserRole)
            if index != self.document.index and not self.document.set_index(index):
                self._select_current()

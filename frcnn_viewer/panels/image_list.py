"""Image list: the open images as a virtualised table (name, GT, detections, TP, FP, missed,
AP), filtered by name, class or errors and sorted by a click on a column, with thumbnails.

The rows, their order and their numbers are :class:`~frcnn_viewer.state.image_list.ImageListState`
(plain Python); :class:`ImageTableModel` only answers the view's questions about the rows it
paints, so 100 000 images scroll as fast as 10. Thumbnails come from a
:class:`~frcnn_viewer.thumbnails.ThumbnailCache`, decoded off the GUI thread for the rows on
screen.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..state.document import Change, Document
from ..state.image_list import COLUMNS, Column, ImageListState, ListChange
from ..thumbnails import THUMBNAIL_SIDE, ThumbnailCache

ALL_CLASSES = "All classes"
HEADER_TIPS = {
    Column.NAME: "The image's file name (a frame or generated image: its source and number)",
    Column.GT: "Ground-truth boxes",
    Column.DETECTIONS: "Detections at the detections layer's score threshold (after \"Analyse all\")",
    Column.TRUE_POSITIVES: "Detections that found a GT box (VOC matching at IoU 0.5, as frcnn eval)",
    Column.FALSE_POSITIVES: "Detections that found no GT box",
    Column.MISSED: "GT boxes no detection found",
    Column.AP: "The image's own average precision (VOC area), all detections",
    Column.UNCERTAINTY: "The model's uncertainty: the largest entropy (bits) of a detection's class scores; label these first",
}
ROW_PADDING = 4  # pixels above and below a thumbnail
COLUMN_PADDING = 12  # pixels beside a number column's title


class ImageTableModel(QtCore.QAbstractTableModel):
    """The Qt face of an :class:`ImageListState`: rows are listed images, columns :data:`COLUMNS`.

    ``data`` answers from the state's arrays (nothing is read from files); the name column's
    decoration is the thumbnail, asked of ``thumbnails`` only for the rows the view paints.
    """

    ENTRY_ROLE = QtCore.Qt.ItemDataRole.UserRole  # the document entry index of a row

    def __init__(self, state: ImageListState, thumbnails: ThumbnailCache | None, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.thumbnails = thumbnails
        state.about_to_change.connect(self._about_to_change)
        state.changed.connect(self._changed)
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)

    def rowCount(self, parent=QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.state)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QtCore.QModelIndex, role: int = QtCore.Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        column = COLUMNS[index.column()]
        Role = QtCore.Qt.ItemDataRole
        if role == Role.DisplayRole:
            value = self.state.value(index.row(), column)
            if value is None:
                return "" if column is not Column.NAME else None
            return f"{value:.2f}" if isinstance(value, float) else value if isinstance(value, str) else str(value)
        if role == self.ENTRY_ROLE:
            return self.state.entry_index(index.row())
        if role == Role.TextAlignmentRole and column is not Column.NAME:
            return int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        if role == Role.DecorationRole and column is Column.NAME and self.thumbnails is not None:
            entry_index = self.state.entry_index(index.row())
            entry = self.state.document.entries[entry_index]
            return self.thumbnails.thumbnail(thumbnail_key(entry), entry)
        if role == Role.ToolTipRole and column is Column.NAME:
            return self.state.value(index.row(), column)
        return None

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = QtCore.Qt.ItemDataRole.DisplayRole):
        if orientation != QtCore.Qt.Orientation.Horizontal:
            return None
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].value
        if role == QtCore.Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[COLUMNS[section]]
        return None

    def sort(self, column: int, order: QtCore.Qt.SortOrder = QtCore.Qt.SortOrder.AscendingOrder) -> None:
        self.state.sort_by(COLUMNS[column] if column >= 0 else None, order == QtCore.Qt.SortOrder.DescendingOrder)

    def _about_to_change(self, change: ListChange) -> None:
        if change is ListChange.ROWS:
            self.beginResetModel()

    def _changed(self, change: ListChange) -> None:
        if change is ListChange.ROWS:
            self.endResetModel()
        elif len(self.state):
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.state) - 1, len(COLUMNS) - 1))

    def _thumbnail_ready(self, _key) -> None:
        # The view repaints only the rows on screen; one signal for all is cheaper than finding the row.
        if len(self.state):
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.state) - 1, 0), [QtCore.Qt.ItemDataRole.DecorationRole])


def thumbnail_key(entry) -> tuple[int, int]:
    """What names an entry's thumbnail: its source (sources live as long as the document) and index."""
    return id(entry.source), entry.index


class ImageListPanel(QtWidgets.QWidget):
    """The image list and its filter; selecting a row shows the image.

    Sorting or filtering by errors needs detections on every image: ``analyse_requested``
    asks the window to run them (in the worker) when they are missing.
    """

    analyse_requested = QtCore.Signal()

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.state = ImageListState(document)
        self.thumbnails = ThumbnailCache(parent=self)
        self.model = ImageTableModel(self.state, self.thumbnails, self)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(2, 2, 2, 2)
        column.addLayout(self._build_filter_row())
        self.view = self._build_view()
        column.addWidget(self.view, 1)
        self.count_label = QtWidgets.QLabel()
        column.addWidget(self.count_label)
        self.state.changed.connect(self._rows_changed)
        document.changed.connect(self._document_changed)
        self._rows_changed(ListChange.ROWS)

    # ----- layout -------------------------------------------------------------------------
    def _build_filter_row(self) -> QtWidgets.QLayout:
        row = QtWidgets.QHBoxLayout()
        self.filter_text = QtWidgets.QLineEdit()
        self.filter_text.setPlaceholderText("Filter")
        self.filter_text.setToolTip("Keep the images whose name contains this text")
        self.filter_text.setClearButtonEnabled(True)
        self.filter_text.textChanged.connect(lambda text: self.state.set_filter(text=text))
        self.filter_class = QtWidgets.QComboBox()
        self.filter_class.addItem(ALL_CLASSES)
        self.filter_class.setToolTip("Only images with a GT box of this class")
        self.filter_class.currentIndexChanged.connect(self._class_chosen)
        self.errors_only = QtWidgets.QCheckBox("Errors")
        self.errors_only.setToolTip("Only analysed images with a false positive or a missed GT box")
        self.errors_only.toggled.connect(self._errors_toggled)
        self.analyse = QtWidgets.QPushButton("Analyse all")
        self.analyse.setToolTip("Run the model on every image to count its detections and errors")
        self.analyse.clicked.connect(self.analyse_requested.emit)
        row.addWidget(self.filter_text, 2)
        row.addWidget(self.filter_class, 1)
        row.addWidget(self.errors_only)
        row.addWidget(self.analyse)
        return row

    def _build_view(self) -> QtWidgets.QTableView:
        view = QtWidgets.QTableView()
        view.setModel(self.model)
        view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setShowGrid(False)
        view.setWordWrap(False)
        view.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)  # file names differ at the end
        view.setIconSize(QtCore.QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        view.setSortingEnabled(True)
        view.sortByColumn(-1, QtCore.Qt.SortOrder.AscendingOrder)  # list order until a header is clicked
        view.horizontalHeader().setSortIndicatorClearable(True)
        rows = view.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Fixed)  # no size asked of 100 000 rows
        rows.setDefaultSectionSize(THUMBNAIL_SIDE + 2 * ROW_PADDING)
        header = view.horizontalHeader()
        header.sortIndicatorChanged.connect(lambda *_: self._ask_for_results())
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(24)
        for section in range(1, len(COLUMNS)):  # as narrow as their titles: the names keep the room
            header.setSectionResizeMode(section, QtWidgets.QHeaderView.ResizeMode.Interactive)
            header.resizeSection(section, view.fontMetrics().horizontalAdvance(COLUMNS[section].value) + COLUMN_PADDING)
        view.selectionModel().currentRowChanged.connect(self._current_changed)
        view.verticalScrollBar().valueChanged.connect(self._visible_changed)
        return view

    # ----- state to view ------------------------------------------------------------------
    def _document_changed(self, aspects: frozenset) -> None:
        if Change.ENTRIES in aspects:
            self._refresh_classes()
        if Change.IMAGE in aspects:
            self._select_current()

    def _rows_changed(self, change: ListChange) -> None:
        if change is ListChange.ROWS:
            shown, total = len(self.state), self.state.total
            self.count_label.setText(f"{shown} images" if shown == total else f"{shown} of {total} images")
            self._select_current()
            QtCore.QTimer.singleShot(0, self._visible_changed)

    def _refresh_classes(self) -> None:
        current = self.filter_class.currentText()
        blocker = QtCore.QSignalBlocker(self.filter_class)
        self.filter_class.clear()
        self.filter_class.addItems([ALL_CLASSES, *self.state.class_names()])
        self.filter_class.setCurrentText(current)
        del blocker

    def _select_current(self) -> None:
        row = self.state.row_of(self.document.index)
        blocker = QtCore.QSignalBlocker(self.view.selectionModel())
        if row is None:
            self.view.clearSelection()
        else:
            index = self.model.index(row, 0)
            self.view.selectionModel().setCurrentIndex(index, QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect | QtCore.QItemSelectionModel.SelectionFlag.Rows)
            self.view.scrollTo(index)
        del blocker

    def _visible_changed(self, *_args) -> None:
        """Tell the thumbnail cache which rows are on screen: queued decodes of others are dropped."""
        first, last = self.visible_rows()
        entries = self.document.entries
        self.thumbnails.set_wanted(thumbnail_key(entries[self.state.entry_index(row)]) for row in range(first, last + 1))

    def visible_rows(self) -> tuple[int, int]:
        """``(first, last)`` rows on screen (``last < first`` when none)."""
        if not len(self.state):
            return 0, -1
        first = max(self.view.rowAt(0), 0)
        last = self.view.rowAt(self.view.viewport().height() - 1)
        return first, len(self.state) - 1 if last < 0 else last

    # ----- view to state ------------------------------------------------------------------
    def _current_changed(self, current: QtCore.QModelIndex, _previous: QtCore.QModelIndex) -> None:
        if current.isValid():
            index = self.state.entry_index(current.row())
            if index != self.document.index and not self.document.set_index(index):
                self._select_current()

    def _class_chosen(self) -> None:
        name = self.filter_class.currentText()
        self.state.set_filter(class_name=None if name == ALL_CLASSES or not name else name)

    def _errors_toggled(self, on: bool) -> None:
        self.state.set_filter(errors_only=on)
        self._ask_for_results()

    def sort_by(self, column: Column | None, descending: bool = False) -> None:
        """Sort as a click on ``column``'s header does (``None``: list order)."""
        if column is None:
            self.view.sortByColumn(-1, QtCore.Qt.SortOrder.AscendingOrder)
        else:
            order = QtCore.Qt.SortOrder.DescendingOrder if descending else QtCore.Qt.SortOrder.AscendingOrder
            self.view.sortByColumn(COLUMNS.index(column), order)

    def _ask_for_results(self) -> None:
        if self.state.needs_results:
            self.analyse_requested.emit()

    def shutdown(self) -> None:
        """Stop decoding thumbnails (the window is closing)."""
        self.thumbnails.shutdown()


"""The image list as plain state: which of the document's images are listed, in which order,
and the numbers shown for each. No Qt: the list panel's table model reads it.

Every number is held as a column over all ``N`` entries (numpy arrays; the names as a list),
so filtering and sorting 100 000 images is a few vectorised passes, and a row of the table
is answered by indexing, without touching a file:

- name, GT count and GT classes: from each source's :class:`~.sources.Catalogue` (read once,
  when the source was opened), and from the document's image while it is edited;
- detections, TP, FP, missed and AP: from the document's "analyse all" results, at the
  detections layer's score threshold, as the document counts them
  (:meth:`~.results.ImageResult.errors`).

Sorting by missed GT, false positives or AP is :meth:`Document.ranked`'s order (the one
truth of error sorts); the other columns sort by their values, images without one last.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum

import numpy as np

from .document import Change, Document
from .events import Event


class Column(Enum):
    """The list's columns, in display order; the value is the header."""

    NAME = "name"
    GT = "GT"
    DETECTIONS = "det."
    TRUE_POSITIVES = "TP"
    FALSE_POSITIVES = "FP"
    MISSED = "missed"
    AP = "AP"
    UNCERTAINTY = "uncert."


COLUMNS = tuple(Column)
# Error columns sort as Document.ranked orders them: key, and whether worst-first is descending.
RANKED = {
    Column.MISSED: ("missed", True), Column.FALSE_POSITIVES: ("false_positives", True), Column.AP: ("ap", False),
    Column.UNCERTAINTY: ("uncertainty", True),
}
# Columns of per-image result counts, in the order of ImageListState's result array.
RESULT_COLUMNS = (Column.DETECTIONS, Column.TRUE_POSITIVES, Column.FALSE_POSITIVES, Column.MISSED)
_ERROR_KEYS = {Column.TRUE_POSITIVES: "true_positives", Column.FALSE_POSITIVES: "false_positives", Column.MISSED: "missed"}


class ListChange(Enum):
    """What :attr:`ImageListState.changed` announces."""

    ROWS = "rows"  # which entries are listed, or their order
    VALUES = "values"  # the numbers of listed rows; the rows stay


@dataclass(frozen=True)
class ListFilter:
    """Which images are listed.

    Attributes:
        text: part of the name (case-insensitive; empty: any name).
        class_name: only images with a GT box of this class (``None``: any).
        errors_only: only analysed images with a false positive or a missed GT box.
    """

    text: str = ""
    class_name: str | None = None
    errors_only: bool = False


class ImageListState:
    """Rows of the image list over ``document.entries`` (see the module docstring).

    Attributes:
        rows: ``[R]`` int64 entry indices listed, in display order.
        filter: the :class:`ListFilter` applied.
        sort_column: the :class:`Column` sorted by (``None``: list order); descending: its direction.
        changed: :class:`~.events.Event` emitted with a :class:`ListChange`; ``about_to_change``
            is emitted, with the same value, just before :attr:`rows` is replaced (a Qt model
            resets around it).
    """

    def __init__(self, document: Document) -> None:
        self.document = document
        self.filter = ListFilter()
        self.sort_column: Column | None = None
        self.descending = False
        self.rows = np.zeros(0, np.int64)
        self.changed = Event()
        self.about_to_change = Event()
        self._names: list[str] = []
        self._folded: list[str] | None = None  # casefolded names, made for the first text filter
        self._gt_counts = np.zeros(0)  # [N] float, nan for images of unannotated sources
        self._gt_image = np.zeros(0, np.int64)  # [B] entry of each GT box
        self._gt_class = np.zeros(0, np.int64)  # [B] index in self._classes
        self._classes: dict[str, int] = {}
        self._edited: dict[int, frozenset[str]] = {}  # GT classes of images edited since opening
        self._results = np.zeros((0, len(RESULT_COLUMNS)))  # [N, 4] float, nan without results
        self._ap = np.zeros(0)  # [N] float, nan without an AP
        self._uncertainty = np.zeros(0)  # [N] float bits, nan without results
        self._name_order: np.ndarray | None = None
        document.changed.connect(self._document_changed)
        self._append(0)
        self._count_results()
        self._update_rows()

    # ----- what the table shows ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    @property
    def total(self) -> int:
        """All images of the document, listed or not."""
        return len(self._names)

    def entry_index(self, row: int) -> int:
        return int(self.rows[row])

    def row_of(self, entry_index: int | None) -> int | None:
        """The row listing entry ``entry_index`` (``None``: filtered out, or no such entry)."""
        if entry_index is None:
            return None
        found = np.flatnonzero(self.rows == entry_index)
        return int(found[0]) if len(found) else None

    def value(self, row: int, column: Column) -> str | int | float | None:
        """What row ``row`` shows in ``column``: the name, a count, an AP, or ``None`` (unknown)."""
        index = int(self.rows[row])
        if column is Column.NAME:
            return self._names[index]
        if column is Column.GT:
            count = self._gt_counts[index]
            return None if np.isnan(count) else int(count)
        if column in (Column.AP, Column.UNCERTAINTY):
            value = self._values(column)[index]
            return None if np.isnan(value) else float(value)
        count = self._results[index, RESULT_COLUMNS.index(column)]
        return None if np.isnan(count) else int(count)

    def class_names(self) -> list[str]:
        """Every class with a GT box in the list, for the class filter."""
        return sorted(self._classes)

    # ----- what the user chooses ---------------------------------------------------------
    def set_filter(self, **changes) -> None:
        """Change :class:`ListFilter` fields (``text``, ``class_name``, ``errors_only``)."""
        wanted = dataclasses.replace(self.filter, **changes)
        if wanted != self.filter:
            self.filter = wanted
            self._update_rows()

    def sort_by(self, column: Column | None, descending: bool = False) -> None:
        """Order the rows by ``column`` (``None``: list order)."""
        if (column, descending) != (self.sort_column, self.descending):
            self.sort_column, self.descending = column, descending
            self._update_rows()

    @property
    def needs_results(self) -> bool:
        """Whether the sort or filter asks for "analyse all" results that are missing."""
        wants = self.filter.errors_only or self.sort_column in RANKED or self.sort_column in RESULT_COLUMNS
        return wants and len(self.document.results) < len(self.document.entries)

    # ----- following the document --------------------------------------------------------
    def _document_changed(self, aspects: frozenset) -> None:
        if Change.DISPLAY_THRESHOLD in aspects:
            self._threshold_changed()
        rows_change = False
        if Change.ENTRIES in aspects:
            if len(self.document.entries) < len(self._names):  # not appended: start over
                self._clear()
            self._append(len(self._names))
            rows_change = True
        if aspects & {Change.RESULTS, Change.ENTRIES}:
            self._count_results()
            rows_change = rows_change or self._results_matter()
        if Change.ANCHORS in aspects and self._follow_edits():  # the image's GT was edited (annotation)
            rows_change = rows_change or self.filter.class_name is not None or self.sort_column is Column.GT
            if not rows_change:
                self.changed.emit(ListChange.VALUES)
        if Change.LIST_FILTER in aspects:  # the diagnosis panel picked (or dropped) a stage or FP type
            rows_change = True
        if rows_change:
            self._update_rows()
        elif Change.RESULTS in aspects:
            self.changed.emit(ListChange.VALUES)

    def _threshold_changed(self) -> None:
        """The display threshold moved: the counts of detections, TP, FP and missed follow."""
        self._count_results()
        if self._results_matter():
            self._update_rows()
        else:
            self.changed.emit(ListChange.VALUES)

    def _results_matter(self) -> bool:
        """Whether the rows (not only their numbers) depend on the results."""
        return self.filter.errors_only or self.sort_column in RANKED or self.sort_column in RESULT_COLUMNS

    def _clear(self) -> None:
        self._names, self._folded = [], None
        self._gt_counts, self._gt_image, self._gt_class = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)
        self._classes, self._edited = {}, {}

    def _append(self, start: int) -> None:
        """Take the names, GT counts and classes of entries ``start:`` from their sources'
        catalogues: a whole source at a time where the document holds its entries in order."""
        entries = self.document.entries
        counts, images, classes = [self._gt_counts], [self._gt_image], [self._gt_class]
        position = start
        while position < len(entries):
            source = entries[position].source
            run = source.entries
            end = position + len(run) - 1  # add_sources appends a source's entries in one run
            whole = entries[position].index == 0 and end < len(entries) and entries[end] is run[-1]
            picked = np.arange(len(run)) if whole else np.array([entries[position].index])
            catalogue = source.catalogue
            names = catalogue.names if whole else [entries[position].name]
            self._names += names
            gt = catalogue.gt_counts[picked].astype(np.float64)
            counts.append(gt if source.annotated else np.full(len(picked), np.nan))
            boxes = np.arange(len(catalogue.gt_image)) if whole else np.flatnonzero(catalogue.gt_image == picked[0])
            ids = np.array([self._class_id(name) for name in source.class_names], dtype=np.int64)
            labels = catalogue.gt_label[boxes]
            known = (labels >= 1) & (labels <= len(ids))
            images.append(position + (catalogue.gt_image[boxes[known]] - (0 if whole else picked[0])))
            classes.append(ids[labels[known] - 1])
            position += len(picked)
        self._gt_counts = np.concatenate(counts)
        self._gt_image, self._gt_class = np.concatenate(images).astype(np.int64), np.concatenate(classes).astype(np.int64)
        self._name_order = self._folded = None

    def _class_id(self, name: str) -> int:
        return self._classes.setdefault(name, len(self._classes))

    def _follow_edits(self) -> bool:
        """Take the current image's GT (edited while annotating) into its row; ``True`` if it changed."""
        doc = self.document
        if doc.image is None or doc.index is None or not doc.image.annotated or doc.index >= len(self._names):
            return False
        names = frozenset(doc.image.gt_names)
        count = float(len(doc.image.gt_names))
        if self._gt_counts[doc.index] == count and self._edited.get(doc.index, names) == names:
            return False
        self._gt_counts[doc.index] = count
        for name in names:
            self._class_id(name)
        self._edited[doc.index] = names
        return True

    def _count_results(self) -> None:
        doc = self.document
        threshold = doc.display_threshold
        self._results = np.full((len(self._names), len(RESULT_COLUMNS)), np.nan)
        self._ap = np.full(len(self._names), np.nan)
        self._uncertainty = np.full(len(self._names), np.nan)
        for index, result in doc.results.items():
            if index >= len(self._names):
                continue
            self._uncertainty[index] = result.uncertainty
            self._results[index, 0] = int((result.detections.scores >= threshold).sum())
            if result.matching is not None:
                errors = result.errors(threshold)
                self._results[index, 1:] = [errors[_ERROR_KEYS[c]] for c in RESULT_COLUMNS[1:]]
                ap = result.matching.average_precision()
                self._ap[index] = np.nan if ap is None else ap

    # ----- rows ----------------------------------------------------------------------------
    def _update_rows(self) -> None:
        order = self._order()
        rows = order[self._mask()[order]]
        self.about_to_change.emit(ListChange.ROWS)
        self.rows = rows
        self.changed.emit(ListChange.ROWS)

    def _mask(self) -> np.ndarray:
        """``[N]`` bool: the entries the filter lets through."""
        wanted = self.filter
        mask = np.ones(len(self._names), bool)
        text = wanted.text.strip().casefold()
        if text:
            mask &= np.fromiter((text in name for name in self._casefolded()), bool, len(self._names))
        if wanted.class_name is not None:
            mask &= self._has_class(wanted.class_name)
        if wanted.errors_only:
            errors = self._results[:, RESULT_COLUMNS.index(Column.FALSE_POSITIVES)] + self._results[:, RESULT_COLUMNS.index(Column.MISSED)]
            mask &= errors > 0  # nan (not analysed, or no GT) compares False
        return mask

    def _casefolded(self) -> list[str]:
        if self._folded is None:
            self._folded = [name.casefold() for name in self._names]
        return self._folded

    def _has_class(self, name: str) -> np.ndarray:
        has = np.zeros(len(self._names), bool)
        class_id = self._classes.get(name)
        if class_id is not None:
            has[self._gt_image[self._gt_class == class_id]] = True
        for index, names in self._edited.items():
            has[index] = name in names
        return has

    def _order(self) -> np.ndarray:
        """``[N]`` all entry indices in the sort order; while the document's list is filtered by
        a diagnosis stage or false-positive type, only the images that hold one, most first."""
        if self.document.list_filter is not None:
            return np.array(self.document.ranked("order"), dtype=np.int64)
        column, count = self.sort_column, len(self._names)
        if column is None:
            return np.arange(count)
        if column is Column.NAME:
            if self._name_order is None:
                self._name_order = np.array(sorted(range(count), key=self._casefolded().__getitem__), dtype=np.int64)
            return self._name_order[::-1] if self.descending else self._name_order
        if column in RANKED:
            key, worst_descending = RANKED[column]
            ranked = np.array(self.document.ranked(key), dtype=np.int64)
            if self.descending == worst_descending:
                return ranked
            # best first: the images ranked sorts, by the same values the other way (ties in list order)
            values = self._values(column)[ranked]
            known = ~np.isnan(values)
            best_first = np.argsort(values[known] if worst_descending else -values[known], kind="stable")
            return np.concatenate([ranked[known][best_first], ranked[~known]])
        values = self._values(column)
        order = np.argsort(-values if self.descending else values, kind="stable")  # nan sorts last either way
        return order.astype(np.int64)

    def _values(self, column: Column) -> np.ndarray:
        """``[N]`` float values of a numeric column (nan: unknown)."""
        if column is Column.GT:
            return self._gt_counts
        if column is Column.AP:
            return self._ap
        if column is Column.UNCERTAINTY:
            return self._uncertainty
        return self._results[:, RESULT_COLUMNS.index(column)]

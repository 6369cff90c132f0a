"""Diagnosis panel: why were GT boxes missed, what are the false positives, over the analysed list.

Shows :meth:`Document.diagnosis_summary` (the verdicts of :mod:`frcnn_core.evaluation.diagnose` over
every image "Analyse all" has diagnosed) as a funnel (how many GT boxes reach each stage of
the detector, the ones lost there in the stage's colour) and as two tables of counts, per
miss stage and per false-positive type. Beside the funnel, two bar charts say what fixing
each error is worth (:attr:`Document.costs`, the mAP@0.5 gained per TIDE error type and per
miss stage, added up in the worker), the biggest lever on top. Clicking a stage or a type (a table row, or a lost
part of the funnel) filters the image list to the images that hold one, the most first.
The IoU and score threshold of the rule are edited here; the current image's verdict
follows at once, the list's after the worker has diagnosed it again.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from frcnn_core.evaluation.diagnose import MISS_STAGES, ErrorCosts, FalsePositiveType, Stage, funnel
from frcnn_core.evaluation.tide import TideError

from ..state.diagnosis import OPERATING_SCORE_TIP, DiagnosisSummary, ErrorKind
from ..state.document import Change, Document

REACHED_COLOUR = (0, 200, 120)
LOST_COLOUR = (255, 0, 255)
COST_COLOURS = {"tide": (230, 140, 20), "stages": LOST_COLOUR}
BAR_HEIGHT = 0.7
STAGE_ROWS: list[ErrorKind] = [*MISS_STAGES, Stage.DETECTED]
FALSE_POSITIVE_ROWS: list[ErrorKind] = list(FalsePositiveType)


def _table(headers: tuple[str, str], kinds: list[ErrorKind]) -> QtWidgets.QTableWidget:
    table = QtWidgets.QTableWidget(len(kinds), 2)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
    table.horizontalHeader().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    for row, kind in enumerate(kinds):
        name = QtWidgets.QTableWidgetItem(f"{kind.value}: {kind.description}" if kind.value != kind.description else kind.value)
        count = QtWidgets.QTableWidgetItem("–")
        count.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        table.setItem(row, 0, name)
        table.setItem(row, 1, count)
    table.setMinimumHeight(table.verticalHeader().defaultSectionSize() * (len(kinds) + 1) + 4)
    return table


class CostChart(pg.PlotWidget):
    """Horizontal bars of ``(name, mAP gained)``, the largest on top, each with its value."""

    def __init__(self, title: str, colour: tuple[int, int, int], rows: int) -> None:
        super().__init__(background="w")
        self.setMinimumHeight(20 + 10 * rows)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.getViewBox().invertY(True)
        self.setLabel("bottom", title)
        self.getAxis("bottom").enableAutoSIPrefix(False)  # mAP fractions, not "x0.001"
        self.bars = pg.BarGraphItem(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=pg.mkBrush(colour), pen=None)
        self.addItem(self.bars)
        self.texts: list[pg.TextItem] = []
        self.shown: list[tuple[str, float]] = []

    def show_values(self, values: list[tuple[str, float]]) -> None:
        """Draw ``values`` (already sorted, largest first)."""
        self.shown = list(values)
        rows = list(range(len(values)))
        widths = [value for _, value in values]
        self.bars.setOpts(x0=[0.0] * len(rows), y=rows, width=widths, height=BAR_HEIGHT)
        self.getAxis("left").setTicks([[(k, name) for k, (name, _) in enumerate(values)]])
        for text in self.texts:
            self.removeItem(text)
        self.texts = []
        for k, value in enumerate(widths):
            text = pg.TextItem(f"+{value:.3f}", color=(30, 30, 30), anchor=(0, 0.5))
            text.setPos(value, k)
            self.addItem(text)
            self.texts.append(text)
        self.setXRange(0, max([0.01, *widths]) * 1.6, padding=0)  # room for the values
        self.setYRange(-0.6, max(len(rows), 1) - 0.4, padding=0)


def _largest_first(values: dict) -> list[tuple[str, float]]:
    return sorted(((key.value, float(value)) for key, value in values.items()), key=lambda pair: -pair[1])


class DiagnosisPanel(QtWidgets.QScrollArea):
    """The dock's content (scrolls rather than pushing the window's layout). ``analyse_requested``
    asks the window to diagnose the list (in the worker)."""

    analyse_requested = QtCore.Signal()

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWidgetResizable(True)
        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(self._build_controls())
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        self.current = QtWidgets.QLabel()
        self.current.setObjectName("diagnosis_current")
        self.current.setWordWrap(True)
        column.addWidget(self.current)
        row = QtWidgets.QHBoxLayout()
        self.filter_label = QtWidgets.QLabel()
        self.show_all = QtWidgets.QPushButton("Show all images")
        self.show_all.clicked.connect(lambda: self.filter_by(None))
        row.addWidget(self.filter_label, 1)
        row.addWidget(self.show_all)
        column.addLayout(row)
        self.plot = self._build_funnel()
        beside = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        beside.setChildrenCollapsible(False)
        beside.addWidget(self.plot)
        beside.addWidget(self._build_costs())
        beside.setStretchFactor(0, 3)
        beside.setStretchFactor(1, 2)
        column.addWidget(beside, 1)
        self.stage_table = _table(("GT boxes by stage (click: list images)", "GT"), STAGE_ROWS)
        self.stage_table.setObjectName("diagnosis_stages")
        self.fp_table = _table(("False positives by type", "FP"), FALSE_POSITIVE_ROWS)
        self.fp_table.setObjectName("diagnosis_false_positives")
        self._rows = ((self.stage_table, STAGE_ROWS), (self.fp_table, FALSE_POSITIVE_ROWS))
        tables = QtWidgets.QHBoxLayout()
        for table, kinds in self._rows:
            table.cellClicked.connect(lambda row, _column, kinds=kinds: self.filter_by(kinds[row]))
            tables.addWidget(table, 1)
        column.addLayout(tables)
        self.setWidget(body)
        document.changed.connect(self._document_changed)
        self.refresh()

    # ----- building ---------------------------------------------------------------------
    def _build_controls(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        settings = self.document.diagnosis_settings
        self.iou = QtWidgets.QDoubleSpinBox()
        self.iou.setRange(0.05, 1.0)
        self.iou.setSingleStep(0.05)
        self.iou.setDecimals(2)
        self.iou.setValue(settings.iou)
        self.iou.setToolTip("Least IoU that reaches a GT box, at every stage and in matching")
        self.score = QtWidgets.QDoubleSpinBox()
        self.score.setRange(0.0, 1.0)
        self.score.setSingleStep(0.05)
        self.score.setDecimals(2)
        self.score.setValue(settings.score_threshold)
        self.score.setToolTip(OPERATING_SCORE_TIP)
        for spin in (self.iou, self.score):
            spin.setKeyboardTracking(False)  # apply when the value is complete, not per keystroke
            spin.valueChanged.connect(self._settings_edited)
        self.analyse = QtWidgets.QPushButton("Diagnose all")
        self.analyse.setToolTip("Trace every image once (in the background) and diagnose it")
        self.analyse.clicked.connect(self.analyse_requested.emit)
        row.addWidget(QtWidgets.QLabel("IoU"))
        row.addWidget(self.iou)
        score_label = QtWidgets.QLabel("Operating score ≥")
        score_label.setToolTip(OPERATING_SCORE_TIP)
        row.addWidget(score_label)
        row.addWidget(self.score)
        row.addStretch(1)
        row.addWidget(self.analyse)
        return row

    def _build_funnel(self) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setObjectName("diagnosis_funnel")
        plot.setMinimumHeight(150)
        plot.setMaximumHeight(300)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.getViewBox().invertY(True)
        plot.setLabel("bottom", "GT boxes that reach each step (magenta: lost there)")
        steps = funnel({})
        plot.getAxis("left").setTicks([[(k, name) for k, (name, _) in enumerate(steps)]])
        self.reached_bars = pg.BarGraphItem(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=pg.mkBrush(REACHED_COLOUR), pen=None)
        self.lost_bars = pg.BarGraphItem(x0=[], y=[], height=BAR_HEIGHT, width=[], brush=pg.mkBrush(LOST_COLOUR), pen=None)
        plot.addItem(self.reached_bars)
        plot.addItem(self.lost_bars)
        self.count_texts = []
        for k in range(len(steps)):
            text = pg.TextItem("", color=(30, 30, 30), anchor=(0, 0.5))
            text.setPos(0, k)
            plot.addItem(text)
            self.count_texts.append(text)
        plot.scene().sigMouseClicked.connect(self._funnel_clicked)
        return plot

    def _build_costs(self) -> QtWidgets.QWidget:
        box = QtWidgets.QWidget()
        box.setObjectName("diagnosis_costs")
        column = QtWidgets.QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.costs_label = QtWidgets.QLabel()
        self.costs_label.setWordWrap(True)
        self.costs_label.setToolTip(
            "TIDE's dAP: the mAP@0.5 (every detection, TIDE's AP) gained if every error of a type were fixed; "
            "per stage, if the boxes lost there that no detection took left the positives"
        )
        self.tide_chart = CostChart("TIDE's error types", COST_COLOURS["tide"], len(TideError))
        self.tide_chart.setObjectName("diagnosis_tide_costs")
        self.stage_chart = CostChart("misses, by stage", COST_COLOURS["stages"], len(MISS_STAGES))
        self.stage_chart.setObjectName("diagnosis_stage_costs")
        column.addWidget(self.costs_label)
        column.addWidget(self.tide_chart, 1)
        column.addWidget(self.stage_chart, 1)
        return box

    # ----- user intent ------------------------------------------------------------------
    def _settings_edited(self) -> None:
        if not self.document.set_diagnosis_settings(self.iou.value(), self.score.value()):
            self._show_settings()

    def filter_by(self, kind: ErrorKind | None) -> None:
        """Show in the image list only the images holding ``kind`` (``None``: all images);
        diagnoses the list first if it has not been."""
        if kind is not None and not self.document.diagnosed():
            self.analyse_requested.emit()
        self.document.set_list_filter(kind)

    def _funnel_clicked(self, event) -> None:
        point = self.plot.getViewBox().mapSceneToView(event.scenePos())
        step = round(point.y())
        if 1 <= step <= len(MISS_STAGES) and point.x() >= 0:
            self.filter_by(MISS_STAGES[step - 1])

    # ----- observing the document -----------------------------------------------------
    def _document_changed(self, aspects: frozenset) -> None:
        if aspects & {Change.RESULTS, Change.DIAGNOSIS, Change.LIST_FILTER, Change.MODEL, Change.ENTRIES}:
            self.refresh()
        elif Change.COSTS in aspects:
            self._show_costs()

    def _show_settings(self) -> None:
        settings = self.document.diagnosis_settings
        blockers = [QtCore.QSignalBlocker(w) for w in (self.iou, self.score)]
        self.iou.setValue(settings.iou)
        self.score.setValue(settings.score_threshold)
        del blockers

    def refresh(self) -> None:
        """Show the document's diagnosis settings, summary, current image and filter."""
        doc = self.document
        self._show_settings()
        summary = doc.diagnosis_summary()
        stale = len(doc.stale_diagnoses())
        analysed = len(doc.results)
        if analysed:
            text = f"{summary.images} images with GT diagnosed ({analysed} of {len(doc.entries)} analysed)"
            self.status.setText(text + (f"; {stale} being diagnosed again at the new settings" if stale else ""))
        else:
            self.status.setText("Diagnose all (or Analyse all) to count over the whole list.")
        self._show_current()
        self._show_counts(summary)
        self._show_costs()
        kind = doc.list_filter
        self.filter_label.setText("" if kind is None else f"Images with {kind.value} ({kind.description}): {len(doc.ranked('order'))}")
        self.show_all.setEnabled(kind is not None)

    def _show_current(self) -> None:
        diagnosis = self.document.diagnosis
        if diagnosis is None:
            self.current.setText("This image: no diagnosis (it needs GT and a trace).")
            return
        stages = [f"{n} {stage.description}" for stage, n in diagnosis.stage_counts().items() if n]
        kinds = [f"{n} {kind.description}" for kind, n in diagnosis.false_positive_counts().items() if n]
        self.current.setText(f"This image: GT {', '.join(stages) or 'none'}; false positives: {', '.join(kinds) or 'none'}.")

    def _show_counts(self, summary: DiagnosisSummary) -> None:
        for (table, kinds), counts in zip(self._rows, (summary.stages, summary.false_positives)):
            for row, kind in enumerate(kinds):
                table.item(row, 1).setText(str(counts[kind]))
                table.item(row, 0).setSelected(kind is self.document.list_filter)
        steps = funnel(summary.stages)
        reached = [count for _, count in steps]
        lost = [0] + [reached[k - 1] - reached[k] for k in range(1, len(reached))]
        rows = list(range(len(steps)))
        self.reached_bars.setOpts(x0=[0] * len(rows), y=rows, width=reached, height=BAR_HEIGHT)
        self.lost_bars.setOpts(x0=reached, y=rows, width=lost, height=BAR_HEIGHT)
        for text, n, gone in zip(self.count_texts, reached, lost):
            text.setText(f"{n}" + (f"  (-{gone})" if gone else ""))
            text.setPos(n + gone, text.pos().y())
        self.plot.setXRange(0, max(1, reached[0]) * 1.4, padding=0)  # room for the counts
        self.plot.setYRange(-0.6, len(rows) - 0.4, padding=0)

    def _show_costs(self) -> None:
        doc = self.document
        costs: ErrorCosts | None = doc.costs if doc.costs_current() else None
        if costs is None:
            self.costs_label.setText("What fixing each error is worth: being added up…" if doc.diagnosed() else "What fixing each error is worth: diagnose the list first.")
            self.tide_chart.show_values([])
            self.stage_chart.show_values([])
            return
        self.costs_label.setText(f"mAP@0.5 gained if fixed (TIDE's mAP@0.5 now {costs.map50:.3f}):")
        self.tide_chart.show_values(_largest_first(costs.tide))
        self.stage_chart.show_values(_largest_first(costs.stages))

    def cost_bars(self) -> dict[str, list[tuple[str, float]]]:
        """What the two charts draw, top to bottom: ``{"tide": [(type, value)], "stages": [(stage, value)]}``."""
        return {
            key: [(name, float(width)) for (name, _), width in zip(chart.shown, chart.bars.opts["width"])]
            for key, chart in (("tide", self.tide_chart), ("stages", self.stage_chart))
        }

    def counts(self) -> dict[str, dict[str, int]]:
        """What the tables show, as ``{"gt": {stage: n}, "false_positives": {type: n}}`` (the
        shape of a ``frcnn diagnose`` report's ``summary``)."""
        return {
            key: {kind.value: int(table.item(row, 1).text()) for row, kind in enumerate(kinds)}
            for key, (table, kinds) in zip(("gt", "false_positives"), self._rows)
        }

    def row_of(self, kind: ErrorKind) -> tuple[QtWidgets.QTableWidget, int]:
        """The table and row that show ``kind``."""
        table, kinds = self._rows[0] if isinstance(kind, Stage) else self._rows[1]
        return table, kinds.index(kind)

"""Anchor designer: how well the current anchors cover every GT box of the open images, live.

The panel shows the three figures of ``frcnn anchors`` (share of GT boxes whose best usable
anchor reaches IoU 0.7 and 0.5, the median best IoU), a histogram of the best IoUs, and the
GT boxes' widths and heights in network-input pixels with the anchor shapes over them. Every
edit of the scales, ratios, stride, input size or border rule (the parameter panel) asks a
worker thread for new figures; "Optimise" runs the optimiser there and puts the anchors it
finds into the parameters. The GUI thread only draws (:mod:`frcnn_viewer.state.anchor_design`
does the work).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from frcnn_core.anchors.coverage import HISTOGRAM_BINS

from ..running_threads import RUNNING
from ..state.anchor_design import AnchorDesign, AnchorDesigner, DesignRequest, layout_of
from ..state.document import Change, Document

REFRESH_DELAY_MS = 30  # edits closer together than this are measured once
BOX_COLOUR, ANCHOR_COLOUR = (80, 170, 255, 90), (255, 140, 0, 255)


class AnchorDesignWorker(QtCore.QObject):
    """Answers :class:`DesignRequest` s in its own thread, newest first (older ones are skipped)."""

    designed = QtCore.Signal(object)  # AnchorDesign
    failed = QtCore.Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.latest_key = 0  # set by the panel: requests older than this are not worth answering
        self.designer = AnchorDesigner()

    @QtCore.Slot(object)
    def answer(self, request: DesignRequest) -> None:
        if request.key < self.latest_key and not request.optimise:
            return
        try:
            self.designed.emit(self.designer.design(request))
        except Exception as exc:  # a bad layout must not end the thread
            self.failed.emit(f"anchor design failed: {exc}")


class AnchorDesignerPanel(QtWidgets.QWidget):
    """The figures, histogram, size scatter and "Optimise" button (see the module docstring)."""

    _request = QtCore.Signal(object)
    shown = QtCore.Signal(int)  # the key of the answer now drawn

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.design: AnchorDesign | None = None
        self._key = 0
        self._entries_version = 0  # changes with the image list: the worker then reads the GT boxes again
        self.figures = QtWidgets.QLabel("No annotated images open.")
        self.figures.setWordWrap(True)
        self.optimise_button = QtWidgets.QPushButton("Optimise anchors")
        self.optimise_button.setToolTip("Search scales and ratios (as many as now) that cover the GT boxes better; never worse")
        self.optimise_button.clicked.connect(self.optimise)
        self.histogram = pg.PlotWidget(title="Best anchor IoU of each GT box")
        self.histogram.setMinimumHeight(120)
        self.histogram.setLabel("bottom", "IoU")
        self.bars = pg.BarGraphItem(x0=np.zeros(0), x1=np.zeros(0), height=np.zeros(0), brush=(80, 170, 255))
        self.histogram.addItem(self.bars)
        for iou in (0.5, 0.7):
            self.histogram.addItem(pg.InfiniteLine(iou, pen=pg.mkPen((200, 200, 200), style=QtCore.Qt.PenStyle.DashLine)))
        self.scatter = pg.PlotWidget(title="GT boxes (blue) and anchors (orange), input pixels")
        self.scatter.setMinimumHeight(140)
        self.scatter.setLabel("bottom", "width")
        self.scatter.setLabel("left", "height")
        self.scatter.setLogMode(True, True)
        self.boxes = pg.ScatterPlotItem(size=4, pen=None, brush=BOX_COLOUR)
        self.anchors = pg.ScatterPlotItem(size=12, symbol="s", pen=pg.mkPen(ANCHOR_COLOUR, width=2), brush=None)
        self.scatter.addItem(self.boxes)
        self.scatter.addItem(self.anchors)
        column = QtWidgets.QVBoxLayout(self)
        column.addWidget(self.figures)
        column.addWidget(self.optimise_button)
        column.addWidget(self.histogram, 1)
        column.addWidget(self.scatter, 1)

        self.thread = QtCore.QThread()
        self.thread.setObjectName("frcnn-anchor-design")
        self.worker = AnchorDesignWorker()
        self.worker.moveToThread(self.thread)
        self._request.connect(self.worker.answer)
        self.worker.designed.connect(self._designed)
        self.worker.failed.connect(self._failed)
        self.thread.start()
        RUNNING.add(self)
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        document.changed.connect(self._document_changed)
        self.refresh()

    # ----- requests ---------------------------------------------------------------------
    def refresh(self, optimise: bool = False) -> int:
        """Ask for the coverage of the current parameters (and optimised anchors); returns the request's key."""
        self._timer.stop()  # this request covers any edit still waiting
        self._key += 1
        self.worker.latest_key = self._key
        entries = list(self.document.entries)  # the worker reads this copy, never the document's list
        self._request.emit(DesignRequest(self._key, entries, self._entries_version, layout_of(self.document.parameters), optimise))
        if optimise:
            self.optimise_button.setEnabled(False)
            self.optimise_button.setText("Optimising…")
        return self._key

    def optimise(self) -> int:
        return self.refresh(optimise=True)

    def _document_changed(self, aspects: frozenset) -> None:
        if Change.ENTRIES in aspects:
            self._entries_version += 1
        if aspects & {Change.ENTRIES, Change.PARAMS}:
            self._timer.start()

    # ----- answers ----------------------------------------------------------------------
    def _designed(self, answer: AnchorDesign) -> None:
        if answer.search is not None:
            self.optimise_button.setEnabled(True)
            self.optimise_button.setText("Optimise anchors")
            self._adopt(answer)
        if answer.key != self._key:
            return
        self.design = answer
        self._draw(answer)
        self.shown.emit(answer.key)

    def _adopt(self, answer: AnchorDesign) -> None:
        search = answer.search
        if not search.improved:
            self.document.report("info", "no anchors found that cover the GT boxes better; the current ones are kept")
            return
        start, result = search.start, search.result
        self.document.report(
            "info",
            f"optimised anchors: IoU >= 0.5 for {100 * start.share_at_least(0.5):.1f}% -> {100 * result.share_at_least(0.5):.1f}% of the GT boxes, "
            f">= 0.7 {100 * start.share_at_least(0.7):.1f}% -> {100 * result.share_at_least(0.7):.1f}%",
        )
        layout = search.layout
        self.document.set_parameters(anchor_scales=tuple(layout.anchor_scales), anchor_ratios=tuple(layout.anchor_ratios))

    def _failed(self, text: str) -> None:
        self.optimise_button.setEnabled(True)
        self.optimise_button.setText("Optimise anchors")
        self.document.report("error", text)

    def _draw(self, answer: AnchorDesign) -> None:
        coverage = answer.coverage
        if coverage.gt_boxes == 0:
            self.figures.setText("No annotated GT boxes in the open images.")
        else:
            self.figures.setText(
                f"{coverage.gt_boxes} GT boxes: {100 * coverage.share_at_least(0.7):.1f}% have an anchor of IoU ≥ 0.7, "
                f"{100 * coverage.share_at_least(0.5):.1f}% ≥ 0.5; median best IoU {coverage.median_iou:.2f}"
            )
        counts = coverage.histogram().numpy()
        edges = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
        self.bars.setOpts(x0=edges[:-1], x1=edges[1:], height=counts)
        sizes = answer.box_sizes[(answer.box_sizes > 0).all(axis=1)]
        self.boxes.setData(x=sizes[:, 0], y=sizes[:, 1])
        self.anchors.setData(x=answer.anchor_sizes[:, 0], y=answer.anchor_sizes[:, 1])

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop the thread once its current request ends (called when the window closes)."""
        self.thread.quit()
        self.thread.wait(timeout_ms)
        RUNNING.discard(self)

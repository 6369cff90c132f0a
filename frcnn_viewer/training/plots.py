"""Live curves of a run with pyqtgraph: the five losses, sampling health, head accuracy, lr, it/s.

One :class:`pg.PlotDataItem` per series, redrawn from the :class:`~.history.MetricHistory`
arrays (the dock calls :meth:`TrainingPlots.show_history` about twice a second while steps
arrive); curves are clipped to the view and downsampled, so long runs stay cheap to draw.
Painting axes is what costs most, so the plots are spread over tabs and only the visible
tab is painted.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from ..state.training.history import LOSS_KEYS, MetricHistory, moving_average

LOSS_COLOURS = {
    "rpn_cls": (0, 200, 255), "rpn_reg": (0, 110, 255), "roi_cls": (255, 150, 0), "roi_reg": (255, 70, 170), "total": (235, 235, 235),
}
SAMPLING_COLOURS = {"positive_anchors": (0, 220, 0), "negative_anchors": (255, 60, 60), "fg_rois": (255, 150, 0), "bg_rois": (110, 140, 255)}
ACCURACY_COLOURS = {"roi_accuracy": (235, 235, 235), "roi_fg_accuracy": (255, 150, 0)}
SPEED_COLOURS = {"lr": (200, 200, 90), "iterations_per_second": (0, 200, 160)}


class TrainingPlots(QtWidgets.QTabWidget):
    """The dock's plots, on three tabs (only the visible one is painted): losses; sampling
    health (anchors and RoIs sampled per image, RoI head accuracy); learning rate and speed.

    ``curves[name]`` is the item of each series (the metric names of ``StepResult.metrics()``,
    plus ``iterations_per_second``); tests read ``curves[name].getData()``.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.smoothing = 1  # moving-average window, in recorded steps
        self.log_scale = False
        self.curves: dict[str, pg.PlotDataItem] = {}
        losses, sampling, speed = (self._page(title) for title in ("Losses", "Sampling", "Speed"))
        self.loss_plot = self._plot(losses, 0, "losses", LOSS_COLOURS)
        self.sampling_plot = self._plot(sampling, 0, "sampled per image: anchors, RoIs", SAMPLING_COLOURS)
        self.accuracy_plot = self._plot(sampling, 1, "RoI head accuracy", ACCURACY_COLOURS)
        self.lr_plot = self._plot(speed, 0, "learning rate", {"lr": SPEED_COLOURS["lr"]})
        self.speed_plot = self._plot(speed, 1, "iterations / s", {"iterations_per_second": SPEED_COLOURS["iterations_per_second"]})
        self.accuracy_plot.setYRange(0, 1)

    def _page(self, title: str) -> pg.GraphicsLayoutWidget:
        page = pg.GraphicsLayoutWidget()
        self.addTab(page, title)
        return page

    def _plot(self, page: pg.GraphicsLayoutWidget, col: int, title: str, colours: dict) -> pg.PlotItem:
        plot = page.addPlot(row=0, col=col)
        plot.setTitle(title, size="8pt")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        if len(colours) > 1:
            plot.addLegend(offset=(-5, 5), labelTextSize="7pt")
        for name, colour in colours.items():
            self.curves[name] = plot.plot(name=name, pen=pg.mkPen(colour, width=1), connect="finite")
        return plot

    def set_smoothing(self, window: int) -> None:
        self.smoothing = max(int(window), 1)

    def set_log_scale(self, on: bool) -> None:
        self.log_scale = bool(on)
        self.loss_plot.setLogMode(y=self.log_scale)

    def show_history(self, history: MetricHistory) -> None:
        """Redraw every curve from ``history`` with the current smoothing and scale."""
        x = history.column("iteration")
        for name, curve in self.curves.items():
            if name == "iterations_per_second":
                seconds = moving_average(history.column("seconds"), self.smoothing)
                with np.errstate(divide="ignore", invalid="ignore"):
                    y = np.where(seconds > 0, 1.0 / seconds, np.nan)
            elif name == "lr":
                y = history.column(name)
            else:
                y = moving_average(history.column(name), self.smoothing)
                if name in LOSS_KEYS and self.log_scale:
                    y = np.where(y > 0, y, np.nan)
            curve.setData(x, y)

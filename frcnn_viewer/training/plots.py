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
from PySide6 import QtCore, QtWidgets

from ..state.training.history import LOSS_KEYS, MetricHistory, ValidationHistory, moving_average

LOSS_COLOURS = {
    "rpn_cls": (0, 200, 255), "rpn_reg": (0, 110, 255), "roi_cls": (255, 150, 0), "roi_reg": (255, 70, 170), "total": (235, 235, 235),
}
SAMPLING_COLOURS = {"positive_anchors": (0, 220, 0), "negative_anchors": (255, 60, 60), "fg_rois": (255, 150, 0), "bg_rois": (110, 140, 255)}
ACCURACY_COLOURS = {"roi_accuracy": (235, 235, 235), "roi_fg_accuracy": (255, 150, 0)}
VAL_COLOURS = {"map50": (90, 230, 90), "coco_ap": (200, 120, 255)}
BEST_PEN = pg.mkPen((90, 230, 90), width=1, style=QtCore.Qt.PenStyle.DashLine)
SPEED_COLOURS = {"lr": (200, 200, 90), "iterations_per_second": (0, 200, 160)}


class TrainingPlots(QtWidgets.QTabWidget):
    """The dock's plots, on three tabs (only the visible one is painted): losses; sampling
    health (anchors and RoIs sampled per image, RoI head accuracy); learning rate and speed.

    ``curves[name]`` is the item of each series (the metric names of ``StepResult.metrics()``,
    plus ``iterations_per_second``; ``val_<loss>``, ``val_map50`` and ``val_coco_ap`` for the
    validations, drawn as dots joined by dashes on the same iteration axis as the training
    losses); ``best_lines`` mark the iteration of the best validation (``best.pt``) on the
    loss and mAP plots. Tests read ``curves[name].getData()``.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.smoothing = 1  # moving-average window, in recorded steps
        self.log_scale = False
        self.curves: dict[str, pg.PlotDataItem] = {}
        losses, sampling, speed = (self._page(title) for title in ("Losses", "Sampling", "Speed"))
        self.loss_plot = self._plot(losses, 0, "losses (dots: validation)", LOSS_COLOURS)
        for name, colour in LOSS_COLOURS.items():
            self.curves[f"val_{name}"] = self.loss_plot.plot(
                pen=pg.mkPen(colour, width=1, style=QtCore.Qt.PenStyle.DashLine), symbol="o", symbolSize=5, symbolBrush=colour, connect="finite",
            )
        self.map_plot = losses.addPlot(row=1, col=0)
        self.map_plot.setTitle("validation mAP", size="8pt")
        self.map_plot.showGrid(x=True, y=True, alpha=0.2)
        self.map_plot.addLegend(offset=(-5, 5), labelTextSize="7pt")
        self.map_plot.setXLink(self.loss_plot)
        for name, colour in VAL_COLOURS.items():
            label = "mAP@0.5" if name == "map50" else "COCO AP"
            self.curves[f"val_{name}"] = self.map_plot.plot(name=label, pen=pg.mkPen(colour, width=1), symbol="o", symbolSize=5, symbolBrush=colour)
        self.best_lines = [pg.InfiniteLine(angle=90, pen=BEST_PEN, label="best", labelOpts={"position": 0.9, "color": VAL_COLOURS["map50"]})
                           for _ in range(2)]
        for plot, line in zip((self.loss_plot, self.map_plot), self.best_lines):
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
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

    def show_history(self, history: MetricHistory, validations: ValidationHistory | None = None) -> None:
        """Redraw every curve from ``history`` (and ``validations``) with the current smoothing and scale."""
        x = history.column("iteration")
        validations = validations if validations is not None else ValidationHistory()
        val_x = validations.column("iteration")
        best = validations.best()
        for line in self.best_lines:
            line.setVisible(best is not None)
            if best is not None:
                line.setValue(best["iteration"])
        for name, curve in self.curves.items():
            if name.startswith("val_"):
                y = validations.column(name.removeprefix("val_"))
                if name.removeprefix("val_") in LOSS_KEYS and self.log_scale:
                    y = np.where(y > 0, y, np.nan)
                curve.setData(val_x, y)
                continue
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

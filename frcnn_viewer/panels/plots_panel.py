"""Curves panel: per-class precision–recall curves and the confusion matrix of "analyse all".

The numbers are :func:`frcnn_viewer.state.curves.evaluation_curves` (the core's
``evaluate_voc``/``pr_curve`` and ``confusion_matrix``, as ``frcnn eval --plots``) at the
document's diagnosis IoU and score threshold. They are computed in a background thread
(the confusion matrix pairs boxes image by image, which takes long on a big list), only
while the panel is shown, and the newest answer wins.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..state.curves import EvaluationCurves, evaluation_curves
from ..state.document import Change, Document

CURVE_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127))


class PlotsPanel(QtWidgets.QTabWidget):
    """Two tabs: "PR curves" and "Confusion matrix". ``updated`` is emitted when new curves are drawn."""

    updated = QtCore.Signal()
    _computed = QtCore.Signal(int, object)  # request number, EvaluationCurves or an error text

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.curves: EvaluationCurves | None = None
        self._request = 0  # the newest computation asked for
        self._drawn = 0  # the newest one drawn
        self._dirty = True
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="frcnn-curves")
        self.pr_plot = pg.PlotWidget(background="w")
        self.pr_plot.setObjectName("pr_curves")
        self.pr_plot.setLabel("bottom", "recall")
        self.pr_plot.setLabel("left", "precision")
        self.pr_plot.setXRange(0, 1, padding=0.02)
        self.pr_plot.setYRange(0, 1.02, padding=0.02)
        self.pr_plot.showGrid(x=True, y=True, alpha=0.3)
        # lower left, on an opaque backing: a good model's curves run along the top and the right
        self.legend = self.pr_plot.addLegend(offset=(10, -10), brush=pg.mkBrush(255, 255, 255, 230), pen=pg.mkPen(180, 180, 180), labelTextColor=(20, 20, 20))
        self.matrix_plot = pg.PlotWidget(background="w")
        self.matrix_plot.setObjectName("confusion_matrix")
        self.matrix_plot.getViewBox().invertY(True)
        self.matrix_plot.getViewBox().setAspectLocked(True)
        self.matrix_plot.setLabel("bottom", "predicted")
        self.matrix_plot.setLabel("left", "true")
        self.matrix_image = pg.ImageItem(axisOrder="row-major")
        self.matrix_image.setColorMap(pg.colormap.get("CET-L12"))
        self.matrix_plot.addItem(self.matrix_image)
        self.matrix_texts: list[pg.TextItem] = []
        self.note = QtWidgets.QLabel()
        pr_tab = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(pr_tab)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.note)
        column.addWidget(self.pr_plot, 1)
        self.addTab(pr_tab, "PR curves")
        self.addTab(self.matrix_plot, "Confusion matrix")
        self._computed.connect(self._show)
        document.changed.connect(self._document_changed)
        executor = self._executor  # not self: the lambda must outlive the widget's wrapper
        self.destroyed.connect(lambda: executor.shutdown(wait=False, cancel_futures=True))

    def _document_changed(self, aspects: frozenset) -> None:
        if aspects & {Change.RESULTS, Change.DIAGNOSIS, Change.MODEL}:
            settings = self.document.diagnosis_settings
            current = self.curves
            if Change.DIAGNOSIS in aspects and Change.RESULTS not in aspects and current is not None and (current.iou, current.score_threshold) == (settings.iou, settings.score_threshold):
                return  # only the current image's verdict changed
            self._dirty = True
            if self.isVisible():
                self.recompute()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self.recompute()

    def recompute(self) -> None:
        """Compute the curves of the document's results in the background; :meth:`_show` draws them."""
        doc = self.document
        self._dirty = False
        self._request += 1
        if doc.model is None:
            return
        config = doc.model.config
        names = list(config.class_names) or [config.label_name(k) for k in range(1, config.num_classes + 1)]
        results, settings, request = dict(doc.results), doc.diagnosis_settings, self._request

        def work() -> None:
            try:
                answer = evaluation_curves(results, names, settings.iou, settings.score_threshold)
            except Exception as exc:  # shown in the panel; the window goes on
                answer = f"curves failed: {exc}"
            self._computed.emit(request, answer)

        self._executor.submit(work)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Run the event loop until the newest request is drawn (for scripts and tests)."""
        if self.curves is not None and not self._dirty and self._drawn == self._request:
            return True
        loop = QtCore.QEventLoop()
        self.updated.connect(loop.quit)
        QtCore.QTimer.singleShot(timeout_ms, loop.quit)
        if self._drawn != self._request:
            loop.exec()
        self.updated.disconnect(loop.quit)
        return self._drawn == self._request

    def _show(self, request: int, answer) -> None:
        if request != self._request:
            return
        self._drawn = request
        if isinstance(answer, str):
            self.note.setText(answer)
            self.updated.emit()
            return
        self.curves = answer
        self._draw_pr(answer)
        self._draw_matrix(answer)
        self.updated.emit()

    def _draw_pr(self, curves: EvaluationCurves) -> None:
        self.pr_plot.clear()
        self.legend.clear()
        for k, curve in enumerate(curves.curves):
            ap = "-" if curve.ap is None else f"{curve.ap:.3f}"
            pen = pg.mkPen(CURVE_COLOURS[k % len(CURVE_COLOURS)], width=2)
            self.pr_plot.plot(curve.recall, curve.precision, pen=pen, name=f"{curve.name}  AP {ap}  ({curve.num_gt} GT)")
        self.note.setText(f"{curves.images} images with GT, VOC matching at IoU {curves.iou:g}; confusion matrix at score ≥ {curves.score_threshold:g}")

    def _draw_matrix(self, curves: EvaluationCurves) -> None:
        matrix = curves.confusion
        for text in self.matrix_texts:
            self.matrix_plot.removeItem(text)
        self.matrix_texts = []
        high = max(int(matrix.max(initial=0)), 1)
        self.matrix_image.setImage(matrix.astype(np.float32), levels=(0, high), autoLevels=False)
        self.matrix_image.setRect(QtCore.QRectF(-0.5, -0.5, matrix.shape[1], matrix.shape[0]))
        for (row, column), count in np.ndenumerate(matrix):
            if count:
                text = pg.TextItem(str(count), color="w" if count > high / 2 else "k", anchor=(0.5, 0.5))
                text.setPos(column, row)
                self.matrix_plot.addItem(text)
                self.matrix_texts.append(text)
        names = ["background", *curves.class_names]
        ticks = [[(k, name) for k, name in enumerate(names)]]
        self.matrix_plot.getAxis("bottom").setTicks(ticks)
        self.matrix_plot.getAxis("left").setTicks(ticks)
        self.matrix_plot.setRange(QtCore.QRectF(-0.5, -0.5, len(names), len(names)), padding=0.02)

    def texts(self) -> dict[tuple[int, int], str]:
        """The counts drawn in the matrix, by ``(row, column)`` (for tests)."""
        return {(round(t.pos().y()), round(t.pos().x())): t.toPlainText() for t in self.matrix_texts}

"""pyqtgraph items that draw a whole overlay group as ONE graphics item.

:class:`BoxOutlineItem` draws any number of boxes in one colour, :class:`TextLabelsItem`
any number of short labels; both keep their data as arrays so tests can read back
what is drawn (``item.boxes()``, ``item.labels()``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from .state.raster import colour_mask, outline_mask

RGBA = tuple[int, int, int, int]


class BoxOutlineItem(pg.GraphicsObject):
    """Outlines of ``[N, 4]`` xyxy boxes (data coordinates) as 1-px (cosmetic) lines.

    The outlines are rasterised with NumPy at the resolution of the device being painted
    (see :mod:`frcnn_viewer.state.raster`) and the image is kept until the view or the data
    change, so showing or hiding another layer does not redraw these boxes.
    """

    def __init__(self, line_width: int = 1) -> None:
        super().__init__()
        self._boxes = np.zeros((0, 4))
        self._colour: RGBA = (255, 255, 255, 255)
        self._line_width = line_width
        self._bounds = QtCore.QRectF()
        self._cache: tuple | None = None

    def setData(self, boxes: np.ndarray, colour: RGBA) -> None:
        """Draw ``boxes`` ``[N, 4]`` (x1, y1, x2, y2) in ``colour`` ``(r, g, b, a)``."""
        self.prepareGeometryChange()
        self._boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self._colour = tuple(int(c) for c in colour)
        if len(self._boxes):
            lo = np.minimum(self._boxes[:, :2], self._boxes[:, 2:]).min(axis=0)
            hi = np.maximum(self._boxes[:, :2], self._boxes[:, 2:]).max(axis=0)
            margin = 0.01 * float((hi - lo).max()) + 1.0  # the far edges land one pixel out
            self._bounds = QtCore.QRectF(lo[0] - margin, lo[1] - margin, hi[0] - lo[0] + 2 * margin, hi[1] - lo[1] + 2 * margin)
        else:
            self._bounds = QtCore.QRectF()
        self._cache = None
        self.update()

    def boxes(self) -> np.ndarray:
        return self._boxes

    @property
    def line_width(self) -> int:
        return self._line_width

    def colour(self) -> RGBA:
        return self._colour

    def boundingRect(self) -> QtCore.QRectF:
        return self._bounds

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        if not len(self._boxes):
            return
        transform = painter.combinedTransform()
        region = self._bounds
        if painter.hasClipping():
            region = region.intersected(painter.clipBoundingRect())
        target = transform.mapRect(region).toAlignedRect().intersected(painter.viewport())
        if target.isEmpty():
            return
        image = self._rasterise(transform, target)
        painter.save()
        painter.resetTransform()
        painter.drawImage(target.topLeft(), image)
        painter.restore()

    def _rasterise(self, transform: QtGui.QTransform, target: QtCore.QRect) -> QtGui.QImage:
        """The outlines as an image covering ``target`` (device pixels), cached per view."""
        key = (transform.m11(), transform.m22(), transform.dx(), transform.dy(), target.x(), target.y(), target.width(), target.height())
        if self._cache is None or self._cache[0] != key:
            sx, sy = transform.m11(), transform.m22()
            offset_x, offset_y = transform.dx() - target.x(), transform.dy() - target.y()
            device_boxes = self._boxes * (sx, sy, sx, sy) + (offset_x, offset_y, offset_x, offset_y)
            w, h = target.width(), target.height()
            pixels = colour_mask(outline_mask(device_boxes, w, h, self._line_width), self._colour)
            image = QtGui.QImage(pixels.data, w, h, 4 * w, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            self._cache = (key, image, pixels)  # the image borrows the array's memory
        return self._cache[1]


class TextLabelsItem(pg.GraphicsObject):
    """Short texts anchored at data points, drawn at a constant screen size on a dark backing."""

    def __init__(self) -> None:
        super().__init__()
        self._labels: list[tuple[float, float, str, tuple[int, int, int]]] = []
        self._font = QtGui.QFont()
        self._font.setPointSize(8)

    def setData(self, labels: list[tuple[float, float, str, tuple[int, int, int]]]) -> None:
        """``labels``: ``(x, y, text, (r, g, b))``; the text's top-left corner sits at ``(x, y)``."""
        self._labels = list(labels)
        self.update()

    def labels(self) -> list[tuple[float, float, str, tuple[int, int, int]]]:
        return self._labels

    def boundingRect(self) -> QtCore.QRectF:
        view = self.viewRect()  # texts keep their screen size: claim the visible area
        return view if view is not None else QtCore.QRectF()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        if not self._labels:
            return
        transform = painter.combinedTransform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        metrics = QtGui.QFontMetrics(self._font)
        backing = QtGui.QColor(0, 0, 0, 170)
        for x, y, text, colour in self._labels:
            point = transform.map(QtCore.QPointF(x, y))
            rect = QtCore.QRectF(metrics.boundingRect(text)).adjusted(-2, -1, 2, 1)
            rect.moveTopLeft(point)
            painter.fillRect(rect, backing)
            painter.setPen(QtGui.QColor(*colour))
            painter.drawText(rect, QtCore.Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

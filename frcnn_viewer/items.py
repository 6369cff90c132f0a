"""pyqtgraph items that draw a whole overlay group as ONE graphics item.

:class:`BoxOutlineItem` draws any number of boxes in one colour, :class:`TextLabelsItem`
any number of short labels (placed with the other label items of the view by a
:class:`LabelBoard`, so that they do not cover each other); both keep their data as arrays so tests can read back
what is drawn (``item.boxes()``, ``item.labels()``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from .state.label_placement import TextLabel, candidate_rects, place_labels
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


class LabelBoard:
    """Places the labels of several :class:`TextLabelsItem` of one view together, so that no two
    cover each other (see :mod:`frcnn_viewer.state.label_placement`): the item drawn lowest (the
    ground truth, the first layer) has the first pick, then each in drawing order. Labels left without room are drawn while the mouse is over their box
    (:meth:`set_hover`)."""

    def __init__(self) -> None:
        self.items: list[TextLabelsItem] = []
        self.hover: tuple[float, float] | None = None
        self._key: tuple | None = None
        self._rects: dict[int, np.ndarray] = {}

    def add(self, item: TextLabelsItem) -> None:
        self.items.append(item)

    def invalidate(self) -> None:
        """Labels or their visibility changed: place them again at the next paint."""
        self._key = None
        self.repaint()

    def repaint(self) -> None:
        for item in self.items:
            item.update()

    def set_hover(self, x: float, y: float) -> None:
        """The mouse is at image pixel ``(x, y)``: show the dropped labels of the boxes under it."""
        self.hover = (x, y)
        if any(item.shows_hovered or item.dropped_under(x, y) for item in self.items):
            self.repaint()

    def rects(self, item: TextLabelsItem, transform: QtGui.QTransform, screen: QtCore.QRectF) -> np.ndarray:
        """``[N, 4]`` where ``item``'s labels go in device pixels (NaN: dropped)."""
        key = (transform.m11(), transform.m22(), transform.dx(), transform.dy(), screen.getRect(),
               tuple((id(i), i.isVisible(), i.version) for i in self.items))
        if key != self._key:
            self._key = key
            self._place(transform, screen)
        return self._rects.get(id(item), np.full((len(item.labels()), 4), np.nan))

    def _place(self, transform: QtGui.QTransform, screen: QtCore.QRectF) -> None:
        shown = sorted((i for i in self.items if i.isVisible() and i.labels()), key=lambda i: i.zValue())
        self._rects = {}
        if not shown:
            return
        scale = np.array([transform.m11(), transform.m22()] * 2)
        offset = np.array([transform.dx(), transform.dy()] * 2)
        boxes = np.concatenate([i.label_boxes() for i in shown]) * scale + offset
        anchors = np.concatenate([i.anchors() for i in shown]) * scale[:2] + offset[:2]
        sizes = np.concatenate([i.sizes() for i in shown])
        placed = place_labels(np.concatenate((np.minimum(boxes[:, :2], boxes[:, 2:]), np.maximum(boxes[:, :2], boxes[:, 2:])), axis=1),
                              anchors, sizes, (screen.left(), screen.top(), screen.right(), screen.bottom()))
        start = 0
        for item in shown:
            self._rects[id(item)] = placed[start : start + len(item.labels())]
            start += len(item.labels())


class TextLabelsItem(pg.GraphicsObject):
    """Labels of boxes drawn at a constant screen size on a dark backing, placed with the other
    items of their :class:`LabelBoard` so that none covers another; long ones are elided."""

    PADDING = (3, 1)  # horizontal, vertical pixels around the text
    BACKING = (0, 0, 0, 200)

    def __init__(self, board: LabelBoard | None = None) -> None:
        super().__init__()
        self._labels: list[TextLabel] = []
        self._font = QtGui.QFont()
        self._font.setPointSize(8)
        self._metrics = QtGui.QFontMetrics(self._font)
        self._sizes = np.zeros((0, 2))
        self._boxes = np.zeros((0, 4))
        self.version = 0
        self.shows_hovered = False
        self.board = board if board is not None else LabelBoard()
        self.board.add(self)

    def setData(self, labels: list) -> None:
        """``labels``: :class:`~frcnn_viewer.state.label_placement.TextLabel` or ``(x, y, text,
        (r, g, b))`` tuples, the label then going at the point ``(x, y)``."""
        self._labels = [TextLabel(*label) for label in labels]
        pad_x, pad_y = self.PADDING
        self._sizes = np.array([(self._metrics.horizontalAdvance(label.text) + 2 * pad_x, self._metrics.height() + 2 * pad_y)
                                for label in self._labels], dtype=float).reshape(-1, 2)
        self._boxes = np.array([label.box if label.box is not None else (label.x, label.y, label.x, label.y)
                                for label in self._labels], dtype=float).reshape(-1, 4)
        self.version += 1
        self.board.invalidate()

    def labels(self) -> list[TextLabel]:
        return self._labels

    def label_boxes(self) -> np.ndarray:
        """``[N, 4]`` the labelled boxes in image pixels (a point label's box is its point)."""
        return self._boxes

    def anchors(self) -> np.ndarray:
        return np.array([(label.x, label.y) for label in self._labels], dtype=float).reshape(-1, 2)

    def sizes(self) -> np.ndarray:
        """``[N, 2]`` each label's width and height in device pixels."""
        return self._sizes

    def dropped_under(self, x: float, y: float) -> bool:
        """Whether a label left out for lack of room belongs to a box under image point ``(x, y)``."""
        if not self.isVisible() or not len(self._boxes):
            return False
        rects = self.board._rects.get(id(self))
        if rects is None:
            return False
        return bool((np.isnan(rects[:, 0]) & self._under(x, y)).any())

    def _under(self, x: float, y: float) -> np.ndarray:
        b = self._boxes
        return (np.minimum(b[:, 0], b[:, 2]) <= x) & (x <= np.maximum(b[:, 0], b[:, 2])) & (np.minimum(b[:, 1], b[:, 3]) <= y) & (y <= np.maximum(b[:, 1], b[:, 3]))

    def itemChange(self, change, value):
        if change == QtWidgets.QGraphicsItem.GraphicsItemChange.ItemVisibleHasChanged:
            self.board.invalidate()
        return super().itemChange(change, value)

    def boundingRect(self) -> QtCore.QRectF:
        view = self.viewRect()  # texts keep their screen size: claim the visible area
        return view if view is not None else QtCore.QRectF()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        if not self._labels:
            return
        transform = painter.combinedTransform()
        screen = QtCore.QRectF(widget.rect()) if widget is not None else QtCore.QRectF(painter.viewport())
        rects = self.board.rects(self, transform, screen)
        shown = ~np.isnan(rects[:, 0])
        hover = self.board.hover
        hovered = ~shown & self._under(*hover) if hover is not None else np.zeros(len(rects), bool)
        self.shows_hovered = bool(hovered.any())
        if hovered.any():  # dropped labels of the boxes under the mouse, at their first choice
            scale, offset = np.array([transform.m11(), transform.m22()]), np.array([transform.dx(), transform.dy()])
            boxes = self._boxes[hovered] * np.tile(scale, 2) + np.tile(offset, 2)
            boxes = np.concatenate((np.minimum(boxes[:, :2], boxes[:, 2:]), np.maximum(boxes[:, :2], boxes[:, 2:])), axis=1)
            rects = rects.copy()
            rects[hovered] = candidate_rects(boxes, self.anchors()[hovered] * scale + offset, self._sizes[hovered])[:, 0]
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        backing = QtGui.QColor(*self.BACKING)
        for index in np.flatnonzero(shown | hovered):
            x1, y1, x2, y2 = rects[index]
            label = self._labels[index]
            rect = QtCore.QRectF(x1, y1, x2 - x1, y2 - y1)
            painter.fillRect(rect, backing)
            painter.setPen(QtGui.QColor(*label.colour))
            painter.drawText(rect, QtCore.Qt.AlignmentFlag.AlignCenter, label.text)
        painter.restore()

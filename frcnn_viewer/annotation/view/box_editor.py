"""The canvas interaction of the annotation mode: draw, select, move and resize boxes.

:class:`BoxEditor` is an event filter on the existing :class:`~frcnn_viewer.canvas.Canvas`
(its viewport, where mouse events go, and the view widget itself) and one
:class:`AnnotationItem` on top of the image. It keeps no annotation data: the controller
gives it the boxes to show (displayed pixels) and it reports what the user did with
signals; the controller turns those into undo commands.

Left button: press on a handle (a corner or an edge, of the selected box first) and drag
to resize; press inside a box to select it and drag to move it; press elsewhere and drag
to draw a new box (after :meth:`BoxEditor.arm_drawing`, key W, a drag draws even over a
box). Crosshair guides follow the mouse across the image. Other buttons and the wheel
keep panning and zooming the view.

The model's suggestions are drawn dashed in their class colour with their score, under the
boxes; a press on one (outside every box) selects it (``suggestion_picked``), a double-click
accepts it (``suggestion_accepted``); a drag from it still draws a new box.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from ...state.layers import UNCOVERED_COLOUR
from ..model import geometry

HANDLE_PX = 6  # handles are grabbed within this many screen pixels
HANDLE_SIZE = 7  # drawn handle squares, screen pixels
MIN_SIZE = 1.0  # smallest box side, displayed image pixels
CLICK_PX = 3  # a press and release closer than this (screen pixels) is a click, not a drag
FILL_ALPHA = 40
FLAG_COLOUR = UNCOVERED_COLOUR  # boxes no anchor matches, as the ground-truth layer flags them
FLAG_GAP = 4  # screen pixels between a flagged box and its frame

CURSORS = {
    "top_left": QtCore.Qt.CursorShape.SizeFDiagCursor,
    "bottom_right": QtCore.Qt.CursorShape.SizeFDiagCursor,
    "top_right": QtCore.Qt.CursorShape.SizeBDiagCursor,
    "bottom_left": QtCore.Qt.CursorShape.SizeBDiagCursor,
    "top": QtCore.Qt.CursorShape.SizeVerCursor,
    "bottom": QtCore.Qt.CursorShape.SizeVerCursor,
    "left": QtCore.Qt.CursorShape.SizeHorCursor,
    "right": QtCore.Qt.CursorShape.SizeHorCursor,
}


class AnnotationItem(pg.GraphicsObject):
    """All boxes of the annotated image as ONE item: class-coloured outlines over a light fill,
    a red dashed frame around the flagged ones (no positive anchor), the selected box thicker
    with its eight handles, the box being drawn or dragged, and the crosshair guides.
    Coordinates are displayed image pixels; lines keep their screen width."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes = np.zeros((0, 4))
        self.colours: list[tuple[int, int, int]] = []
        self.selected: int | None = None
        self.flagged: set[int] = set()
        self.preview: tuple[int | None, tuple[float, float, float, float]] | None = None
        self.crosshair: tuple[float, float] | None = None
        self.image_size: tuple[int, int] = (0, 0)  # (H, W)
        self.suggestions = np.zeros((0, 4))
        self.suggestion_colours: list[tuple[int, int, int]] = []
        self.suggestion_texts: list[str] = []
        self.selected_suggestion: int | None = None  # a row of ``suggestions``

    def set_suggestions(self, boxes: np.ndarray, colours: list[tuple[int, int, int]], texts: list[str], selected: int | None) -> None:
        self.suggestions = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.suggestion_colours, self.suggestion_texts, self.selected_suggestion = list(colours), list(texts), selected
        self.update()

    def set_boxes(self, boxes: np.ndarray, colours: list[tuple[int, int, int]], selected: int | None, image_size: tuple[int, int],
                  flagged=()) -> None:
        self.boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.colours, self.selected, self.image_size, self.flagged = list(colours), selected, tuple(image_size), set(flagged)
        self.update()

    def set_preview(self, index: int | None, box) -> None:
        """Show ``box`` in place of box ``index`` (``None``: a box being drawn); ``box=None`` ends it."""
        self.preview = None if box is None else (index, tuple(box))
        self.update()

    def set_crosshair(self, point: tuple[float, float] | None) -> None:
        self.crosshair = point
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        view = self.viewRect()  # handles and guides keep their screen size: claim the visible area
        return view if view is not None else QtCore.QRectF()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        transform = painter.combinedTransform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)

        def rect(box) -> QtCore.QRectF:
            return transform.mapRect(QtCore.QRectF(QtCore.QPointF(box[0], box[1]), QtCore.QPointF(box[2], box[3])))

        for i, (box, colour, text) in enumerate(zip(self.suggestions, self.suggestion_colours, self.suggestion_texts)):
            r = rect(box)
            chosen = i == self.selected_suggestion
            if chosen:
                painter.fillRect(r, QtGui.QColor(*colour, FILL_ALPHA))
            painter.setPen(QtGui.QPen(QtGui.QColor(*colour), 3 if chosen else 1.5, QtCore.Qt.PenStyle.DashLine))
            painter.drawRect(r)
            painter.drawText(r.topLeft() + QtCore.QPointF(3, 12), text)
        moving = self.preview[0] if self.preview is not None else None
        for i, (box, colour) in enumerate(zip(self.boxes, self.colours)):
            if i == moving:
                box = self.preview[1]
            r = rect(box)
            painter.fillRect(r, QtGui.QColor(*colour, FILL_ALPHA))
            painter.setPen(QtGui.QPen(QtGui.QColor(*colour), 3 if i == self.selected else 2))
            painter.drawRect(r)
            if i in self.flagged:
                painter.setPen(QtGui.QPen(QtGui.QColor(*FLAG_COLOUR), 2, QtCore.Qt.PenStyle.DashLine))
                painter.drawRect(r.adjusted(-FLAG_GAP, -FLAG_GAP, FLAG_GAP, FLAG_GAP))
            if i == self.selected:
                self._paint_handles(painter, r, colour)
        if self.preview is not None and self.preview[0] is None:
            pen = QtGui.QPen(QtGui.QColor(255, 255, 255), 2, QtCore.Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(rect(self.preview[1]))
        if self.crosshair is not None:
            height, width = self.image_size
            x, y = self.crosshair
            painter.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255, 170), 1, QtCore.Qt.PenStyle.DashLine))
            painter.drawLine(transform.map(QtCore.QPointF(0, y)), transform.map(QtCore.QPointF(width, y)))
            painter.drawLine(transform.map(QtCore.QPointF(x, 0)), transform.map(QtCore.QPointF(x, height)))
        painter.restore()

    @staticmethod
    def _paint_handles(painter: QtGui.QPainter, r: QtCore.QRectF, colour) -> None:
        painter.setPen(QtGui.QPen(QtGui.QColor(*colour), 1))
        half = HANDLE_SIZE / 2
        for x in (r.left(), r.center().x(), r.right()):
            for y in (r.top(), r.center().y(), r.bottom()):
                if (x, y) != (r.center().x(), r.center().y()):
                    painter.fillRect(QtCore.QRectF(x - half, y - half, HANDLE_SIZE, HANDLE_SIZE), QtGui.QColor(255, 255, 255))
                    painter.drawRect(QtCore.QRectF(x - half, y - half, HANDLE_SIZE, HANDLE_SIZE))


class BoxEditor(QtCore.QObject):
    """Mouse interaction on the canvas (see the module docstring); active while enabled.

    Signals carry displayed image pixels: ``drawn(box)`` a new box, ``edited(index, box, what)``
    a box moved (``what == "Move"``) or resized (``"Resize"``), ``picked(index)`` a box selected
    by a click (``None``: a click beside every box), ``suggestion_picked(row)`` a suggestion
    (a row of those given to :meth:`set_suggestions`; ``None``: none) selected,
    ``suggestion_accepted(row)`` one double-clicked, ``hovered(x, y)`` the mouse over the image.
    """

    drawn = QtCore.Signal(object)
    edited = QtCore.Signal(int, object, str)
    picked = QtCore.Signal(object)
    suggestion_picked = QtCore.Signal(object)
    suggestion_accepted = QtCore.Signal(int)
    hovered = QtCore.Signal(float, float)

    def __init__(self, canvas, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.item = AnnotationItem()
        self.item.setZValue(150)  # above every layer, below the canvas's hover highlight
        self.item.setVisible(False)
        canvas.view.addItem(self.item, ignoreBounds=True)
        self.enabled = False
        self.drawing_armed = False
        self._drag: dict | None = None
        canvas.viewport().installEventFilter(self)
        canvas.installEventFilter(self)

    # ----- state from the controller ----------------------------------------------------
    @property
    def boxes(self) -> np.ndarray:
        return self.item.boxes

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = bool(enabled)
        self.cancel()
        self.item.setVisible(self.enabled)
        self.canvas.viewport().setCursor(QtCore.Qt.CursorShape.CrossCursor if self.enabled else QtCore.Qt.CursorShape.ArrowCursor)

    def set_boxes(self, boxes: np.ndarray, colours: list[tuple[int, int, int]], selected: int | None, image_size: tuple[int, int],
                  flagged=()) -> None:
        """Show ``boxes`` ``[N, 4]`` (displayed pixels) in ``colours``, frame the ``flagged`` ones;
        ``image_size`` ``(H, W)``."""
        self.item.set_boxes(boxes, colours, selected, image_size, flagged)

    def set_suggestions(self, boxes: np.ndarray, colours: list[tuple[int, int, int]], texts: list[str], selected: int | None) -> None:
        """Show suggestions ``boxes`` ``[S, 4]`` (displayed pixels) dashed, with ``texts``; row
        ``selected`` highlighted."""
        self.item.set_suggestions(boxes, colours, texts, selected)

    def suggestion_at(self, x: float, y: float) -> int | None:
        """The smallest suggestion containing ``(x, y)``, as a row of those shown."""
        return geometry.box_at(self.item.suggestions, x, y)

    def arm_drawing(self) -> None:
        """Make the next drag draw a new box wherever it starts (key W)."""
        self.drawing_armed = True

    def cancel(self) -> None:
        """Drop a drag in progress (Esc) and disarm drawing."""
        self._drag = None
        self.drawing_armed = False
        self.item.set_preview(None, None)

    # ----- events -----------------------------------------------------------------------
    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if not self.enabled or self.item.image_size == (0, 0):
            return False
        kind = event.type()
        Type = QtCore.QEvent.Type
        left = QtCore.Qt.MouseButton.LeftButton
        if kind == Type.MouseButtonPress and event.button() == left:
            self._press(event.position())
            return True
        if kind == Type.MouseButtonDblClick and event.button() == left:
            x, y = self._image_point(event.position())
            row = self.suggestion_at(x, y) if self._hit(x, y)[0] == "draw" else None
            if row is not None:
                self.suggestion_accepted.emit(row)
            return True
        if kind == Type.MouseMove:
            if self._drag is not None:
                self._drag_to(event.position())
                return True
            self._hover(event.position())
            return False
        if kind == Type.MouseButtonRelease and event.button() == left and self._drag is not None:
            self._release(event.position())
            return True
        if kind == Type.Leave:
            self.item.set_crosshair(None)
        return False

    def _image_point(self, position: QtCore.QPointF) -> tuple[float, float]:
        return self.canvas.widget_to_image(position)

    def _tolerance(self) -> float:
        sx, sy = self.canvas.view.viewPixelSize()
        return HANDLE_PX * (sx + sy) / 2

    def _hit(self, x: float, y: float) -> tuple[str, int | None, str | None]:
        """What a press at ``(x, y)`` grabs: ``("resize", index, handle)``, ``("move", index, None)``
        or ``("draw", None, None)``."""
        boxes = self.item.boxes
        if self.drawing_armed or not len(boxes):
            return "draw", None, None
        tolerance = self._tolerance()
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        order = [int(i) for i in np.argsort(areas, kind="stable")]
        if self.item.selected is not None and self.item.selected in order:
            order.remove(self.item.selected)
            order.insert(0, self.item.selected)
        for i in order:
            handle = geometry.handle_at(boxes[i], x, y, tolerance)
            if handle is not None:
                return "resize", i, handle
        index = geometry.box_at(boxes, x, y)
        return ("move", index, None) if index is not None else ("draw", None, None)

    def _press(self, position: QtCore.QPointF) -> None:
        x, y = self._image_point(position)
        what, index, handle = self._hit(x, y)
        if what != "draw" or not self.drawing_armed:
            self.picked.emit(index)
        if what == "draw" and not self.drawing_armed:
            self.suggestion_picked.emit(self.suggestion_at(x, y))
        self._drag = {"what": what, "index": index, "handle": handle, "start": (x, y), "press": position,
                      "box": None if index is None else tuple(float(v) for v in self.item.boxes[index]), "result": None}

    def _drag_to(self, position: QtCore.QPointF) -> None:
        drag = self._drag
        x, y = self._image_point(position)
        height, width = self.item.image_size
        if drag["what"] == "draw":
            drag["result"] = geometry.span(drag["start"], (x, y), width, height, MIN_SIZE)
            self.item.set_crosshair((x, y))
        elif drag["what"] == "move":
            drag["result"] = geometry.moved(drag["box"], x - drag["start"][0], y - drag["start"][1], width, height)
        else:
            drag["result"] = geometry.resized(drag["box"], drag["handle"], x, y, width, height, MIN_SIZE)
        self.item.set_preview(drag["index"], drag["result"])

    def _release(self, position: QtCore.QPointF) -> None:
        drag = self._drag
        moved_px = (position - drag["press"]).manhattanLength()
        if moved_px >= CLICK_PX:
            self._drag_to(position)
        self._drag = None
        self.item.set_preview(None, None)
        result = drag["result"] if moved_px >= CLICK_PX else None
        if result is None:
            return
        if drag["what"] == "draw":
            self.drawing_armed = False
            self.drawn.emit(result)
        elif result != drag["box"]:
            self.edited.emit(drag["index"], result, "Move" if drag["what"] == "move" else "Resize")

    def _hover(self, position: QtCore.QPointF) -> None:
        x, y = self._image_point(position)
        height, width = self.item.image_size
        inside = 0 <= x <= width and 0 <= y <= height
        self.item.set_crosshair((x, y) if inside else None)
        if inside:
            self.hovered.emit(x, y)
        what, _index, handle = self._hit(x, y)
        shape = CURSORS[handle] if what == "resize" else QtCore.Qt.CursorShape.SizeAllCursor if what == "move" else QtCore.Qt.CursorShape.CrossCursor
        self.canvas.viewport().setCursor(shape)

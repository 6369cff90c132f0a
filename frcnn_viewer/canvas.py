"""The image view: the image, each layer's overlay, zoom and pan, clicks and hover.

The canvas observes the document and its layers and renders them; it keeps no state
of its own beyond the graphics items. Image pixel ``(x, y)`` is view coordinate
``(x, y)`` (the y axis points down), so every overlay is drawn in image pixels. Each
layer's overlay is a handful of items, one per colour group (see
:mod:`frcnn_viewer.state.overlays`), never one per box; auto-range is off.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from .items import BoxOutlineItem, LabelBoard, TextLabelsItem
from .state.document import Change, Document
from .state.layer_options import OptionControl
from .state.layers import Layer, LayerEdit
from .state.named import ByName
from .state.overlays import Overlay, build_overlay

BACKGROUND = (40, 40, 40)


class LayerItems:
    """The graphics items of one layer, reused from one overlay to the next."""

    def __init__(self, view: pg.ViewBox, z: float, board: LabelBoard) -> None:
        self.view = view
        self.z = z
        self.boxes: dict[str, BoxOutlineItem] = {}
        self.segments: dict[str, pg.PlotCurveItem] = {}
        self.labels = TextLabelsItem(board)  # placed with the other layers' labels
        self.heatmap = pg.ImageItem(axisOrder="row-major")
        self.overlay = Overlay()
        self.dirty = True
        self.visible = False
        self.opacity = 1.0
        for item in (self.heatmap, self.labels):
            item.setZValue(z)
            view.addItem(item, ignoreBounds=True)
        self.labels.setZValue(z + 5)

    def items(self) -> list:
        return [self.heatmap, *self.boxes.values(), *self.segments.values(), self.labels]

    def show(self, overlay: Overlay) -> None:
        """Replace what this layer draws with ``overlay``."""
        self.overlay = overlay
        keys = {g.key for g in overlay.boxes}
        for key in [k for k in self.boxes if k not in keys]:
            self.view.removeItem(self.boxes.pop(key))
        for order, group in enumerate(overlay.boxes):
            item = self.boxes.get(group.key)
            if item is None or item.line_width != group.line_width:
                if item is not None:
                    self.view.removeItem(item)
                item = self.boxes[group.key] = BoxOutlineItem(group.line_width)
                self.view.addItem(item, ignoreBounds=True)
            item.setZValue(self.z + 1 + order * 0.01)
            item.setData(group.boxes, group.colour)
        keys = {g.key for g in overlay.segments}
        for key in [k for k in self.segments if k not in keys]:
            self.view.removeItem(self.segments.pop(key))
        for group in overlay.segments:
            item = self.segments.get(group.key)
            if item is None:
                item = self.segments[group.key] = pg.PlotCurveItem(connect="pairs", antialias=False, skipFiniteCheck=True)
                item.setZValue(self.z + 4)
                self.view.addItem(item, ignoreBounds=True)
            item.setPen(pg.mkPen(group.colour, width=1, cosmetic=True))
            points = group.segments.reshape(-1, 2)
            item.setData(x=points[:, 0], y=points[:, 1])
        self.labels.setData(overlay.labels)
        if overlay.heatmap is not None:
            self.heatmap.setImage(overlay.heatmap.rgba, levels=(0, 255), autoLevels=False)
            self.heatmap.setRect(QtCore.QRectF(*overlay.heatmap.rect))
        else:
            self.heatmap.clear()
        self.dirty = False
        self.apply()

    def apply(self) -> None:
        """Push visibility and opacity to every item."""
        for item in self.items():
            item.setVisible(self.visible)
            item.setOpacity(self.opacity)


# show_box: a box smaller than this share of the image's shorter side is hard to see when the
# whole image is shown; the view then zooms to a region BOX_CONTEXT times its size (at least
# MIN_REGION_SHARE of the shorter side, so that its neighbours stay in view).
SMALL_BOX_SHARE = 0.05
BOX_CONTEXT = 8.0
MIN_REGION_SHARE = 0.25


class Canvas(pg.GraphicsView):
    """Zoomable, pannable view of the document's current image and its layers.

    Signals carry image pixel coordinates: ``clicked(x, y)`` on a click without drag,
    ``hovered(x, y)`` as the mouse moves.
    """

    clicked = QtCore.Signal(float, float)
    hovered = QtCore.Signal(float, float)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent, useOpenGL=False, background=BACKGROUND)
        self.document = document
        self.view = pg.ViewBox(invertY=True, lockAspect=True, enableMenu=False, defaultPadding=0.0)
        self.view.disableAutoRange()
        self.setCentralItem(self.view)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setZValue(-100)
        self.view.addItem(self.image_item, ignoreBounds=True)
        self.label_board = LabelBoard()
        self.layer_items = ByName((layer.name, LayerItems(self.view, 10 * (i + 1), self.label_board)) for i, layer in enumerate(document.layers))
        self.hover_item = BoxOutlineItem(line_width=2)
        self.hover_item.setZValue(200)
        self.view.addItem(self.hover_item, ignoreBounds=True)
        self._image_size: tuple[int, int] | None = None
        for layer in document.layers:
            self.layer_items[layer.name].visible = layer.visible
            self.layer_items[layer.name].opacity = layer.opacity
        document.changed.connect(self._document_changed)
        document.layers.changed.connect(self._layer_changed)
        self.scene().sigMouseClicked.connect(self._mouse_clicked)
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    # ----- coordinates and view ---------------------------------------------------------
    def image_to_widget(self, x: float, y: float) -> QtCore.QPoint:
        """Widget coordinates of image pixel point ``(x, y)`` (the canvas has no frame, so these
        are also ``canvas.viewport()`` coordinates, where mouse events go)."""
        return self.mapFromScene(self.view.mapViewToScene(QtCore.QPointF(x, y)))

    def widget_to_image(self, point: QtCore.QPoint | QtCore.QPointF) -> tuple[float, float]:
        view_point = self.view.mapSceneToView(self.mapToScene(QtCore.QPoint(int(point.x()), int(point.y()))))
        return view_point.x(), view_point.y()

    def fit(self) -> None:
        """Show the whole image."""
        if self._image_size is not None:
            height, width = self._image_size
            self.view.setRange(QtCore.QRectF(0, 0, width, height), padding=0.02)

    def show_box(self, box) -> None:
        """Bring ``box`` (xyxy image pixels) into view: the whole image when the box is large
        enough to see there, else a region :data:`BOX_CONTEXT` times its size around it."""
        if self._image_size is None:
            return
        height, width = self._image_size
        x1, y1, x2, y2 = (float(v) for v in box)
        side = max(x2 - x1, y2 - y1)
        if side >= SMALL_BOX_SHARE * min(height, width):
            self.fit()
            return
        half = max(BOX_CONTEXT * side, MIN_REGION_SHARE * min(height, width)) / 2
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        self.view.setRange(QtCore.QRectF(cx - half, cy - half, 2 * half, 2 * half), padding=0)

    def zoom_actual_size(self) -> None:
        """One image pixel per screen pixel, keeping the centre of the view."""
        centre = self.view.viewRect().center()
        rect = self.view.geometry()
        width, height = rect.width(), rect.height()
        self.view.setRange(QtCore.QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height), padding=0)

    def zoom(self, factor: float) -> None:
        """Zoom in (``factor > 1``) or out around the centre of the view."""
        self.view.scaleBy(s=(1 / factor, 1 / factor))

    def set_hover(self, boxes: np.ndarray) -> None:
        """Highlight ``boxes`` (e.g. the anchor under the mouse and its GT)."""
        self.hover_item.setData(boxes, (255, 255, 255, 255))

    # ----- document observers -----------------------------------------------------------
    def _document_changed(self, aspects: frozenset) -> None:
        if Change.IMAGE in aspects:
            self._show_image()
        for name, items in self.layer_items.items():
            if self.document.layers.specs[name].aspects & aspects:
                items.dirty = True
                self._refresh(self.document.layers[name])

    def _layer_changed(self, layer: Layer, what: LayerEdit | OptionControl) -> None:
        items = self.layer_items[layer.name]
        if what is LayerEdit.VISIBLE:
            items.visible = layer.visible
            if items.dirty:
                self._refresh(layer)
            items.apply()
            for name in (spec.name for spec in self.document.layers.specs.values() if layer.name in spec.redraw_with):
                self.layer_items[name].dirty = True
                self._refresh(self.document.layers[name])
        elif what is LayerEdit.OPACITY:
            items.opacity = layer.opacity
            items.apply()
        else:
            items.dirty = True
            self._refresh(layer)

    def _refresh(self, layer: Layer) -> None:
        """Rebuild a layer's drawing now if it is visible (hidden layers catch up when shown)."""
        items = self.layer_items[layer.name]
        if items.visible and items.dirty:
            items.show(build_overlay(layer, self.document))

    def _show_image(self) -> None:
        image = self.document.image
        self.set_hover(np.zeros((0, 4)))
        if image is None:
            self.image_item.clear()
            self._image_size = None
            return
        first = self._image_size is None or self._image_size != image.size
        self.image_item.setImage(np.ascontiguousarray(image.pixels), levels=(0, 255), autoLevels=False)
        self._image_size = image.size
        if first:
            self.fit()

    # ----- mouse ------------------------------------------------------------------------
    def _mouse_clicked(self, event) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton or event.double() or self._image_size is None:
            return
        point = self.view.mapSceneToView(event.scenePos())
        self.clicked.emit(point.x(), point.y())

    def _mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        if self._image_size is None:
            return
        point = self.view.mapSceneToView(scene_pos)
        self.label_board.set_hover(point.x(), point.y())
        self.hovered.emit(point.x(), point.y())

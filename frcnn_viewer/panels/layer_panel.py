"""Layer panel: per layer a checkable group (visibility) with opacity, colour and its options.

Widgets write straight into the plain :class:`~frcnn_viewer.state.layers.Layer` objects and
follow their ``changed`` events, so a change made from code shows up here too.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..state.document import Change, Document
from ..state.layers import Layer

SUBSET_TITLES = {"all": "All anchors", "inside": "Inside the image", "cell": "One feature cell (click the image)"}
STAGE_TITLES = {"post_nms": "After NMS", "pre_nms": "Before NMS"}
TOP_K_SLIDER_MAX = 1000  # the spin box beside it goes further


def _format_value(value: float) -> str:
    return f"{value:g}"


class LayerBox(QtWidgets.QGroupBox):
    """The controls of one layer; its check box is the layer's visibility (the controls of a
    hidden layer are greyed out, as a checkable group box does)."""

    def __init__(self, layer: Layer, document: Document, parent=None) -> None:
        super().__init__(layer.title, parent)
        self.layer = layer
        self.document = document
        self.setObjectName(f"layer_{layer.name}")
        self.setCheckable(True)
        self.setChecked(layer.visible)
        self.toggled.connect(layer.set_visible)
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(6, 4, 6, 4)
        self.opacity = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(layer.opacity * 100))
        self.opacity.valueChanged.connect(lambda v: layer.set_opacity(v / 100))
        self.colour = QtWidgets.QToolButton()
        self.colour.setToolTip("Choose the layer colour")
        self.colour.clicked.connect(self._choose_colour)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.opacity, 1)
        row.addWidget(self.colour)
        form.addRow("Opacity", row)
        self.options: dict[str, QtWidgets.QWidget] = {}
        self._build_options(form)
        self._sync()
        layer.changed.connect(lambda _layer, _what: self._sync())

    def _build_options(self, form: QtWidgets.QFormLayout) -> None:
        name, options = self.layer.name, self.layer.options
        if "show_names" in options:
            self._checkbox(form, "show_names", "Class names")
        if name == "anchors":
            subset = self.options["subset"] = QtWidgets.QComboBox()
            for key, title in SUBSET_TITLES.items():
                subset.addItem(title, key)
            subset.currentIndexChanged.connect(lambda _: self.layer.set_option("subset", subset.currentData()))
            form.addRow("Show", subset)
            self.scale_row = QtWidgets.QHBoxLayout()
            self.ratio_row = QtWidgets.QHBoxLayout()
            form.addRow("Scales", self.scale_row)
            form.addRow("Ratios", self.ratio_row)
            self.document.changed.connect(self._params_changed)
            self._rebuild_shape_filters()
        elif name == "anchor_labels":
            sampled = self.options["sampled"] = QtWidgets.QComboBox()
            sampled.addItem("Sampled mini-batch", True)
            sampled.addItem("All candidates", False)
            sampled.currentIndexChanged.connect(lambda _: self.layer.set_option("sampled", sampled.currentData()))
            form.addRow("Labels", sampled)
            self._checkbox(form, "show_ignored", "Ignored anchors")
            self._checkbox(form, "show_links", "Links to matched GT")
        elif name == "proposals":
            stage = self.options["stage"] = QtWidgets.QComboBox()
            for key, title in STAGE_TITLES.items():
                stage.addItem(title, key)
            stage.currentIndexChanged.connect(lambda _: self.layer.set_option("stage", stage.currentData()))
            form.addRow("Stage", stage)
            slider = self.top_k_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            slider.setRange(0, TOP_K_SLIDER_MAX)
            top_k = self.options["top_k"] = QtWidgets.QSpinBox()
            top_k.setRange(0, 100_000)
            top_k.setSingleStep(10)
            top_k.valueChanged.connect(lambda v: self.layer.set_option("top_k", int(v)))
            slider.valueChanged.connect(top_k.setValue)
            row = QtWidgets.QHBoxLayout()
            row.addWidget(slider, 1)
            row.addWidget(top_k)
            form.addRow("Top K", row)
        elif name == "roi_samples":
            self._checkbox(form, "show_background", "Background RoIs")
        elif name == "detections":
            threshold = self.options["score_threshold"] = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            threshold.setRange(0, 100)
            self.threshold_label = QtWidgets.QLabel()
            threshold.valueChanged.connect(lambda v: self.layer.set_option("score_threshold", v / 100))
            row = QtWidgets.QHBoxLayout()
            row.addWidget(threshold, 1)
            row.addWidget(self.threshold_label)
            form.addRow("Min score", row)

    def _checkbox(self, form: QtWidgets.QFormLayout, key: str, title: str) -> None:
        box = self.options[key] = QtWidgets.QCheckBox(title)
        box.toggled.connect(lambda checked: self.layer.set_option(key, bool(checked)))
        form.addRow(box)

    def _params_changed(self, aspects: frozenset) -> None:
        if Change.PARAMS in aspects:
            self._rebuild_shape_filters()

    def _rebuild_shape_filters(self) -> None:
        """One checkbox per anchor scale and ratio of the current parameters."""
        params = self.document.parameters
        for row, key, values in ((self.scale_row, "hidden_scales", params.anchor_scales), (self.ratio_row, "hidden_ratios", params.anchor_ratios)):
            while row.count():
                row.takeAt(0).widget().deleteLater()
            for value in values:
                box = QtWidgets.QCheckBox(_format_value(value))
                box.setChecked(value not in self.layer.options[key])
                box.toggled.connect(lambda checked, k=key, v=value: self._toggle_shape(k, v, checked))
                row.addWidget(box)

    def _toggle_shape(self, key: str, value: float, shown: bool) -> None:
        hidden = set(self.layer.options[key])
        (hidden.discard if shown else hidden.add)(value)
        self.layer.set_option(key, tuple(sorted(hidden)))

    def _choose_colour(self) -> None:
        colour = QtWidgets.QColorDialog.getColor(QtGui.QColor(*self.layer.colour), self, f"{self.layer.title} colour")
        if colour.isValid():
            self.layer.set_colour((colour.red(), colour.green(), colour.blue()))

    def _sync(self) -> None:
        """Show the layer's current state without echoing it back."""
        layer = self.layer
        blockers = [QtCore.QSignalBlocker(w) for w in (self, self.opacity, *self.options.values())]
        self.setChecked(layer.visible)
        self.opacity.setValue(round(layer.opacity * 100))
        pixmap = QtGui.QPixmap(16, 16)
        pixmap.fill(QtGui.QColor(*layer.colour))
        self.colour.setIcon(QtGui.QIcon(pixmap))
        for key, widget in self.options.items():
            value = layer.options[key]
            if isinstance(widget, QtWidgets.QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QtWidgets.QComboBox):
                widget.setCurrentIndex(widget.findData(value))
            elif isinstance(widget, QtWidgets.QSpinBox):
                widget.setValue(int(value))
            elif isinstance(widget, QtWidgets.QSlider):
                widget.setValue(round(value * 100))
        if layer.name == "detections":
            self.threshold_label.setText(f"{layer.options['score_threshold']:.2f}")
        if layer.name == "proposals":
            blocker = QtCore.QSignalBlocker(self.top_k_slider)
            self.top_k_slider.setValue(min(int(layer.options["top_k"]), TOP_K_SLIDER_MAX))
            del blocker
        del blockers


class LayerPanel(QtWidgets.QScrollArea):
    """All layers, top to bottom in drawing order."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)
        self.boxes = {layer.name: LayerBox(layer, document) for layer in document.layers}
        for box in self.boxes.values():
            column.addWidget(box)
        column.addStretch(1)
        self.setWidget(body)
        # scroll up and down only: as wide as the form needs, with room for the scroll bar
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth())

"""Layer panel: per layer a checkable group (visibility) with opacity, colour and its options.

Widgets write straight into the plain :class:`~frcnn_viewer.state.layers.Layer` objects and
follow their ``changed`` events, so a change made from code shows up here too.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..state.document import Change, Document
from ..state.layer_options import Control, OptionControl
from ..state.layers import Layer
from ..state.levels import level_choices
from ..state.named import ByName


def _format_value(value: float) -> str:
    return f"{value:g}"


def _label(control: OptionControl) -> QtWidgets.QLabel:
    """The row title of an option, with its tooltip (what the option changes)."""
    label = QtWidgets.QLabel(control.title)
    label.setToolTip(control.tip)
    return label


class LayerBox(QtWidgets.QGroupBox):
    """The controls of one layer; its check box is the layer's visibility (the controls of a
    hidden layer are greyed out, as a checkable group box does)."""

    def __init__(self, layer: Layer, document: Document, parent=None) -> None:
        super().__init__(layer.title, parent)
        self.layer = layer
        self.document = document
        self.setObjectName(f"layer_{layer.name.value}")
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
        self.options: dict[str, QtWidgets.QWidget] = {}  # the control of each option
        self.sliders: dict[str, QtWidgets.QSlider] = {}  # the slider beside a count's spin box
        self.value_labels: dict[str, QtWidgets.QLabel] = {}  # the value shown beside a fraction's slider
        self._build_options(form)
        self._sync()
        layer.changed.connect(lambda _layer, _what: self._sync())

    def _build_options(self, form: QtWidgets.QFormLayout) -> None:
        """One control per option, as the layer's spec declares them."""
        self.shape_rows: dict[str, tuple[OptionControl, QtWidgets.QHBoxLayout]] = {}
        self.choices: dict[str, tuple] = {}  # the values of a choice's items, in order
        self.level_boxes: dict[str, QtWidgets.QComboBox] = {}
        for control in self.document.layers.specs[self.layer.name].controls:
            build = {
                Control.CHECK: self._checkbox, Control.CHOICE: self._choice, Control.COUNT: self._count,
                Control.FRACTION: self._fraction, Control.ANCHOR_SHAPES: self._anchor_shapes, Control.LEVEL: self._level,
            }[control.control]
            build(form, control)
        if self.shape_rows or self.level_boxes:
            self.document.changed.connect(self._params_changed)
            self._rebuild_shape_filters()
            self._refill_levels()

    def _choice(self, form: QtWidgets.QFormLayout, control: OptionControl) -> None:
        box = self.options[control.key] = QtWidgets.QComboBox()
        self.choices[control.key] = tuple(value for value, _title in control.choices)
        for _value, title in control.choices:
            box.addItem(title)
        box.currentIndexChanged.connect(lambda index: self.layer.set_option(control.key, self.choices[control.key][index]))
        box.setToolTip(control.tip)
        form.addRow(_label(control), box)

    def _level(self, form: QtWidgets.QFormLayout, control: OptionControl) -> None:
        """A choice over the feature levels of the model shown, refilled when they change."""
        box = self.options[control.key] = self.level_boxes[control.key] = QtWidgets.QComboBox()
        self.choices[control.key] = ()
        box.currentIndexChanged.connect(lambda index: index >= 0 and self.layer.set_option(control.key, self.choices[control.key][index]))
        box.setToolTip(control.tip)
        form.addRow(_label(control), box)

    def _refill_levels(self) -> None:
        """All levels, then each level of the model shown (:func:`~frcnn_viewer.state.levels.level_choices`)."""
        choices = level_choices(self.document.feature_levels())
        for key, box in self.level_boxes.items():
            if self.choices[key] == tuple(value for value, _title in choices):
                continue
            self.choices[key] = tuple(value for value, _title in choices)
            blocker = QtCore.QSignalBlocker(box)
            box.clear()
            box.addItems([title for _value, title in choices])
            del blocker
        self._sync()

    def _count(self, form: QtWidgets.QFormLayout, control: OptionControl) -> None:
        slider = self.sliders[control.key] = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        slider.setRange(0, control.slider_maximum)
        spin = self.options[control.key] = QtWidgets.QSpinBox()
        spin.setRange(0, control.maximum)
        spin.setSingleStep(10)
        spin.valueChanged.connect(lambda v: self.layer.set_option(control.key, int(v)))
        slider.valueChanged.connect(spin.setValue)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(slider, 1)
        row.addWidget(spin)
        form.addRow(_label(control), row)

    def _fraction(self, form: QtWidgets.QFormLayout, control: OptionControl) -> None:
        slider = self.options[control.key] = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        slider.setRange(0, 100)
        label = self.value_labels[control.key] = QtWidgets.QLabel()
        slider.valueChanged.connect(lambda v: self.layer.set_option(control.key, v / 100))
        slider.setToolTip(control.tip)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(slider, 1)
        row.addWidget(label)
        form.addRow(_label(control), row)

    def _anchor_shapes(self, form: QtWidgets.QFormLayout, control: OptionControl) -> None:
        row = QtWidgets.QHBoxLayout()
        self.shape_rows[control.key] = (control, row)
        form.addRow(_label(control), row)

    def _checkbox(self, form: QtWidgets.QFormLayout, control: OptionControl) -> None:
        box = self.options[control.key] = QtWidgets.QCheckBox(control.title)
        box.toggled.connect(lambda checked: self.layer.set_option(control.key, bool(checked)))
        box.setToolTip(control.tip)
        form.addRow(box)

    def _params_changed(self, aspects: frozenset) -> None:
        if Change.PARAMS in aspects and self.shape_rows:
            self._rebuild_shape_filters()
        if aspects & {Change.MODEL, Change.TRACE} and self.level_boxes:
            self._refill_levels()

    def _rebuild_shape_filters(self) -> None:
        """One checkbox per anchor scale and ratio of the current parameters."""
        for key, (control, row) in self.shape_rows.items():
            values = getattr(self.document.parameters, control.values_of)
            while row.count():
                row.takeAt(0).widget().deleteLater()
            for value in values:
                box = QtWidgets.QCheckBox(_format_value(value))
                box.setChecked(value not in getattr(self.layer.options, key))
                box.toggled.connect(lambda checked, k=key, v=value: self._toggle_shape(k, v, checked))
                row.addWidget(box)

    def _toggle_shape(self, key: str, value: float, shown: bool) -> None:
        hidden = set(getattr(self.layer.options, key))
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
            value = getattr(layer.options, key)
            if isinstance(widget, QtWidgets.QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QtWidgets.QComboBox):  # a level the model lacks: all are drawn (item 0)
                widget.setCurrentIndex(self.choices[key].index(value) if value in self.choices[key] else 0)
            elif isinstance(widget, QtWidgets.QSpinBox):
                widget.setValue(int(value))
            elif isinstance(widget, QtWidgets.QSlider):
                widget.setValue(round(value * 100))
        for key, label in self.value_labels.items():
            label.setText(f"{getattr(layer.options, key):.2f}")
        for key, slider in self.sliders.items():
            blocker = QtCore.QSignalBlocker(slider)
            slider.setValue(min(int(getattr(layer.options, key)), slider.maximum()))
            del blocker
        del blockers


class LayerPanel(QtWidgets.QScrollArea):
    """All layers, top to bottom in drawing order."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)
        self.boxes = ByName((layer.name, LayerBox(layer, document)) for layer in document.layers)
        for box in self.boxes.values():
            column.addWidget(box)
        column.addStretch(1)
        self.setWidget(body)
        # scroll up and down only: as wide as the form needs, with room for the scroll bar
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth())

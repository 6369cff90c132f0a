"""Parameter panel: anchor design, target assignment, proposal layer and detection settings.

Editing a field applies it at once: anchor and assignment fields relabel the anchors
in the document (no model needed); proposal and detection fields make the window
re-run the model on the current image.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from PySide6 import QtCore, QtWidgets

from frcnn_core.config import ANCHOR_ASSIGNMENT_FIELDS, FIELDS, INFERENCE_FIELDS, AtLeast, DetectorConfig, Within, stages_to_rerun
from frcnn_core.trace.stages import Stage

from ..state.document import Change, Document

LARGEST = 1_000_000  # the spin boxes' limit for a field with no upper bound


class NumberField(NamedTuple):
    """A spin box over one numeric ``DetectorConfig`` field: its title, range, step and decimals
    (0: an integer field), all derived from the field's declaration in :mod:`frcnn_core.config`."""

    key: str
    title: str
    minimum: float
    maximum: float
    step: float
    decimals: int


def number_field(name: str) -> NumberField:
    """The spin box of field ``name``: the title of its declaration, the range of its check, a step
    of about a tenth of its default (integers) or 0.01 (fractions) and 1 (pixels)."""
    spec, default = FIELDS[name], DetectorConfig.__dataclass_fields__[name].default
    check = spec.check
    if isinstance(default, int):
        low = check.low if isinstance(check, AtLeast) else 1
        return NumberField(name, spec.title, low, LARGEST, max(1, 10 ** (int(math.log10(max(default, 1))) - 1)), 0)
    if isinstance(check, Within):
        return NumberField(name, spec.title, check.low + (0.01 if check.open_low else 0.0), check.high, 0.01, 2)
    # no upper bound: inf is a value (torchvision's rule for the allowed border: every anchor takes part)
    return NumberField(name, spec.title, check.low if isinstance(check, AtLeast) else 0.0, math.inf, 1.0, 1)


def tooltip(name: str) -> str:
    """What field ``name`` is, and what changing it does: the stages it re-runs, or a relabelling."""
    spec = FIELDS[name]
    if name in INFERENCE_FIELDS:
        stages = stages_to_rerun([name])
        effect = "re-runs the model's " + ", ".join(stage.value for stage in Stage if stage in stages)
    else:
        effect = "relabels the anchors at once, no model needed"
    return f"{spec.doc}.\n{name}: {effect}."


# Our detector's input size stays its checkpoint's (the trace keeps it; the fields would only move
# the anchor grid drawn without the model): the panel offers it, among the fields that re-run the
# model, for a model whose anchors come from its trace (torchvision).
INPUT_SIZE_FIELDS = ("min_size", "max_size")
# What the panel edits, in order: the DetectorConfig fields the viewer may change (titles, ranges
# and help from their declarations in frcnn_core.config)
SEQUENCE_FIELDS = tuple((name, FIELDS[name].title) for name in ANCHOR_ASSIGNMENT_FIELDS if isinstance(DetectorConfig.__dataclass_fields__[name].default, tuple))
ANCHOR_FIELDS = tuple(number_field(name) for name in ANCHOR_ASSIGNMENT_FIELDS if name not in dict(SEQUENCE_FIELDS) and name not in INPUT_SIZE_FIELDS)
PROPOSAL_FIELDS = tuple(number_field(name) for name in (*INPUT_SIZE_FIELDS, *INFERENCE_FIELDS))
ANCHORS_TITLE = "Anchors and assignment (no model needed)"
TRACED_ANCHORS_TITLE = "Anchors (the model's own) and assignment (re-run the model)"


def parse_numbers(text: str) -> tuple[float, ...]:
    """``"8, 16 32"`` -> ``(8.0, 16.0, 32.0)``; raises ``ValueError`` naming the bad item."""
    items = [item for item in text.replace(",", " ").split() if item]
    try:
        return tuple(float(item) for item in items)
    except ValueError:
        raise ValueError(f"expected numbers separated by commas, got {text!r}") from None


class ParameterPanel(QtWidgets.QScrollArea):
    """Form over ``document.parameters``, scrolling when its dock is short.

    ``widgets`` maps each ``DetectorConfig`` field name (``anchor_scales``, ``anchor_ratios``,
    ``anchor_stride``, ``rpn_pos_iou``, …, ``rpn_pre_nms_top_n_test``, …) to its editor.
    """

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.widgets: dict[str, QtWidgets.QWidget] = {}
        self.setWidgetResizable(True)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)
        anchors = self.anchor_group = QtWidgets.QGroupBox(ANCHORS_TITLE)
        form = QtWidgets.QFormLayout(anchors)
        for key, title in SEQUENCE_FIELDS:
            edit = self.widgets[key] = QtWidgets.QLineEdit()
            edit.editingFinished.connect(lambda k=key: self._sequence_edited(k))
            edit.setToolTip(tooltip(key))
            form.addRow(title, edit)
        for spec in ANCHOR_FIELDS:
            form.addRow(spec.title, self._number(spec))
        column.addWidget(anchors)
        proposals = QtWidgets.QGroupBox("Proposals and detections (re-run the model)")
        form = QtWidgets.QFormLayout(proposals)
        for spec in PROPOSAL_FIELDS:
            form.addRow(spec.title, self._number(spec))
        column.addWidget(proposals)
        reset = QtWidgets.QPushButton("Reset to the model's values")
        reset.clicked.connect(self.reset)
        column.addWidget(reset)
        column.addStretch(1)
        self.setWidget(body)
        # scroll up and down only: as wide as the form needs, with room for the scroll bar
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth())
        document.changed.connect(self._document_changed)
        self._sync()

    def _number(self, spec: NumberField) -> QtWidgets.QAbstractSpinBox:
        key, _, low, high, step, decimals = spec
        box = QtWidgets.QSpinBox() if decimals == 0 else QtWidgets.QDoubleSpinBox()
        if decimals:
            box.setDecimals(decimals)
        box.setRange(low, high)
        box.setSingleStep(step)
        box.setToolTip(tooltip(key))
        box.setKeyboardTracking(False)  # apply on Enter / arrows, not on every keystroke
        box.valueChanged.connect(lambda value, k=key: self._edited(k, value))
        self.widgets[key] = box
        return box

    def _sequence_edited(self, key: str) -> None:
        try:
            values = parse_numbers(self.widgets[key].text())
        except ValueError as exc:
            self.document.report("error", f"{key} not applied: {exc}")
            self._sync()
            return
        self._edited(key, values)

    def _edited(self, key: str, value) -> None:
        if not self.document.set_parameters(**{key: value}):
            self._sync()

    def reset(self) -> None:
        """Back to the values of the loaded model."""
        if self.document.model is not None:
            self.document.set_model(self.document.model)

    def _document_changed(self, aspects: frozenset) -> None:
        if aspects & {Change.PARAMS, Change.MODEL}:
            self._sync()

    def _sync(self) -> None:
        """Show the parameters; a field the model has no setting for is greyed out (a torchvision
        model's anchor grid, our detector's input size)."""
        doc = self.document
        parameters = doc.parameters
        adjustable = set(doc.adjustable_fields())
        if doc.model is None or doc.model.anchors_from_parameters:
            adjustable -= set(INPUT_SIZE_FIELDS)
        self.anchor_group.setTitle(ANCHORS_TITLE if doc.model is None or doc.model.anchors_from_parameters else TRACED_ANCHORS_TITLE)
        for key, widget in self.widgets.items():
            widget.setEnabled(key in adjustable)
            blocker = QtCore.QSignalBlocker(widget)
            if isinstance(widget, QtWidgets.QLineEdit):
                widget.setText(", ".join(f"{v:g}" for v in getattr(parameters, key)))
            else:
                widget.setValue(getattr(parameters, key))
            del blocker

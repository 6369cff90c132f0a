"""Parameter panel: anchor design, target assignment, proposal layer and detection settings.

Editing a field applies it at once: anchor and assignment fields relabel the anchors
in the document (no model needed); proposal and detection fields make the window
re-run the model on the current image.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from ..state.document import Change, Document

# (DetectorConfig field, title, minimum, maximum, step, decimals); decimals 0: an integer field
ANCHOR_FIELDS = (
    ("anchor_stride", "Stride (px)", 1, 256, 1, 0),
    ("rpn_pos_iou", "Positive IoU ≥", 0.0, 1.0, 0.05, 2),
    ("rpn_neg_iou", "Negative IoU <", 0.0, 1.0, 0.05, 2),
    ("rpn_num_samples", "Sample size", 1, 100_000, 16, 0),
    ("rpn_pos_fraction", "Positive fraction", 0.01, 1.0, 0.05, 2),
    ("rpn_allowed_border", "Allowed border (px)", 0.0, math.inf, 16.0, 1),  # inf: every anchor (torchvision's rule)
    ("rpn_positives_per_gt", "Best anchors per GT", 0, 1000, 1, 0),
)
PROPOSAL_FIELDS = (
    ("min_size", "Input shorter side (px)", 32, 10_000, 32, 0),
    ("max_size", "Input longer side at most (px)", 32, 20_000, 32, 0),
    ("rpn_pre_nms_top_n_test", "Pre-NMS top N", 1, 1_000_000, 100, 0),
    ("rpn_post_nms_top_n_test", "Post-NMS top N", 1, 100_000, 50, 0),
    ("rpn_nms_thresh", "RPN NMS IoU", 0.0, 1.0, 0.05, 2),
    ("rpn_min_size", "Min proposal size (px)", 0.0, 10_000.0, 1.0, 1),
    ("rpn_score_thresh", "Min proposal objectness", 0.0, 1.0, 0.01, 2),
    ("score_thresh", "Detection min score", 0.0, 1.0, 0.01, 2),
    ("nms_thresh", "Detection NMS IoU", 0.0, 1.0, 0.05, 2),
    ("detections_per_image", "Max detections", 1, 100_000, 10, 0),
)
# Our detector's input size is its checkpoint's (the trace keeps it; the fields only move the anchor
# grid drawn without the model): the panel offers it for a model that re-runs with it (torchvision).
INPUT_SIZE_FIELDS = ("min_size", "max_size")
ANCHORS_TITLE = "Anchors and assignment (no model needed)"
TRACED_ANCHORS_TITLE = "Anchors (the model's own) and assignment (re-run the model)"
SEQUENCE_FIELDS = (("anchor_scales", "Scales"), ("anchor_ratios", "Ratios (h/w)"))


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
            form.addRow(title, edit)
        for spec in ANCHOR_FIELDS:
            form.addRow(spec[1], self._number(spec))
        column.addWidget(anchors)
        proposals = QtWidgets.QGroupBox("Proposals and detections (re-run the model)")
        form = QtWidgets.QFormLayout(proposals)
        for spec in PROPOSAL_FIELDS:
            form.addRow(spec[1], self._number(spec))
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

    def _number(self, spec: tuple) -> QtWidgets.QAbstractSpinBox:
        key, _, low, high, step, decimals = spec
        box = QtWidgets.QSpinBox() if decimals == 0 else QtWidgets.QDoubleSpinBox()
        if decimals:
            box.setDecimals(decimals)
        box.setRange(low, high)
        box.setSingleStep(step)
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

"""Parameter panel: anchor design, target assignment, proposal layer and detection settings.

Editing a field applies it at once: anchor and assignment fields relabel the anchors
in the document (no model needed); proposal and detection fields make the window
re-run the model on the current image.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..document import Document

# (field, title, minimum, maximum, step, decimals); decimals 0 means an integer field
ANCHOR_FIELDS = (
    ("stride", "Stride (px)", 1, 256, 1, 0),
    ("pos_iou", "Positive IoU ≥", 0.0, 1.0, 0.05, 2),
    ("neg_iou", "Negative IoU <", 0.0, 1.0, 0.05, 2),
    ("num_samples", "Sample size", 1, 100_000, 16, 0),
    ("pos_fraction", "Positive fraction", 0.01, 1.0, 0.05, 2),
    ("allowed_border", "Allowed border (px)", 0.0, 100_000.0, 16.0, 1),
    ("positives_per_gt", "Best anchors per GT", 0, 1000, 1, 0),
)
PROPOSAL_FIELDS = (
    ("pre_nms_top_n", "Pre-NMS top N", 1, 1_000_000, 100, 0),
    ("post_nms_top_n", "Post-NMS top N", 1, 100_000, 50, 0),
    ("nms_thresh", "RPN NMS IoU", 0.0, 1.0, 0.05, 2),
    ("min_proposal_size", "Min proposal size (px)", 0.0, 10_000.0, 1.0, 1),
    ("score_thresh", "Detection min score", 0.0, 1.0, 0.01, 2),
    ("detection_nms_thresh", "Detection NMS IoU", 0.0, 1.0, 0.05, 2),
)


def parse_numbers(text: str) -> tuple[float, ...]:
    """``"8, 16 32"`` -> ``(8.0, 16.0, 32.0)``; raises ``ValueError`` naming the bad item."""
    items = [item for item in text.replace(",", " ").split() if item]
    try:
        return tuple(float(item) for item in items)
    except ValueError:
        raise ValueError(f"expected numbers separated by commas, got {text!r}") from None


class ParameterPanel(QtWidgets.QWidget):
    """Form over ``document.anchor_params`` and ``document.proposal_params``.

    ``widgets`` maps each field name (``scales``, ``ratios``, ``stride``, ``pos_iou``, …,
    ``pre_nms_top_n``, …) to its editor.
    """

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.widgets: dict[str, QtWidgets.QWidget] = {}
        column = QtWidgets.QVBoxLayout(self)
        anchors = QtWidgets.QGroupBox("Anchors and assignment (no model needed)")
        form = QtWidgets.QFormLayout(anchors)
        for key, title in (("scales", "Scales"), ("ratios", "Ratios (h/w)")):
            edit = self.widgets[key] = QtWidgets.QLineEdit()
            edit.editingFinished.connect(lambda k=key: self._sequence_edited(k))
            form.addRow(title, edit)
        for spec in ANCHOR_FIELDS:
            form.addRow(spec[1], self._number(spec, self._anchor_edited))
        column.addWidget(anchors)
        proposals = QtWidgets.QGroupBox("Proposals and detections (re-run the model)")
        form = QtWidgets.QFormLayout(proposals)
        for spec in PROPOSAL_FIELDS:
            form.addRow(spec[1], self._number(spec, self._proposal_edited))
        column.addWidget(proposals)
        reset = QtWidgets.QPushButton("Reset to the model's values")
        reset.clicked.connect(self.reset)
        column.addWidget(reset)
        column.addStretch(1)
        document.changed.connect(self._document_changed)
        self._sync()

    def _number(self, spec: tuple, handler) -> QtWidgets.QAbstractSpinBox:
        key, _, low, high, step, decimals = spec
        box = QtWidgets.QSpinBox() if decimals == 0 else QtWidgets.QDoubleSpinBox()
        if decimals:
            box.setDecimals(decimals)
        box.setRange(low, high)
        box.setSingleStep(step)
        box.setKeyboardTracking(False)  # apply on Enter / arrows, not on every keystroke
        box.valueChanged.connect(lambda value, k=key: handler(k, value))
        self.widgets[key] = box
        return box

    def _sequence_edited(self, key: str) -> None:
        try:
            values = parse_numbers(self.widgets[key].text())
        except ValueError as exc:
            self.document.report("error", f"anchor {key} not applied: {exc}")
            self._sync()
            return
        if not self.document.set_anchor_params(**{key: values}):
            self._sync()

    def _anchor_edited(self, key: str, value) -> None:
        if not self.document.set_anchor_params(**{key: value}):
            self._sync()

    def _proposal_edited(self, key: str, value) -> None:
        if not self.document.set_proposal_params(**{key: value}):
            self._sync()

    def reset(self) -> None:
        """Back to the values of the loaded model."""
        if self.document.model is not None:
            self.document.set_model(self.document.model)

    def _document_changed(self, aspects: frozenset) -> None:
        if "params" in aspects:
            self._sync()

    def _sync(self) -> None:
        anchor, proposal = self.document.anchor_params, self.document.proposal_params
        for key, widget in self.widgets.items():
            blocker = QtCore.QSignalBlocker(widget)
            if key in ("scales", "ratios"):
                widget.setText(", ".join(f"{v:g}" for v in getattr(anchor, key)))
            else:
                widget.setValue(getattr(anchor if hasattr(anchor, key) else proposal, key))
            del blocker

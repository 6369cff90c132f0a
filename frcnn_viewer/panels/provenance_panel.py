"""Provenance panel: where the selected detection came from, with its class scores as bars, and
the evidence of the label issue being looked at (:meth:`ProvenancePanel.set_evidence`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..state.document import Change, Document
from ..state.provenance import Provenance


def _box(values: list[float]) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in values) + ")"


def _deltas(values: list[float]) -> str:
    return "  ".join(f"{name} {v:+.3f}" for name, v in zip(("dx", "dy", "dw", "dh"), values))


def describe(p: Provenance) -> str:
    """The provenance as rich text, from the detection back to its anchor."""
    voting = f"then box voting: the mean of its class's boxes of IoU ≥ {p.box_vote_iou:g}, weighted by score<br>" if p.box_vote_iou > 0 else ""
    return (
        f"<b>Detection {p.detection}</b>: {p.label} {p.score:.3f}<br>box {_box(p.box)}<br>"
        f"head deltas applied: {_deltas(p.deltas)}<br>{voting}<br>"
        f"<b>from proposal {p.proposal}</b>: objectness {p.objectness:.3f}<br>box {_box(p.proposal_box)}<br><br>"
        f"<b>from anchor {p.anchor}</b>: level {p.anchor_level}, cell {p.anchor_cell}, scale {p.anchor_shape[0]:g}, ratio {p.anchor_shape[1]:g}<br>"
        f"box {_box(p.anchor_box)}<br>RPN deltas: {_deltas(p.rpn_deltas)}"
    )


class ProvenancePanel(QtWidgets.QWidget):
    """Text of the provenance chain and a bar chart of the class-score distribution (one BarGraphItem).

    Above them, the evidence of a label issue when one is being looked at (:meth:`set_evidence`):
    its stage values and, when no detection is selected, the head's class scores on the
    labelled box as the bars."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self._evidence_scores: tuple[list[float], list[str]] | None = None
        column = QtWidgets.QVBoxLayout(self)
        self.evidence = QtWidgets.QLabel()
        self.evidence.setObjectName("issue_evidence")
        self.evidence.setWordWrap(True)
        self.evidence.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.evidence.hide()
        column.addWidget(self.evidence)
        self.text = QtWidgets.QLabel("Click a detection on the image to see where it came from.")
        self.text.setWordWrap(True)
        column.addWidget(self.text)
        self.plot = pg.PlotWidget(background=None)
        self.plot.setMinimumHeight(140)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setYRange(0, 1)
        self.plot.setLabel("left", "class score")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=(0, 200, 120))
        self.plot.addItem(self.bars)
        column.addWidget(self.plot, 1)
        document.changed.connect(self._changed)

    def _changed(self, aspects: frozenset) -> None:
        if aspects & {Change.SELECTION, Change.TRACE, Change.IMAGE}:
            self.refresh()

    def set_evidence(self, html: str | None, class_scores: Sequence[float] | None = None, class_names: Sequence[str] = ()) -> None:
        """Show a label issue's evidence (rich text) above the provenance; ``class_scores`` (background
        first, named ``class_names``) are drawn as the bars while no detection is selected.
        ``None`` hides it."""
        self.evidence.setVisible(html is not None)
        self.evidence.setText(html or "")
        self._evidence_scores = None if class_scores is None else (list(class_scores), list(class_names))
        self.refresh()

    def refresh(self) -> None:
        provenance = self.document.provenance()
        if provenance is None:
            self.text.setText("Click a detection on the image to see where it came from.")
            if self._evidence_scores is not None:
                self._draw_bars(*self._evidence_scores)
            else:
                self.bars.setOpts(x=[], height=[])
            return
        self.text.setText(describe(provenance))
        self._draw_bars(provenance.class_scores, provenance.class_names)

    def _draw_bars(self, scores: Sequence[float], names: Sequence[str]) -> None:
        x = np.arange(len(scores))
        self.bars.setOpts(x=x, height=np.asarray(scores), width=0.7)
        self.plot.getAxis("bottom").setTicks([list(zip(x.tolist(), names))])
        self.plot.setXRange(-0.6, len(x) - 0.4, padding=0)

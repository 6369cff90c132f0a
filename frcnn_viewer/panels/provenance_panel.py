"""Provenance panel: where the selected detection came from, with its class scores as bars."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from ..state.document import Change, Document
from ..state.provenance import Provenance


def _box(values: list[float]) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in values) + ")"


def _deltas(values: list[float]) -> str:
    return "  ".join(f"{name} {v:+.3f}" for name, v in zip(("dx", "dy", "dw", "dh"), values))


def describe(p: Provenance) -> str:
    """The provenance as rich text, from the detection back to its anchor."""
    return (
        f"<b>Detection {p.detection}</b>: {p.label} {p.score:.3f}<br>box {_box(p.box)}<br>"
        f"head deltas applied: {_deltas(p.deltas)}<br><br>"
        f"<b>from proposal {p.proposal}</b>: objectness {p.objectness:.3f}<br>box {_box(p.proposal_box)}<br><br>"
        f"<b>from anchor {p.anchor}</b>: level {p.anchor_level}, cell {p.anchor_cell}, scale {p.anchor_shape[0]:g}, ratio {p.anchor_shape[1]:g}<br>"
        f"box {_box(p.anchor_box)}<br>RPN deltas: {_deltas(p.rpn_deltas)}"
    )


class ProvenancePanel(QtWidgets.QWidget):
    """Text of the provenance chain and a bar chart of the class-score distribution (one BarGraphItem)."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        column = QtWidgets.QVBoxLayout(self)
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

    def refresh(self) -> None:
        provenance = self.document.provenance()
        if provenance is None:
            self.text.setText("Click a detection on the image to see where it came from.")
            self.bars.setOpts(x=[], height=[])
            return
        self.text.setText(describe(provenance))
        x = np.arange(len(provenance.class_scores))
        self.bars.setOpts(x=x, height=np.asarray(provenance.class_scores), width=0.7)
        self.plot.getAxis("bottom").setTicks([list(zip(x.tolist(), provenance.class_names))])
        self.plot.setXRange(-0.6, len(x) - 0.4, padding=0)

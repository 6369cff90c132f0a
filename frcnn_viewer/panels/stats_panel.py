"""Statistics panel: the document's counts, and the one-line summary for the status bar."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..state.document import Document

COUNT_TITLES = {
    "gt_boxes": "GT boxes",
    "anchors": "Anchors",
    "inside": "Inside the image",
    "positive": "Positive (sampled)",
    "negative": "Negative (sampled)",
    "ignored": "Ignored",
    "candidate_positive": "Positive candidates",
    "candidate_negative": "Negative candidates",
    "gt_without_positive": "GT without a positive anchor",
    "pre_nms_proposals": "Proposals before NMS",
    "proposals": "Proposals after NMS",
    "fg_rois": "Foreground RoIs",
    "bg_rois": "Background RoIs",
    "detections": "Detections",
    "shown_detections": "Detections ≥ min score",
    "true_positives": "True positives",
    "false_positives": "False positives",
    "missed": "Missed GT (IoU 0.5)",
}


def summary_line(counts: dict) -> str:
    """The status bar's digest of :meth:`Document.counts`."""
    parts = []
    if "anchors" in counts:
        parts.append(f"anchors {counts['anchors']} ({counts['inside']} inside)")
        parts.append(f"+{counts['positive']} / -{counts['negative']} / ignored {counts['ignored']}")
    if "gt_without_positive" in counts:
        parts.append(f"GT without positive {counts['gt_without_positive']}")
    if "proposals" in counts:
        parts.append(f"proposals {counts['proposals']}")
    if "detections" in counts:
        parts.append(f"detections {counts['shown_detections']}/{counts['detections']}")
    if "missed" in counts:
        parts.append(f"TP {counts['true_positives']} FP {counts['false_positives']} missed {counts['missed']}")
    return "  ·  ".join(parts)


class StatsPanel(QtWidgets.QScrollArea):
    """A form of every count the document knows for the current image (``values`` by count key),
    scrolling when its dock is short."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWidgetResizable(True)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        body = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(body)
        self.values: dict[str, QtWidgets.QLabel] = {}
        for key, title in COUNT_TITLES.items():
            label = self.values[key] = QtWidgets.QLabel("–")
            label.setObjectName(f"count_{key}")
            form.addRow(title, label)
        self.setWidget(body)
        # scroll up and down only: as wide as the form needs, with room for the scroll bar
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth())
        document.changed.connect(lambda _aspects: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        counts = self.document.counts()
        for key, label in self.values.items():
            label.setText(str(counts[key]) if key in counts else "–")

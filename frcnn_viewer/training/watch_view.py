"""The watch image: a small view of the current model's proposals and detections on one image.

It draws a :class:`~.session.WatchResult` (a trace made in the training thread, in eval
mode, between two steps) over the image the user picked: the top proposals by objectness
and the detections above a score threshold, each group as one item.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from frcnn_core import DetectorConfig

from ..items import BoxOutlineItem, TextLabelsItem
from ..state.sources import LoadedImage
from ..state.training.session import WatchResult

TOP_PROPOSALS = 20
SCORE_THRESHOLD = 0.5
PROPOSAL_COLOUR = (255, 140, 0, 200)
DETECTION_COLOUR = (0, 230, 120)


class WatchView(QtWidgets.QWidget):
    """Image, proposals (orange), detections (green, named) and a caption."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.view = pg.GraphicsView(background=(40, 40, 40))
        self.box = pg.ViewBox(invertY=True, lockAspect=True, enableMenu=False, defaultPadding=0.0)
        self.view.setCentralItem(self.box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.proposals = BoxOutlineItem()
        self.detections = BoxOutlineItem(line_width=2)
        self.labels = TextLabelsItem()
        for z, item in enumerate((self.image_item, self.proposals, self.detections, self.labels)):
            item.setZValue(z)
            self.box.addItem(item, ignoreBounds=True)
        self.caption = QtWidgets.QLabel("No watch image: show an image and press “Watch this image”.")
        self.caption.setWordWrap(True)
        column.addWidget(self.view, 1)
        column.addWidget(self.caption)

    def set_image(self, image: LoadedImage | None, name: str = "") -> None:
        """Show ``image`` (``None`` clears the view) and forget the previous result."""
        self.proposals.setData(np.zeros((0, 4)), PROPOSAL_COLOUR)
        self.detections.setData(np.zeros((0, 4)), (*DETECTION_COLOUR, 255))
        self.labels.setData([])
        if image is None:
            self.image_item.clear()
            self.caption.setText("No watch image.")
            return
        self.image_item.setImage(image.pixels, levels=(0, 255), autoLevels=False)
        height, width = image.size
        self.box.setRange(xRange=(0, width), yRange=(0, height), padding=0.02)
        self.caption.setText(f"Watching {name}: waiting for the next refresh…")

    def set_result(self, result: WatchResult, config: DetectorConfig, name: str = "") -> None:
        trace = result.trace
        scores = trace.proposal_scores.numpy()
        top = np.argsort(-scores, kind="stable")[:TOP_PROPOSALS]
        self.proposals.setData(trace.proposals.numpy()[top], PROPOSAL_COLOUR)
        det = trace.detections
        shown = np.nonzero(det.scores.numpy() >= SCORE_THRESHOLD)[0]
        boxes = det.boxes.numpy()[shown]
        self.detections.setData(boxes, (*DETECTION_COLOUR, 255))
        self.labels.setData([
            (float(b[0]), float(b[1]), f"{config.label_name(int(det.labels[i]))} {float(det.scores[i]):.2f}", DETECTION_COLOUR)
            for b, i in zip(boxes, shown)
        ])
        self.caption.setText(
            f"{name} at iteration {result.iteration}: top {len(top)} of {len(scores)} proposals, "
            f"{len(shown)} detections ≥ {SCORE_THRESHOLD}"
        )

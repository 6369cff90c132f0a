"""The anchor designer's numbers: how well the current anchors cover every GT box of the open
images, and anchors that would cover them better. Plain Python, run in a worker thread.

Everything is measured by :mod:`frcnn_core.anchors.coverage` (the real stride-16 grid at the
network's input size, only the anchors the assignment rule may use) and found by
:func:`frcnn_core.anchors.optimizer.optimize_anchors`, exactly as ``frcnn anchors --optimize``
and the training-start check do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from frcnn_core import DetectorConfig
from frcnn_core.anchors.coverage import AnchorLayout, CoverageReport, GtBoxes, InputBoxes, grid_coverage
from frcnn_core.anchors.optimizer import AnchorSearch, optimize_anchors

from .sources import ImageEntry


def gt_boxes_of(entries: Sequence[ImageEntry]) -> GtBoxes:
    """The GT boxes of the annotated entries (difficult ones left out, as training does),
    read from each dataset's records without decoding pixels; ``image_index`` is the entry's."""
    return GtBoxes.from_records((i, entry.info()) for i, entry in enumerate(entries) if entry.source.annotated)


@dataclass(frozen=True)
class DesignRequest:
    """Measure ``layout`` on the GT boxes of ``entries`` (and, with ``optimise``, search better
    anchors); ``key`` identifies the answer, so a stale one is dropped; ``entries_version``
    changes whenever the list does (the boxes are read once per version)."""

    key: int
    entries: Sequence[ImageEntry]
    entries_version: int
    layout: AnchorLayout
    optimise: bool = False


@dataclass(frozen=True)
class AnchorDesign:
    """The answer to a :class:`DesignRequest`.

    Attributes:
        coverage: each GT box's best usable-anchor IoU under the request's layout.
        box_sizes: ``[N, 2]`` float32 width and height of each GT box in network-input pixels.
        anchor_sizes: ``[A, 2]`` float32 width and height of each anchor shape (a cell's order).
        search: the optimiser's run (``None`` unless asked); its ``layout`` is never worse.
    """

    key: int
    coverage: CoverageReport
    box_sizes: np.ndarray
    anchor_sizes: np.ndarray
    search: AnchorSearch | None = None


def layout_of(config: DetectorConfig) -> AnchorLayout:
    """The anchor knobs of the viewer's parameters."""
    return AnchorLayout.from_config(config)


class AnchorDesigner:
    """Answers :class:`DesignRequest` s, keeping the GT boxes of the latest entry list."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._gt = gt_boxes_of(())

    def gt_boxes(self, request: DesignRequest) -> GtBoxes:
        if request.entries_version != self._version:
            self._gt, self._version = gt_boxes_of(request.entries), request.entries_version
        return self._gt

    def design(self, request: DesignRequest) -> AnchorDesign:
        """Coverage (and optimised anchors) for ``request``: 10 000 boxes take milliseconds,
        the optimiser seconds."""
        gt, layout = self.gt_boxes(request), request.layout
        resized = InputBoxes.resize(gt, layout.min_size, layout.max_size, layout.anchor_stride)
        b = resized.boxes
        box_sizes = torch.stack((b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]), dim=1).numpy().astype(np.float32)
        search = optimize_anchors(gt, layout) if request.optimise and len(gt) else None
        return AnchorDesign(request.key, grid_coverage(resized, layout), box_sizes, layout.shapes().numpy().astype(np.float32), search)

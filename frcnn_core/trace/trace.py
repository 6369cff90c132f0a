"""The trace: every intermediate of the detector for one image, ready to draw.

All tensors are detached CPU tensors. Every box is ``(x1, y1, x2, y2)`` in the
ORIGINAL image's pixels (the resize to the network input is undone), so a
trace can be drawn straight onto the image the user opened. Anchor-indexed
tensors have one row per anchor of every feature level, levels in the order of
:attr:`Trace.levels` (one for our detectors, five for torchvision's ResNet-50 FPN), each
level's ``Hf * Wf * A`` rows row-major over cells, then ratio-major, size-minor inside a
cell (:func:`frcnn_core.grid_anchors` order for ours, ``AnchorGenerator`` order for
torchvision's).
Stages that need a target (anchor labels, RoI samples, losses) are ``None``
without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..anchors.assignment import AnchorAssignment, AnchorGeometry
from ..anchors.targets import IGNORED, NEGATIVE, POSITIVE, AnchorTargets
from ..roi.postprocess import Detections


@dataclass(frozen=True)
class FeatureLevel:
    """One feature map the anchors of a trace are laid on.

    ``name`` (``"C4"`` for our single-level trunk, torchvision's FPN keys ``"0"``…``"pool"``
    shown as ``P2``…``P6``), ``stride`` in network-input pixels, ``feature_size`` ``(Hf, Wf)``,
    the anchor ``sizes`` (side of the square anchor, input pixels) and ``aspect_ratios``
    (height / width) of every cell, and ``num_anchors = Hf * Wf * len(sizes) * len(aspect_ratios)``:
    the level's anchors are the next ``num_anchors`` rows of :attr:`Trace.anchors`, levels in order,
    row-major over cells ``(y, x)``, then ratio-major, size-minor inside a cell.
    """

    name: str
    stride: int
    feature_size: tuple[int, int]
    sizes: tuple[float, ...]
    aspect_ratios: tuple[float, ...]
    num_anchors: int

    @property
    def anchors_per_cell(self) -> int:
        return len(self.sizes) * len(self.aspect_ratios)


SINGLE_LEVEL_NAME = "C4"


@dataclass
class Trace:
    """One image through Faster R-CNN.

    Geometry:
        image_size ``(H, W)`` original; input_size ``(h, w)`` network input;
        scale ``(sx, sy)`` input pixels per original pixel; feature_size ``(Hf, Wf)``;
        stride; anchor_scales; anchor_ratios; class_names (may be empty);
        rpn_pos_iou, the positive IoU of the anchor assignment rule.
    Anchors (``[N, ...]``):
        anchors ``[N, 4]``; inside ``[N]`` bool (entirely inside the image).
    Anchor targets (with a target):
        gt_boxes ``[G, 4]``, gt_labels ``[G]``; anchor_labels ``[N]`` 1/0/-1 after sampling;
        anchor_candidate_labels ``[N]`` before sampling; anchor_matched_gt ``[N]`` (-1 none);
        anchor_max_iou ``[N]``; anchor_target_deltas ``[N, 4]`` ``(dx, dy, dw, dh)``.
    RPN:
        objectness ``[N]`` probabilities; rpn_deltas ``[N, 4]``.
    Proposal layer:
        pre_nms_boxes ``[P0, 4]``, pre_nms_scores, pre_nms_anchor_index;
        proposals ``[P, 4]``, proposal_scores ``[P]``, proposal_anchor_index ``[P]``.
    RoI samples (with a target):
        roi_boxes ``[R, 4]``, roi_labels ``[R]`` (0 background), roi_target_deltas ``[R, 4]``
        (normalised by the box weights), roi_max_iou ``[R]``, roi_matched_gt ``[R]``,
        roi_source ``[R]`` (proposal index, ``ROI_SOURCE_GT`` for an added GT box,
        ``ROI_SOURCE_JITTERED_GT`` for a jittered copy: :mod:`frcnn_core.roi.targets`),
        roi_predicted ``[R]`` (the head's argmax class on each sampled RoI).
    Detections:
        detections (boxes, scores, labels, class_scores ``[D, C+1]``, proposal_index, deltas).
    Losses:
        losses ``{"rpn_cls", "rpn_reg", "roi_cls", "roi_reg", "total"}`` floats (with a target).
    Levels:
        levels: one :class:`FeatureLevel` per feature map, in the order of the anchors' rows
        (our detectors have one, filled in from the geometry when not given).
    """

    image_size: tuple[int, int]
    input_size: tuple[int, int]
    scale: tuple[float, float]
    feature_size: tuple[int, int]
    stride: int
    anchor_scales: tuple[float, ...]
    anchor_ratios: tuple[float, ...]
    anchors: Tensor
    inside: Tensor
    objectness: Tensor
    rpn_deltas: Tensor
    pre_nms_boxes: Tensor
    pre_nms_scores: Tensor
    pre_nms_anchor_index: Tensor
    proposals: Tensor
    proposal_scores: Tensor
    proposal_anchor_index: Tensor
    detections: Detections
    class_names: tuple[str, ...] = ()
    rpn_pos_iou: float = 0.7
    gt_boxes: Tensor | None = None
    gt_labels: Tensor | None = None
    anchor_labels: Tensor | None = None
    anchor_candidate_labels: Tensor | None = None
    anchor_matched_gt: Tensor | None = None
    anchor_max_iou: Tensor | None = None
    anchor_target_deltas: Tensor | None = None
    roi_boxes: Tensor | None = None
    roi_labels: Tensor | None = None
    roi_target_deltas: Tensor | None = None
    roi_max_iou: Tensor | None = None
    roi_matched_gt: Tensor | None = None
    roi_source: Tensor | None = None
    roi_predicted: Tensor | None = None
    losses: dict[str, float] | None = None
    iteration: int | None = None
    extra: dict = field(default_factory=dict)
    levels: tuple[FeatureLevel, ...] = ()

    def __post_init__(self) -> None:
        if not self.levels:
            stride = int(self.stride)
            self.levels = (FeatureLevel(
                SINGLE_LEVEL_NAME, stride, tuple(self.feature_size), tuple(float(stride * s) for s in self.anchor_scales),
                tuple(float(r) for r in self.anchor_ratios), int(self.anchors.shape[0]),
            ),)

    def level_slices(self) -> list[slice]:
        """The rows of :attr:`anchors` (and every anchor-indexed tensor) of each level, in order."""
        slices, start = [], 0
        for level in self.levels:
            slices.append(slice(start, start + level.num_anchors))
            start += level.num_anchors
        return slices

    def level_of_anchor(self, anchor_index: Tensor) -> Tensor:
        """``[K]`` level index of each anchor index (``[K]`` long)."""
        ends = torch.tensor([s.stop for s in self.level_slices()], dtype=torch.long)
        return torch.bucketize(anchor_index.long(), ends, right=True)

    @property
    def num_anchors_per_cell(self) -> int:
        """Anchors per cell of the first level (our detectors' only one)."""
        return len(self.anchor_scales) * len(self.anchor_ratios)

    @property
    def geometry(self) -> AnchorGeometry:
        """The grid of the first level (our detectors' only one): cell lookups, anchor indices.
        Its indices are rows of :attr:`anchors`, as the first level's rows come first."""
        return self.level_geometry(0)

    def level_geometry(self, level: int = 0) -> AnchorGeometry:
        """The grid of feature level ``level``: its stride, feature size and anchor design.

        :meth:`AnchorGeometry.cell_anchor_indices` counts within the level; add
        ``level_slices()[level].start`` (or use :meth:`cell_anchor_indices`) for rows of
        :attr:`anchors`."""
        info = self.levels[level]
        if len(self.levels) == 1:  # the trace's own fields, exactly as the model read them
            scales = tuple(self.anchor_scales)
        else:
            scales = tuple(size / info.stride for size in info.sizes)
        return AnchorGeometry(
            tuple(self.image_size), tuple(self.input_size), tuple(self.scale), tuple(info.feature_size),
            info.stride, scales, tuple(info.aspect_ratios),
        )

    def anchor_targets(self) -> AnchorTargets | None:
        """The anchor labels and targets of this image as one :class:`AnchorTargets`
        (``None`` without a target)."""
        if self.anchor_labels is None:
            return None
        return AnchorTargets(
            self.anchor_labels, self.anchor_candidate_labels, self.anchor_target_deltas, self.anchor_matched_gt, self.anchor_max_iou, self.inside
        )

    def anchor_assignment(self) -> AnchorAssignment | None:
        """The anchor labels this pass used, in original pixels (``None`` without a target):
        every level's anchors, with the first level's :attr:`geometry` for cell lookups."""
        targets = self.anchor_targets()
        if targets is None:
            return None
        return AnchorAssignment.from_targets(self.geometry, self.anchors, targets, self.gt_boxes, self.rpn_pos_iou)

    def objectness_map(self, level: int = 0) -> Tensor:
        """``[Hf, Wf]`` highest objectness probability over the anchors of each feature cell of
        feature level ``level`` (our detectors have one)."""
        info, rows = self.levels[level], self.level_slices()[level]
        hf, wf = info.feature_size
        return self.objectness[rows].reshape(hf, wf, info.anchors_per_cell).max(dim=2).values

    def cell_anchor_indices(self, cell_y: int, cell_x: int, level: int = 0) -> Tensor:
        """Rows of :attr:`anchors` of the ``A`` anchors of feature cell ``(cell_y, cell_x)`` of
        feature level ``level``."""
        first = self.level_slices()[level].start
        return torch.from_numpy(self.level_geometry(level).cell_anchor_indices(cell_y, cell_x) + first)

    def cell_at(self, x: float, y: float, level: int = 0) -> tuple[int, int]:
        """Feature cell ``(cell_y, cell_x)`` of level ``level`` covering original-image point ``(x, y)``."""
        return self.level_geometry(level).cell_at(x, y)

    def counts(self) -> dict[str, float | int]:
        """The numbers a debugger wants at a glance."""
        counts: dict[str, float | int] = {
            "anchors": int(self.anchors.shape[0]),
            "inside": int(self.inside.sum()),
            "pre_nms_proposals": int(self.pre_nms_boxes.shape[0]),
            "proposals": int(self.proposals.shape[0]),
            "detections": len(self.detections),
        }
        if self.anchor_labels is not None:
            counts.update(
                positive=int((self.anchor_labels == POSITIVE).sum()),
                negative=int((self.anchor_labels == NEGATIVE).sum()),
                ignored=int((self.anchor_labels == IGNORED).sum()),
                candidate_positive=int((self.anchor_candidate_labels == POSITIVE).sum()),
                candidate_negative=int((self.anchor_candidate_labels == NEGATIVE).sum()),
                gt_without_positive=len(self.gt_without_positive()),
            )
        if self.roi_labels is not None:
            fg = self.roi_labels > 0
            counts.update(fg_rois=int(fg.sum()), bg_rois=int((~fg).sum()))
            if self.roi_predicted is not None and self.roi_labels.numel():
                correct = self.roi_predicted == self.roi_labels
                counts["roi_accuracy"] = float(correct.float().mean())
                counts["roi_fg_accuracy"] = float(correct[fg].float().mean()) if fg.any() else float("nan")
        return counts

    def gt_without_positive(self, min_iou: float | None = None) -> list[int]:
        """Indices of GT boxes that no candidate-positive anchor matches with IoU >= ``min_iou``
        (default: the configured positive IoU, :attr:`rpn_pos_iou`).

        These are objects the anchor design cannot cover well: the RPN learns them only
        from the rule "best anchors for each GT", at a lower IoU.
        """
        if self.gt_boxes is None or self.anchor_candidate_labels is None:
            return []
        threshold = self.rpn_pos_iou if min_iou is None else min_iou
        good = (self.anchor_candidate_labels == POSITIVE) & (self.anchor_max_iou >= threshold)
        covered = set(self.anchor_matched_gt[good].tolist())
        return [i for i in range(self.gt_boxes.shape[0]) if i not in covered]

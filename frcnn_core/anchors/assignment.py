"""The anchors of one image and their labels, in the original image's pixels, ready to show.

One truth for the anchor grid and its assignment, used by the trace, the CLI and the
viewer alike:

* :class:`AnchorGeometry`: how the model sees an image (resize, feature grid, anchor
  design) and the cell arithmetic on it (which cell covers a point, which anchors a cell
  has). :func:`model_geometry` computes it from a :class:`DetectorConfig` exactly as the
  model resizes and pads its input (:mod:`frcnn_core.models.image_batch`).
* :class:`AnchorAssignment`: the anchors of that grid with the :class:`AnchorTargets`
  the RPN trains on. :func:`assign_anchors` labels them without a model (only the GT
  boxes and the configuration are needed); :meth:`Trace.anchor_assignment` gives the
  labels a traced pass actually used.

Anchor-indexed arrays have ``N = Hf * Wf * A`` rows in :func:`frcnn_core.grid_anchors`
order (row-major cells; inside a cell ratio-major, then scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..boxes import scale_boxes
from ..config import DetectorConfig
from ..models.image_batch import resized_size
from .grid import grid_anchors
from .targets import IGNORED, NEGATIVE, POSITIVE, AnchorTargets, assign_anchor_targets_for


def padded_feature_size(input_size: tuple[int, int], stride: int) -> tuple[int, int]:
    """Feature map ``(Hf, Wf)`` of an ``(h, w)`` network input: the batch pads every input to a
    multiple of the stride (:func:`frcnn_core.models.image_batch.batch_images`) and every trunk
    divides exactly by it, so each side is ``ceil(side / stride)``."""
    return math.ceil(input_size[0] / stride), math.ceil(input_size[1] / stride)


@dataclass(frozen=True)
class AnchorGeometry:
    """An image as the model sees it.

    Attributes:
        image_size: ``(H, W)`` of the original image; input_size: ``(h, w)`` after resizing.
        scale: ``(sx, sy)`` input pixels per original pixel.
        feature_size: ``(Hf, Wf)``; stride: input pixels per feature cell.
        scales, ratios: the anchor design (:class:`DetectorConfig` ``anchor_scales`` /
            ``anchor_ratios``).
    """

    image_size: tuple[int, int]
    input_size: tuple[int, int]
    scale: tuple[float, float]
    feature_size: tuple[int, int]
    stride: int
    scales: tuple[float, ...]
    ratios: tuple[float, ...]

    @property
    def num_anchors_per_cell(self) -> int:
        return len(self.scales) * len(self.ratios)

    @property
    def num_anchors(self) -> int:
        return self.feature_size[0] * self.feature_size[1] * self.num_anchors_per_cell

    @property
    def cell_size(self) -> tuple[float, float]:
        """Width and height of one feature cell in original pixels."""
        return self.stride / self.scale[0], self.stride / self.scale[1]

    def cell_at(self, x: float, y: float) -> tuple[int, int]:
        """Feature cell ``(cell_y, cell_x)`` covering original-image point ``(x, y)`` (clamped to the grid)."""
        sx, sy = self.scale
        hf, wf = self.feature_size
        return min(max(int(y * sy // self.stride), 0), hf - 1), min(max(int(x * sx // self.stride), 0), wf - 1)

    def cell_rect(self, cell_y: int, cell_x: int) -> tuple[float, float, float, float]:
        """The area of a feature cell, ``(x1, y1, x2, y2)`` original pixels."""
        cw, ch = self.cell_size
        return cell_x * cw, cell_y * ch, (cell_x + 1) * cw, (cell_y + 1) * ch

    def cell_anchor_indices(self, cell_y: int, cell_x: int) -> np.ndarray:
        """``[A]`` flat indices of the anchors of feature cell ``(cell_y, cell_x)``."""
        first = (cell_y * self.feature_size[1] + cell_x) * self.num_anchors_per_cell
        return np.arange(first, first + self.num_anchors_per_cell)

    def scale_index(self) -> np.ndarray:
        """``[N]`` index into ``scales`` of each anchor."""
        return np.arange(self.num_anchors) % self.num_anchors_per_cell % len(self.scales)

    def ratio_index(self) -> np.ndarray:
        """``[N]`` index into ``ratios`` of each anchor."""
        return np.arange(self.num_anchors) % self.num_anchors_per_cell // len(self.scales)

    def anchors(self) -> Tensor:
        """``[N, 4]`` every anchor of the grid, xyxy original pixels."""
        anchors = grid_anchors(self.feature_size, self.stride, self.scales, self.ratios)
        return scale_boxes(anchors, (1 / self.scale[0], 1 / self.scale[1]))


def model_geometry(image_size: tuple[int, int], config: DetectorConfig) -> AnchorGeometry:
    """The geometry of an ``(H, W)`` image resized as a model built from ``config`` resizes it."""
    height, width = image_size
    h, w = resized_size(height, width, config.min_size, config.max_size)
    return AnchorGeometry(
        (int(height), int(width)), (h, w), (w / width, h / height), padded_feature_size((h, w), config.anchor_stride),
        config.anchor_stride, tuple(config.anchor_scales), tuple(config.anchor_ratios),
    )


@dataclass
class AnchorAssignment:
    """Every anchor of one image and its label, as NumPy arrays ready to draw.

    Attributes:
        geometry: the grid the anchors lie on.
        anchors: ``[N, 4]`` float32 xyxy original pixels.
        inside: ``[N]`` bool, inside the image up to the allowed border (only these take part).
        labels: ``[N]`` int64 after sampling (:data:`POSITIVE`, :data:`NEGATIVE`, :data:`IGNORED`).
        candidate_labels: ``[N]`` the labels before sampling.
        matched_gt: ``[N]`` index of the best GT (-1 none); max_iou: ``[N]`` its IoU.
        target_deltas: ``[N, 4]`` ``(dx, dy, dw, dh)`` regression target to that GT.
        gt_boxes: ``[G, 4]`` xyxy original pixels, the boxes the labels were computed for.
        pos_iou: the positive IoU threshold the labels were computed with.
    """

    geometry: AnchorGeometry
    anchors: np.ndarray
    inside: np.ndarray
    labels: np.ndarray
    candidate_labels: np.ndarray
    matched_gt: np.ndarray
    max_iou: np.ndarray
    target_deltas: np.ndarray
    gt_boxes: np.ndarray
    pos_iou: float

    @classmethod
    def from_targets(cls, geometry: AnchorGeometry, anchors: Tensor, targets: AnchorTargets, gt_boxes: Tensor, pos_iou: float) -> AnchorAssignment:
        """From ``anchors [N, 4]`` and ``gt_boxes [G, 4]`` in original pixels and ``targets``
        computed for them (in input pixels), row for row."""
        return cls(
            geometry, anchors.numpy(), targets.inside.numpy(), targets.labels.numpy(), targets.candidate_labels.numpy(),
            targets.matched_gt.numpy(), targets.max_iou.numpy(), targets.deltas.numpy(), gt_boxes.numpy().reshape(-1, 4), float(pos_iou),
        )

    def gt_without_positive(self) -> list[int]:
        """GT boxes that no candidate-positive anchor matches with IoU >= ``pos_iou``.

        The RPN learns these only through the "best anchors for each GT" rule, at a lower IoU:
        a sign that the anchor scales or ratios do not fit the objects.
        """
        good = (self.candidate_labels == POSITIVE) & (self.max_iou >= self.pos_iou)
        covered = set(np.unique(self.matched_gt[good]).tolist())
        return [g for g in range(len(self.gt_boxes)) if g not in covered]

    def positive_at(self, x: float, y: float, sampled: bool = True) -> int | None:
        """The positive anchor containing ``(x, y)`` whose centre is nearest to it, or ``None``."""
        labels = self.labels if sampled else self.candidate_labels
        a = self.anchors
        hit = np.nonzero((labels == POSITIVE) & (a[:, 0] <= x) & (x <= a[:, 2]) & (a[:, 1] <= y) & (y <= a[:, 3]))[0]
        if hit.size == 0:
            return None
        centres = (a[hit, :2] + a[hit, 2:]) / 2
        return int(hit[np.argmin(((centres - (x, y)) ** 2).sum(axis=1))])

    def counts(self) -> dict[str, int]:
        """Anchors, inside, sampled positive/negative/ignored, candidate counts, uncovered GT."""
        return {
            "anchors": len(self.anchors),
            "inside": int(self.inside.sum()),
            "positive": int((self.labels == POSITIVE).sum()),
            "negative": int((self.labels == NEGATIVE).sum()),
            "ignored": int((self.labels == IGNORED).sum()),
            "candidate_positive": int((self.candidate_labels == POSITIVE).sum()),
            "candidate_negative": int((self.candidate_labels == NEGATIVE).sum()),
            "gt_without_positive": len(self.gt_without_positive()),
        }


def assign_anchors(
    image_size: tuple[int, int], gt_boxes: np.ndarray | Tensor | None, config: DetectorConfig, generator: torch.Generator | None = None
) -> AnchorAssignment:
    """Lay the anchors of ``config`` over an ``(H, W)`` image and label them against ``gt_boxes``,
    exactly as the model does in training (same resize, grid and rule), without running it.

    Args:
        image_size: ``(H, W)`` of the original image.
        gt_boxes: ``[G, 4]`` xyxy original pixels, or ``None``/empty (every inside anchor is then
            a negative candidate).
        generator: for the random sampling of the mini-batch (a fixed seed repeats it).
    """
    geometry = model_geometry(image_size, config)
    sx, sy = geometry.scale
    anchors = grid_anchors(geometry.feature_size, geometry.stride, geometry.scales, geometry.ratios)
    gt = torch.as_tensor(np.zeros((0, 4)) if gt_boxes is None else gt_boxes, dtype=torch.float32).reshape(-1, 4)
    targets = assign_anchor_targets_for(config, anchors, scale_boxes(gt, (sx, sy)), geometry.input_size, generator)
    return AnchorAssignment.from_targets(geometry, scale_boxes(anchors, (1 / sx, 1 / sy)), targets, gt, config.rpn_pos_iou)

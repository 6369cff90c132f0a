"""Anchor target assignment without a model, for the parameter panel.

Labelling anchors needs only the GT boxes and the anchor design, so the viewer
re-runs it on every parameter change, straight from ``frcnn_core``'s own
functions and in the model's geometry: the image is resized as the model would
resize it (shorter side to ``min_size``, longer at most ``max_size``), anchors are
laid on the ``ceil(h / stride) x ceil(w / stride)`` feature grid of that input, and
the results are mapped back to the original image's pixels for drawing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from frcnn_core import DetectorConfig, assign_anchor_targets, grid_anchors
from frcnn_core.anchor_targets import AnchorTargets
from frcnn_core.boxes import scale_boxes
from frcnn_core.image_batch import resized_size

POSITIVE, NEGATIVE, IGNORED = 1, 0, -1


@dataclass(frozen=True)
class AnchorParams:
    """Anchor design (network-input pixels) and the RPN's target-assignment rule.

    The names follow :class:`frcnn_core.DetectorConfig`: ``stride``/``scales``/``ratios`` are
    ``anchor_stride``/``anchor_scales``/``anchor_ratios`` and ``pos_iou`` … ``pos_fraction`` the
    ``rpn_*`` fields (``allowed_border``, ``positives_per_gt``: ``rpn_allowed_border``,
    ``rpn_positives_per_gt``). ``seed`` makes the random sampling of the mini-batch
    reproducible.
    """

    stride: int = 16
    scales: tuple[float, ...] = (8.0, 16.0, 32.0)
    ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    pos_iou: float = 0.7
    neg_iou: float = 0.3
    num_samples: int = 256
    pos_fraction: float = 0.5
    allowed_border: float = 0.0
    positives_per_gt: int = 1
    min_size: int = 800
    max_size: int = 1333
    seed: int = 0

    def __post_init__(self) -> None:
        problems = []
        if self.stride < 1:
            problems.append(f"stride must be >= 1, got {self.stride}")
        if not self.scales or not self.ratios or any(v <= 0 for v in (*self.scales, *self.ratios)):
            problems.append(f"scales and ratios must be non-empty and positive, got {self.scales} / {self.ratios}")
        if not 0 <= self.neg_iou <= self.pos_iou <= 1:
            problems.append(f"need 0 <= negative IoU <= positive IoU <= 1, got {self.neg_iou} / {self.pos_iou}")
        if self.num_samples < 1:
            problems.append(f"sample size must be >= 1, got {self.num_samples}")
        if not 0 < self.pos_fraction <= 1:
            problems.append(f"positive fraction must be in (0, 1], got {self.pos_fraction}")
        if self.allowed_border < 0:
            problems.append(f"allowed border must be >= 0 pixels, got {self.allowed_border}")
        if self.positives_per_gt < 0:
            problems.append(f"positives per GT box must be >= 0, got {self.positives_per_gt}")
        if not 1 <= self.min_size <= self.max_size:
            problems.append(f"need 1 <= min_size <= max_size, got {self.min_size} / {self.max_size}")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_config(cls, config: DetectorConfig) -> AnchorParams:
        """The parameters a model built from ``config`` uses."""
        return cls(
            stride=config.anchor_stride,
            scales=tuple(config.anchor_scales),
            ratios=tuple(config.anchor_ratios),
            pos_iou=config.rpn_pos_iou,
            neg_iou=config.rpn_neg_iou,
            num_samples=config.rpn_num_samples,
            pos_fraction=config.rpn_pos_fraction,
            allowed_border=config.rpn_allowed_border,
            positives_per_gt=config.rpn_positives_per_gt,
            min_size=config.min_size,
            max_size=config.max_size,
        )

    def replace(self, **changes) -> AnchorParams:
        return dataclasses.replace(self, **changes)


class Geometry(NamedTuple):
    """An image as the model sees it: original ``(H, W)``, resized input ``(h, w)``, ``scale``
    ``(sx, sy)`` input pixels per original pixel, and the feature grid ``(Hf, Wf)``."""

    image_size: tuple[int, int]
    input_size: tuple[int, int]
    scale: tuple[float, float]
    feature_size: tuple[int, int]


@dataclass
class AnchorState:
    """Every anchor of one image and its label, as NumPy arrays ready to draw.

    Boxes are ``(x1, y1, x2, y2)`` in the original image's pixels; arrays with ``N`` rows
    follow :func:`frcnn_core.grid_anchors` order (row-major cells, ratio-major inside a cell).

    Attributes:
        anchors: ``[N, 4]`` float32; inside: ``[N]`` bool (inside the image up to the allowed border).
        labels: ``[N]`` int64 after sampling (1 positive, 0 negative, -1 ignored).
        candidate_labels: ``[N]`` the labels before sampling.
        matched_gt: ``[N]`` index of the best GT (-1 none); max_iou: ``[N]`` its IoU.
        target_deltas: ``[N, 4]`` ``(dx, dy, dw, dh)`` regression target to that GT.
        gt_boxes: ``[G, 4]`` the GT boxes the labels were computed for.
        image_size ``(H, W)``, input_size ``(h, w)``, scale ``(sx, sy)`` input pixels per
        original pixel, feature_size ``(Hf, Wf)``.
    """

    params: AnchorParams
    image_size: tuple[int, int]
    input_size: tuple[int, int]
    scale: tuple[float, float]
    feature_size: tuple[int, int]
    anchors: np.ndarray
    inside: np.ndarray
    labels: np.ndarray
    candidate_labels: np.ndarray
    matched_gt: np.ndarray
    max_iou: np.ndarray
    target_deltas: np.ndarray
    gt_boxes: np.ndarray

    @classmethod
    def from_targets(
        cls, params: AnchorParams, geometry: Geometry, anchors: torch.Tensor, targets: AnchorTargets, gt_boxes: torch.Tensor
    ) -> AnchorState:
        """From ``frcnn_core`` targets: ``anchors [N, 4]`` and ``gt_boxes [G, 4]`` already in
        original pixels, ``targets`` (computed in input pixels) row for row with ``anchors``."""
        return cls(
            params, *geometry, anchors.numpy(), targets.inside.numpy(), targets.labels.numpy(), targets.candidate_labels.numpy(),
            targets.matched_gt.numpy(), targets.max_iou.numpy(), targets.deltas.numpy(), gt_boxes.numpy(),
        )

    @property
    def num_anchors_per_cell(self) -> int:
        return len(self.params.scales) * len(self.params.ratios)

    def scale_index(self) -> np.ndarray:
        """``[N]`` index into ``params.scales`` of each anchor."""
        return np.arange(len(self.anchors)) % self.num_anchors_per_cell % len(self.params.scales)

    def ratio_index(self) -> np.ndarray:
        """``[N]`` index into ``params.ratios`` of each anchor."""
        return np.arange(len(self.anchors)) % self.num_anchors_per_cell // len(self.params.scales)

    @property
    def cell_size(self) -> tuple[float, float]:
        """Width and height of one feature cell in original pixels."""
        return self.params.stride / self.scale[0], self.params.stride / self.scale[1]

    def cell_at(self, x: float, y: float) -> tuple[int, int]:
        """Feature cell ``(cell_y, cell_x)`` covering original-image point ``(x, y)`` (clamped to the grid)."""
        cw, ch = self.cell_size
        hf, wf = self.feature_size
        return min(max(int(y // ch), 0), hf - 1), min(max(int(x // cw), 0), wf - 1)

    def cell_rect(self, cell_y: int, cell_x: int) -> tuple[float, float, float, float]:
        """The area of a feature cell, ``(x1, y1, x2, y2)`` original pixels."""
        cw, ch = self.cell_size
        return cell_x * cw, cell_y * ch, (cell_x + 1) * cw, (cell_y + 1) * ch

    def cell_anchor_indices(self, cell_y: int, cell_x: int) -> np.ndarray:
        """Flat indices of the anchors of one feature cell."""
        first = (cell_y * self.feature_size[1] + cell_x) * self.num_anchors_per_cell
        return np.arange(first, first + self.num_anchors_per_cell)

    def gt_without_positive(self) -> list[int]:
        """GT boxes that no candidate-positive anchor matches with IoU >= the positive threshold.

        The RPN learns these only through the "best anchor for each GT" rule, at a lower IoU:
        a sign that the anchor scales or ratios do not fit the objects.
        """
        good = (self.candidate_labels == POSITIVE) & (self.max_iou >= self.params.pos_iou)
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


def model_geometry(image_size: tuple[int, int], params: AnchorParams) -> Geometry:
    """The geometry of an ``(H, W)`` image resized as the model does."""
    height, width = image_size
    h, w = resized_size(height, width, params.min_size, params.max_size)
    return Geometry(tuple(image_size), (h, w), (w / width, h / height), (math.ceil(h / params.stride), math.ceil(w / params.stride)))


def assign_anchors(image_size: tuple[int, int], gt_boxes: np.ndarray | None, params: AnchorParams) -> AnchorState:
    """Lay the anchors of ``params`` over an ``(H, W)`` image and label them against ``gt_boxes``.

    Args:
        image_size: ``(H, W)`` of the original image.
        gt_boxes: ``[G, 4]`` xyxy original pixels, or ``None``/empty (every inside anchor is then
            a negative candidate).
    """
    geometry = model_geometry(image_size, params)
    sx, sy = geometry.scale
    anchors = grid_anchors(geometry.feature_size, params.stride, params.scales, params.ratios)
    gt = torch.as_tensor(np.zeros((0, 4)) if gt_boxes is None else gt_boxes, dtype=torch.float32).reshape(-1, 4)
    generator = torch.Generator().manual_seed(params.seed)
    targets = assign_anchor_targets(
        anchors, scale_boxes(gt, (sx, sy)), geometry.input_size, params.pos_iou, params.neg_iou, params.num_samples, params.pos_fraction, generator,
        allowed_border=params.allowed_border, positives_per_gt=params.positives_per_gt,
    )
    return AnchorState.from_targets(params, geometry, scale_boxes(anchors, (1 / sx, 1 / sy)), targets, gt)

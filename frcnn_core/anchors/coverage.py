"""Dataset-wide anchor coverage: the best IoU each GT box can reach with an anchor the
assignment rule may use, on the real stride-16 grid at the network's input size.

Fast enough to recompute on every edit of the anchors (10 000 GT boxes in about 15 ms of
CPU time): the grid is never laid out. IoU is intersection over union, the union
grows only by what the intersection loses, so for one anchor shape the best anchor is
the one with the largest intersection; the intersection splits into an x and a y
extent, each a trapezoid in the anchor's centre that peaks at the box's centre. So per
GT box and anchor shape the best anchor lies in the usable grid column nearest to the
box's centre and the usable row nearest to it: two candidates per axis, clamped to the
columns (rows) whose anchors stay inside the image up to ``rpn_allowed_border``
(:func:`frcnn_core.anchors.grid.inside_image`). :func:`full_grid_best_iou` is the direct
definition (every anchor of the grid, ``torchvision.ops.box_iou``) the tests compare with.

Geometry is the model's: each image is resized by :func:`frcnn_core.models.image_batch.resized_size`
and its feature grid is :func:`frcnn_core.anchors.assignment.padded_feature_size`, the grid of one
image alone (a training batch pads to its largest image; the extra cells hold anchors
inside the image only when ``rpn_allowed_border`` exceeds half a stride).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import Tensor

from ..boxes import pairwise_iou
from ..config import DetectorConfig
from ..models.image_batch import resized_size
from .assignment import padded_feature_size
from .grid import anchor_base, grid_anchors, inside_image

# sqrt(area) in network-input pixels: COCO's small / medium / large edges
SIZE_BUCKETS = (("small", 0.0, 32.0), ("medium", 32.0, 96.0), ("large", 96.0, math.inf))
HISTOGRAM_BINS = 20  # best-IoU histogram: 20 bins of 0.05 over [0, 1]


@dataclass(frozen=True)
class AnchorLayout:
    """The knobs that decide which anchors exist, named as :class:`DetectorConfig`'s fields.

    ``anchor_scales`` are multiples of ``anchor_stride`` (sqrt of the anchor's area over the
    stride), ``anchor_ratios`` are height / width; images are resized so the shorter side is
    ``min_size`` unless the longer would pass ``max_size``.
    """

    anchor_scales: tuple[float, ...]
    anchor_ratios: tuple[float, ...]
    anchor_stride: int = 16
    min_size: int = 800
    max_size: int = 1333
    rpn_allowed_border: float = 0.0

    @classmethod
    def from_config(cls, config: DetectorConfig) -> AnchorLayout:
        return cls(**{f.name: getattr(config, f.name) for f in dataclasses.fields(cls)})

    def apply_to(self, config: DetectorConfig) -> DetectorConfig:
        """``config`` with this layout's scales and ratios (the other knobs are the config's own)."""
        return config.replace(anchor_scales=tuple(self.anchor_scales), anchor_ratios=tuple(self.anchor_ratios))

    def replace(self, **changes) -> AnchorLayout:
        return dataclasses.replace(self, **changes)

    @property
    def num_anchors_per_cell(self) -> int:
        return len(self.anchor_scales) * len(self.anchor_ratios)

    def shapes(self) -> Tensor:
        """``[A, 2]`` anchor ``(width, height)`` in input pixels, in a cell's order (ratio-major, scale-minor)."""
        base = anchor_base(self.anchor_stride, self.anchor_scales, self.anchor_ratios)
        return torch.stack((base[:, 2] - base[:, 0], base[:, 3] - base[:, 1]), dim=1)


@dataclass(frozen=True)
class GtBoxes:
    """Every GT box of a dataset with the size of its image, read without decoding pixels.

    Attributes:
        boxes: ``[N, 4]`` float32 xyxy, original pixels of each box's image.
        image_sizes: ``[N, 2]`` int64 ``(H, W)`` of each box's image.
        image_index: ``[N]`` int64 dataset index of each box's image.
    """

    boxes: Tensor
    image_sizes: Tensor
    image_index: Tensor

    @classmethod
    def from_dataset(cls, dataset, include_difficult: bool = False, progress: Callable[[int, int], None] | None = None) -> GtBoxes:
        """All GT boxes of ``dataset`` (``dataset.info(i)``, no pixels decoded); ``difficult``
        ones are left out unless asked, as training leaves them out. ``progress(done, total)``
        is called about every 1 % of the images."""
        every = max(len(dataset) // 100, 1)

        def records():
            for i in range(len(dataset)):
                if progress is not None and (i % every == 0 or i == len(dataset) - 1):
                    progress(i + 1, len(dataset))
                yield i, dataset.info(i)

        return cls.from_records(records(), include_difficult)

    @classmethod
    def from_records(cls, records: Iterable[tuple[int, dict]], include_difficult: bool = False) -> GtBoxes:
        """The GT boxes of ``(image index, record)`` pairs, records as ``dataset.info`` gives them
        (``size``, ``target`` with ``boxes`` and optionally ``difficult``)."""
        boxes, sizes, index = [], [], []
        for i, info in records:
            target = info["target"]
            b = target["boxes"].float().reshape(-1, 4)
            if not include_difficult and "difficult" in target:
                b = b[~target["difficult"].bool()]
            boxes.append(b)
            sizes.append(torch.tensor([info["size"]], dtype=torch.int64).expand(b.shape[0], 2))
            index.append(torch.full((b.shape[0],), i, dtype=torch.int64))
        if not boxes:
            return cls(torch.zeros((0, 4)), torch.zeros((0, 2), dtype=torch.int64), torch.zeros(0, dtype=torch.int64))
        return cls(torch.cat(boxes), torch.cat(sizes), torch.cat(index))

    def __len__(self) -> int:
        return self.boxes.shape[0]

    def subset(self, keep: Tensor) -> GtBoxes:
        """The boxes selected by ``keep`` (a bool mask or indices)."""
        return GtBoxes(self.boxes[keep], self.image_sizes[keep], self.image_index[keep])


@dataclass(frozen=True)
class AxisGroups:
    """The distinct ``(extent, cells)`` pairs of one axis (image width and grid columns, or
    height and rows): ``extents`` and ``cells`` ``[U]`` int64, ``of_box`` ``[N]`` the pair of each box."""

    extents: Tensor
    cells: Tensor
    of_box: Tensor

    @classmethod
    def of(cls, extents: Tensor, cells: Tensor) -> AxisGroups:
        keys, of_box = torch.unique(extents * (1 << 32) + cells, return_inverse=True)
        return cls(keys >> 32, keys & ((1 << 32) - 1), of_box)


@dataclass(frozen=True)
class InputBoxes:
    """GT boxes as the network sees them under one input size.

    Attributes:
        boxes: ``[N, 4]`` float32 xyxy in network-input pixels.
        input_sizes: ``[N, 2]`` int64 ``(h, w)`` of each box's resized image.
        feature_sizes: ``[N, 2]`` int64 ``(Hf, Wf)`` of its feature grid.
        columns, rows: the distinct image widths with grid columns, heights with rows.
    """

    boxes: Tensor
    input_sizes: Tensor
    feature_sizes: Tensor
    columns: AxisGroups
    rows: AxisGroups

    @classmethod
    def of(cls, boxes: Tensor, input_sizes: Tensor, feature_sizes: Tensor) -> InputBoxes:
        return cls(boxes, input_sizes, feature_sizes, AxisGroups.of(input_sizes[:, 1], feature_sizes[:, 1]), AxisGroups.of(input_sizes[:, 0], feature_sizes[:, 0]))

    @classmethod
    def resize(cls, gt: GtBoxes, min_size: int, max_size: int, stride: int) -> InputBoxes:
        """Scale each box as the model scales its image (one :func:`resized_size` per distinct image size)."""
        if len(gt) == 0:
            empty = torch.zeros((0, 2), dtype=torch.int64)
            return cls.of(torch.zeros((0, 4)), empty, empty)
        keys, inverse = torch.unique(gt.image_sizes[:, 0] * (1 << 32) + gt.image_sizes[:, 1], return_inverse=True)
        sizes = torch.stack((keys >> 32, keys & ((1 << 32) - 1)), dim=1)  # [U, 2] (H, W)
        resized = [resized_size(int(h), int(w), min_size, max_size) for h, w in sizes.tolist()]
        input_sizes = torch.tensor(resized, dtype=torch.int64)
        feature_sizes = torch.tensor([padded_feature_size(s, stride) for s in resized], dtype=torch.int64)
        # the model's scale_boxes: float32 boxes times (w / W, h / H) computed in double
        scale = (input_sizes.double() / sizes.double()).float()  # [U, 2] (sy, sx)
        per_box = scale[inverse]
        boxes = gt.boxes * torch.stack((per_box[:, 1], per_box[:, 0], per_box[:, 1], per_box[:, 0]), dim=1)
        return cls.of(boxes, input_sizes[inverse], feature_sizes[inverse])

    def subset(self, keep: Tensor) -> InputBoxes:
        return InputBoxes.of(self.boxes[keep], self.input_sizes[keep], self.feature_sizes[keep])

    def sqrt_areas(self) -> Tensor:
        """``[N]`` sqrt of each box's area in input pixels."""
        b = self.boxes
        return ((b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)).sqrt()


@dataclass(frozen=True)
class BucketCoverage:
    """Coverage of the GT boxes whose sqrt(area) in input pixels lies in ``[low, high)``."""

    name: str
    low: float
    high: float
    gt_boxes: int
    iou_07: float
    iou_05: float
    median_iou: float


@dataclass(frozen=True)
class CoverageReport:
    """Best usable-anchor IoU of every GT box.

    Attributes:
        best_iou: ``[N]`` float32, the best IoU of each box over the anchors the assignment
            rule may use (0 when none may be used).
        best_shape: ``[N]`` int64 index of the anchor shape reaching it, in a cell's order
            (ratio-major: ``ratio_index * len(scales) + scale_index``), -1 when none.
        box_sizes: ``[N]`` sqrt(area) of each box in input pixels.
        layout: the anchors measured.
    """

    best_iou: Tensor
    best_shape: Tensor
    box_sizes: Tensor
    layout: AnchorLayout

    @property
    def gt_boxes(self) -> int:
        return self.best_iou.numel()

    def share_at_least(self, iou: float) -> float:
        """Share (0..1) of GT boxes whose best anchor reaches ``iou``; 0 without boxes."""
        return float((self.best_iou >= iou).float().mean()) if self.gt_boxes else 0.0

    @property
    def median_iou(self) -> float:
        return float(self.best_iou.median()) if self.gt_boxes else 0.0

    @property
    def mean_iou(self) -> float:
        return float(self.best_iou.mean()) if self.gt_boxes else 0.0

    def fitness(self) -> float:
        """What the optimiser maximises: share >= 0.5 + share >= 0.7 + mean best IoU (0..3)."""
        return self.share_at_least(0.5) + self.share_at_least(0.7) + self.mean_iou

    def histogram(self, bins: int = HISTOGRAM_BINS) -> Tensor:
        """``[bins]`` int64 counts of best IoUs over ``bins`` equal bins of [0, 1] (1.0 in the last)."""
        index = (self.best_iou * bins).long().clamp(0, bins - 1)
        return torch.bincount(index, minlength=bins)

    def by_size(self) -> list[BucketCoverage]:
        """Coverage per :data:`SIZE_BUCKETS` bucket."""
        out = []
        for name, low, high in SIZE_BUCKETS:
            ious = self.best_iou[(self.box_sizes >= low) & (self.box_sizes < high)]
            n = ious.numel()
            out.append(BucketCoverage(
                name, low, high, n,
                float((ious >= 0.7).float().mean()) if n else 0.0,
                float((ious >= 0.5).float().mean()) if n else 0.0,
                float(ious.median()) if n else 0.0,
            ))
        return out

    def summary(self) -> dict:
        """Plain values: ``gt_boxes``, ``iou_0.7`` and ``iou_0.5`` (shares 0..1), ``median_iou``,
        ``mean_iou``, ``by_size`` (per bucket the same with its edges) and ``histogram``."""
        return {
            "gt_boxes": self.gt_boxes,
            "iou_0.7": self.share_at_least(0.7),
            "iou_0.5": self.share_at_least(0.5),
            "median_iou": self.median_iou,
            "mean_iou": self.mean_iou,
            "by_size": {
                b.name: {"sqrt_area_px": [b.low, None if math.isinf(b.high) else b.high], "gt_boxes": b.gt_boxes,
                         "iou_0.7": b.iou_07, "iou_0.5": b.iou_05, "median_iou": b.median_iou}
                for b in self.by_size()
            },
            "histogram": {"bin_edges": [i / HISTOGRAM_BINS for i in range(HISTOGRAM_BINS + 1)], "counts": self.histogram().tolist()},
        }


def _usable_range(extents: Tensor, cells: Tensor, base_lo: Tensor, base_hi: Tensor, stride: int, border: float) -> tuple[Tensor, Tensor]:
    """First and last grid index along one axis whose anchors stay inside ``[-border, extent + border]``.

    Args:
        extents: ``[U]`` image extents (input pixels) along the axis; ``cells``: ``[U]`` grid length.
        base_lo, base_hi: ``[A]`` the cell-(0, 0) anchors' low and high coordinate on the axis.

    Returns:
        ``[U, A]`` int64 ``first`` and ``last``; ``first > last`` where no index is usable.
    """
    length = int(cells.max()) if cells.numel() else 0
    # the grid's own arithmetic (grid_anchors): float32 shifts added to the float32 base
    shifts = torch.arange(length, dtype=torch.float32) * stride  # [L]
    lo = base_lo[None, :, None] + shifts[None, None, :]  # [1, A, L]
    hi = base_hi[None, :, None] + shifts[None, None, :]
    limit = (extents.float() + border)[:, None, None]
    usable = (lo >= -border) & (hi <= limit) & (torch.arange(length)[None, None, :] < cells[:, None, None])  # [U, A, L]
    any_usable = usable.any(dim=2)
    first = usable.int().argmax(dim=2)
    last = length - 1 - usable.flip(2).int().argmax(dim=2)
    first = torch.where(any_usable, first, torch.full_like(first, length))
    last = torch.where(any_usable, last, torch.full_like(last, -1))
    return first, last


def _best_overlap(box_lo: Tensor, box_hi: Tensor, first: Tensor, last: Tensor, base_lo: Tensor, base_hi: Tensor, stride: int) -> Tensor:
    """``[N, A]`` the largest overlap along one axis of each box with each anchor shape's usable anchors.

    ``box_lo``/``box_hi``: ``[N]``; ``first``/``last``: ``[N, A]`` usable index range per box.
    """
    centre = (box_lo + box_hi) / 2
    nearest = torch.floor((centre - stride / 2) / stride).long()[:, None]  # [N, 1]
    best = torch.zeros(first.shape)
    for step in (0, 1):  # the usable indices nearest the centre on either side
        index = torch.minimum(torch.maximum(nearest + step, first), last)
        shift = index.float() * stride
        overlap = torch.minimum(box_hi[:, None], base_hi[None, :] + shift) - torch.maximum(box_lo[:, None], base_lo[None, :] + shift)
        best = torch.maximum(best, overlap.clamp(min=0))
    return torch.where(first <= last, best, torch.zeros_like(best))


def grid_coverage(gt: GtBoxes | InputBoxes, layout: AnchorLayout) -> CoverageReport:
    """Best IoU of every GT box over the usable anchors of its image's grid (see the module docstring).

    ``gt`` may be :class:`InputBoxes` already resized for ``layout``'s sizes (the optimiser
    reuses them while it varies scales and ratios). Equal to :func:`full_grid_best_iou`
    up to float rounding, at a cost of ``O(N * A)``.
    """
    boxes = gt if isinstance(gt, InputBoxes) else InputBoxes.resize(gt, layout.min_size, layout.max_size, layout.anchor_stride)
    stride, border = layout.anchor_stride, float(layout.rpn_allowed_border)
    base = anchor_base(stride, layout.anchor_scales, layout.anchor_ratios)  # [A, 4]
    if boxes.boxes.shape[0] == 0:
        return CoverageReport(torch.zeros(0), torch.zeros(0, dtype=torch.int64), torch.zeros(0), layout)
    overlaps = []
    for axis, groups in ((0, boxes.columns), (1, boxes.rows)):
        first, last = _usable_range(groups.extents, groups.cells, base[:, axis], base[:, axis + 2], stride, border)
        overlaps.append(_best_overlap(boxes.boxes[:, axis], boxes.boxes[:, axis + 2], first[groups.of_box], last[groups.of_box], base[:, axis], base[:, axis + 2], stride))
    intersection = overlaps[0] * overlaps[1]  # [N, A]
    b = boxes.boxes
    box_area = ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[:, None]
    anchor_area = ((base[:, 2] - base[:, 0]) * (base[:, 3] - base[:, 1]))[None, :]
    union = box_area + anchor_area - intersection
    iou = torch.where(union > 0, intersection / union, torch.zeros_like(union))
    best_iou, best_shape = iou.max(dim=1)
    best_shape = torch.where(best_iou > 0, best_shape, torch.full_like(best_shape, -1))
    return CoverageReport(best_iou, best_shape, boxes.sqrt_areas(), layout)


def full_grid_best_iou(gt: GtBoxes, layout: AnchorLayout) -> Tensor:
    """``[N]`` the reference: per image, every anchor of the grid, the usable ones kept
    (:func:`inside_image`), ``box_iou`` against all of them, the best per GT box."""
    boxes = InputBoxes.resize(gt, layout.min_size, layout.max_size, layout.anchor_stride)
    best = torch.zeros(len(gt))
    for image in torch.unique(gt.image_index).tolist():
        rows = torch.nonzero(gt.image_index == image, as_tuple=True)[0]
        h, w = boxes.input_sizes[rows[0]].tolist()
        anchors = grid_anchors(padded_feature_size((h, w), layout.anchor_stride), layout.anchor_stride, layout.anchor_scales, layout.anchor_ratios)
        anchors = anchors[inside_image(anchors, (h, w), layout.rpn_allowed_border)]
        if anchors.numel():
            best[rows] = pairwise_iou(boxes.boxes[rows], anchors).max(dim=1).values
    return best


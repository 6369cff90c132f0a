"""Anchor scales and ratios fitted to a dataset's GT boxes.

Two stages, as YOLOv5's autoanchor: k-means of the boxes' widths and heights under the
distance ``1 - IoU`` (boxes and centroids aligned at their centres) gives ``S * R``
shapes, which are projected onto a grid of ``S`` scales times ``R`` ratios (the anchors of
a cell are always such a product); then an evolution mutates the log-scales and
log-ratios and keeps a mutant when it scores better on the real thing: the coverage of
:func:`frcnn_core.anchors.coverage.grid_coverage` (the stride grid at the input size,
only the anchors the assignment may use). The fitness is share >= 0.5 + share >= 0.7 +
mean best IoU. The result never covers worse than the starting anchors: it must match
or beat both shares and beat the fitness, else the start is returned.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .coverage import AnchorLayout, CoverageReport, GtBoxes, InputBoxes, grid_coverage

log = logging.getLogger(__name__)

RATIO_LIMITS = (0.1, 10.0)  # height / width
MIN_SCALE = 0.25  # a quarter of the stride
MUTATION_PROBABILITY = 0.9
MUTATION_SIGMA = 0.1  # in log units, times a uniform draw per generation, as YOLOv5's


@dataclass(frozen=True)
class AnchorSearch:
    """Outcome of :func:`optimize_anchors`: the coverage of the starting anchors, of the
    anchors chosen (``result.layout``; the start when nothing better was found), whether
    they differ, and how many coverage evaluations the search made."""

    start: CoverageReport
    result: CoverageReport
    improved: bool
    evaluations: int

    @property
    def layout(self) -> AnchorLayout:
        return self.result.layout


def shape_iou(wh: Tensor, centroids: Tensor) -> Tensor:
    """``[N, K]`` IoU of ``[N, 2]`` (width, height) boxes with ``[K, 2]`` shapes, centres aligned."""
    inter = torch.minimum(wh[:, None, 0], centroids[None, :, 0]) * torch.minimum(wh[:, None, 1], centroids[None, :, 1])
    union = (wh[:, 0] * wh[:, 1])[:, None] + (centroids[:, 0] * centroids[:, 1])[None, :] - inter
    return inter / union.clamp(min=1e-9)


def kmeans_shapes(wh: Tensor, k: int, generator: torch.Generator, iterations: int = 50) -> Tensor:
    """``[k, 2]`` (width, height) centroids of ``[N, 2]`` box shapes by k-means on ``1 - IoU``
    (k-means++ seeding, median update), sorted by area."""
    k = min(k, wh.shape[0])
    first = int(torch.randint(wh.shape[0], (1,), generator=generator))
    centroids = wh[first : first + 1]
    while centroids.shape[0] < k:  # k-means++: the next seed far (in 1 - IoU) from those chosen
        distance = 1 - shape_iou(wh, centroids).max(dim=1).values
        weights = distance**2
        pick = int(torch.multinomial(weights, 1, generator=generator)) if weights.sum() > 0 else int(torch.randint(wh.shape[0], (1,), generator=generator))
        centroids = torch.cat((centroids, wh[pick : pick + 1]))
    for _ in range(iterations):
        nearest = shape_iou(wh, centroids).argmax(dim=1)
        updated = torch.stack([wh[nearest == c].median(dim=0).values if (nearest == c).any() else centroids[c] for c in range(k)])
        if torch.equal(updated, centroids):
            break
        centroids = updated
    return centroids[(centroids[:, 0] * centroids[:, 1]).argsort()]


def _grouped_means(values: Tensor, groups: int) -> Tensor:
    """``[groups]`` means of ``values`` sorted and cut into ``groups`` nearly equal runs."""
    ordered = values.sort().values
    return torch.stack([chunk.mean() for chunk in torch.tensor_split(ordered, groups)])


def product_layout(centroids: Tensor, stride: int, num_scales: int, num_ratios: int) -> tuple[Tensor, Tensor]:
    """``(log_scales [S], log_ratios [R])`` of a scales x ratios grid near ``[K, 2]`` (width, height) shapes:
    their log scales (sqrt area / stride) and log ratios (height / width), each sorted and
    averaged in ``S`` (``R``) runs."""
    log_scales = (centroids[:, 0] * centroids[:, 1]).sqrt().div(stride).log()
    log_ratios = (centroids[:, 1] / centroids[:, 0]).log()
    if centroids.shape[0] < max(num_scales, num_ratios):  # fewer boxes than anchors: spread around them
        spread = torch.linspace(-0.5, 0.5, max(num_scales, num_ratios))
        log_scales = log_scales.mean() + spread
        log_ratios = log_ratios.mean() + spread
    return _grouped_means(log_scales, num_scales), _grouped_means(log_ratios, num_ratios)


def _layout_from_logs(layout: AnchorLayout, log_scales: Tensor, log_ratios: Tensor, max_scale: float) -> AnchorLayout:
    scales = log_scales.exp().clamp(MIN_SCALE, max_scale).sort().values
    ratios = log_ratios.exp().clamp(*RATIO_LIMITS).sort().values
    return layout.replace(anchor_scales=tuple(round(float(s), 3) for s in scales), anchor_ratios=tuple(round(float(r), 3) for r in ratios))


def _not_worse(candidate: CoverageReport, start: CoverageReport) -> bool:
    """Both shares at least the start's and a higher fitness."""
    return (
        candidate.share_at_least(0.5) >= start.share_at_least(0.5)
        and candidate.share_at_least(0.7) >= start.share_at_least(0.7)
        and candidate.fitness() > start.fitness()
    )


def optimize_anchors(
    gt: GtBoxes,
    layout: AnchorLayout,
    num_scales: int | None = None,
    num_ratios: int | None = None,
    seed: int = 0,
    generations: int = 300,
    max_boxes: int = 5000,
) -> AnchorSearch:
    """Scales and ratios for ``gt`` under ``layout``'s stride, input size and border rule.

    Args:
        gt: the dataset's GT boxes (:meth:`GtBoxes.from_dataset`).
        layout: the starting anchors and the geometry (``min_size``, ``max_size``,
            ``anchor_stride``, ``rpn_allowed_border``), as in :class:`DetectorConfig`.
        num_scales, num_ratios: the grid to fit (default: the start's, so each cell keeps
            as many anchors and training costs the same).
        seed: makes the search repeatable.
        generations: mutations tried after the k-means start.
        max_boxes: the search scores a seeded sample of this many boxes; the final
            comparison with the start uses every box.

    Returns:
        An :class:`AnchorSearch`; its ``layout`` is ``layout`` with new scales and ratios, or
        ``layout`` itself when nothing found covers better.
    """
    num_scales = num_scales or len(layout.anchor_scales)
    num_ratios = num_ratios or len(layout.anchor_ratios)
    if num_scales < 1 or num_ratios < 1:
        raise ValueError(f"need at least one scale and one ratio, got {num_scales} / {num_ratios}")
    resized = InputBoxes.resize(gt, layout.min_size, layout.max_size, layout.anchor_stride)
    start = grid_coverage(resized, layout)
    b = resized.boxes
    wh = torch.stack((b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]), dim=1)
    valid = (wh > 0).all(dim=1)
    if not bool(valid.any()):
        return AnchorSearch(start, start, False, 1)
    generator = torch.Generator().manual_seed(seed)
    sample = torch.nonzero(valid, as_tuple=True)[0]
    if sample.numel() > max_boxes:
        sample = sample[torch.randperm(sample.numel(), generator=generator)[:max_boxes]]
    search_boxes = resized.subset(sample)
    max_scale = 2 * layout.max_size / layout.anchor_stride

    def score(candidate: AnchorLayout) -> CoverageReport:
        return grid_coverage(search_boxes, candidate)

    centroids = kmeans_shapes(wh[sample], num_scales * num_ratios, generator)
    log_scales, log_ratios = product_layout(centroids, layout.anchor_stride, num_scales, num_ratios)
    best_layout = _layout_from_logs(layout, log_scales, log_ratios, max_scale)
    best = score(best_layout)
    start_on_sample = score(layout)
    evaluations = 2
    if (len(layout.anchor_scales), len(layout.anchor_ratios)) == (num_scales, num_ratios) and start_on_sample.fitness() > best.fitness():
        best_layout, best = layout, start_on_sample
    chosen = best_layout if _not_worse(best, start_on_sample) else None
    chosen_fitness = best.fitness() if chosen else -math.inf
    params = torch.cat((torch.tensor(best_layout.anchor_scales).log(), torch.tensor(best_layout.anchor_ratios).log()))
    for _ in range(generations):
        mask = torch.rand(params.shape, generator=generator) < MUTATION_PROBABILITY
        step = torch.randn(params.shape, generator=generator) * MUTATION_SIGMA * float(torch.rand((), generator=generator))
        candidate_params = params + mask * step
        candidate_layout = _layout_from_logs(layout, candidate_params[:num_scales], candidate_params[num_scales:], max_scale)
        candidate = score(candidate_layout)
        evaluations += 1
        if candidate.fitness() > best.fitness():
            params, best = candidate_params, candidate
            if candidate.fitness() > chosen_fitness and _not_worse(candidate, start_on_sample):
                chosen, chosen_fitness = candidate_layout, candidate.fitness()
    if chosen is None:
        return AnchorSearch(start, start, False, evaluations)
    result = grid_coverage(resized, chosen)
    if not _not_worse(result, start):
        log.info("anchor search: the best sample candidate covers worse on all boxes; keeping the start")
        return AnchorSearch(start, start, False, evaluations + 1)
    return AnchorSearch(start, result, True, evaluations + 1)

"""The check at the start of training: do the configured anchors fit the training set?

When fewer than :data:`COVERAGE_THRESHOLD` of the GT boxes have an anchor of IoU >= 0.5
(on the real grid at the input size, only anchors the assignment rule may use) and the
optimiser finds anchors, as many per cell, that raise that share by at least
:data:`MIN_GAIN`, the check returns a :class:`CoverageWarning` with the figures and those
anchors. Without that gain the anchors are as good as the stride allows (boxes smaller
than the stride never reach IoU 0.5 wherever they lie on the grid): no warning. On
``shapes`` the ``cpu`` preset's anchors reach 87 %, the best found 89 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import DetectorConfig
from .coverage import AnchorLayout, CoverageReport, GtBoxes, grid_coverage
from .optimizer import AnchorSearch, optimize_anchors

# Whether training switches to the optimised anchors when the check fires (`frcnn train
# --autoanchor`, the training dock) when the user says nothing: ``None`` means "when every
# anchor trains" (:func:`trains_every_anchor`). Under the seed's border rule optimised anchors
# lost 0.11-0.13 mAP@0.5 and ~0.21 COCO AP on large objects (most of them cross the image
# edge and sit out RPN training); with every anchor training they were level with the
# preset's over three seeds (README, "A recipe that learns real photos").
AUTOANCHOR_DEFAULT: bool | None = None
# rpn_allowed_border from which every anchor of a grid at the cpu preset's sizes trains (torchvision's rule)
EVERY_ANCHOR_BORDER = 1000.0
COVERAGE_THRESHOLD = 0.9  # share of GT boxes whose best anchor should reach IoU 0.5
MIN_GAIN = 0.05
# The check reads the GT boxes of at most this many images (a seeded sample of a larger set):
# a generated set computes each record, and a COCO-sized one would add minutes to the start.
MAX_CHECKED_IMAGES = 1000  # how much more of them better anchors must cover to be worth a warning


def format_values(values) -> str:
    """``(4.0, 6.25)`` -> ``"4,6.25"``, as the ``--anchor-scales`` / ``--anchor-ratios`` flags take them."""
    return ",".join(f"{v:g}" for v in values)


@dataclass(frozen=True)
class CoverageWarning:
    """The configured anchors cover the data poorly.

    Attributes:
        search: the optimiser's run from the configured anchors; ``search.start`` is their
            coverage, ``search.result`` that of the anchors it suggests.
        threshold: the share of GT boxes with an anchor of IoU >= 0.5 it fell below.
    """

    search: AnchorSearch
    threshold: float

    @property
    def coverage(self) -> CoverageReport:
        return self.search.start

    def fixed_config(self, config: DetectorConfig) -> DetectorConfig:
        """``config`` with the suggested anchors."""
        return self.search.layout.apply_to(config)

    @property
    def message(self) -> str:
        """One line: the figures, and the anchors that would fix them."""
        start, result = self.search.start, self.search.result
        line = (
            f"anchors {format_values(start.layout.anchor_scales)} x {format_values(start.layout.anchor_ratios)} fit the data poorly: "
            f"{100 * start.share_at_least(0.5):.1f}% of {start.gt_boxes} GT boxes have an anchor of IoU >= 0.5 "
            f"(wanted {100 * self.threshold:.0f}%), {100 * start.share_at_least(0.7):.1f}% >= 0.7, median best IoU {start.median_iou:.2f}"
        )
        return line + (
            f"; --anchor-scales {format_values(result.layout.anchor_scales)} --anchor-ratios {format_values(result.layout.anchor_ratios)} "
            f"reach {100 * result.share_at_least(0.5):.1f}% / {100 * result.share_at_least(0.7):.1f}%, median {result.median_iou:.2f}"
        )


def sample_gt_boxes(dataset, max_images: int, seed: int = 0) -> GtBoxes:
    """The GT boxes of every image of ``dataset``, or of a seeded sample of ``max_images`` of them."""
    if len(dataset) <= max_images:
        return GtBoxes.from_dataset(dataset)
    chosen = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:max_images].sort().values.tolist()
    return GtBoxes.from_records((i, dataset.info(i)) for i in chosen)


def anchor_coverage_check(
    dataset, config: DetectorConfig, threshold: float = COVERAGE_THRESHOLD, seed: int = 0
) -> CoverageWarning | None:
    """A :class:`CoverageWarning` when fewer than ``threshold`` of the GT boxes of
    ``dataset`` (or of a :class:`GtBoxes`) have an anchor of ``config`` with IoU >= 0.5
    and optimised anchors cover at least :data:`MIN_GAIN` more of them; else None (also
    without GT boxes). A dataset of more than :data:`MAX_CHECKED_IMAGES` images is judged by
    a seeded sample of that many. The optimiser runs (seconds) only below the threshold."""
    gt = dataset if isinstance(dataset, GtBoxes) else sample_gt_boxes(dataset, MAX_CHECKED_IMAGES, seed)
    layout = AnchorLayout.from_config(config)
    coverage = grid_coverage(gt, layout)
    if coverage.gt_boxes == 0 or coverage.share_at_least(0.5) >= threshold:
        return None
    search = optimize_anchors(gt, layout, seed=seed)
    if search.result.share_at_least(0.5) < coverage.share_at_least(0.5) + MIN_GAIN:
        return None
    return CoverageWarning(search, threshold)


def trains_every_anchor(config: DetectorConfig) -> bool:
    """Whether anchors crossing the image edge take part in RPN training under ``config``
    (``rpn_allowed_border`` of at least :data:`EVERY_ANCHOR_BORDER` pixels: torchvision's and
    Detectron2's rule; the seed's is 0)."""
    return config.rpn_allowed_border >= EVERY_ANCHOR_BORDER


def anchors_for_training(
    dataset, config: DetectorConfig, autoanchor: bool | None = AUTOANCHOR_DEFAULT, anchors_fixed: bool = False
) -> tuple[DetectorConfig, list[str]]:
    """The training-start check for ``frcnn train`` and the training dock: ``config``, with
    the optimised anchors when the check fires, ``autoanchor`` is on (``None``: on when
    :func:`trains_every_anchor`) and the user did not choose the anchors
    (``anchors_fixed``), and the lines to tell the user (none when the anchors fit)."""
    if autoanchor is None:
        autoanchor = trains_every_anchor(config)
    warning = anchor_coverage_check(dataset, config)
    if warning is None:
        return config, []
    lines = [f"warning: {warning.message}"]
    if autoanchor and not anchors_fixed:
        lines.append("training with the optimised anchors (--no-autoanchor to keep the configured ones)")
        return warning.fixed_config(config), lines
    if anchors_fixed:
        lines.append("keeping the anchors you set")
    elif not trains_every_anchor(config):
        lines.append(
            "keeping the configured anchors: under this border rule optimised anchors trained worse on large objects; with every "
            'anchor training (config {"detector": {"rpn_allowed_border": 100000}}) and --autoanchor they trained better '
            "(README, 'Anchors that fit your data')"
        )
    else:
        lines.append("keeping the configured anchors, as asked (with every anchor training the optimised ones trained as well, not better: README)")
    return config, lines

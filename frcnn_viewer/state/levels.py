"""The feature level a layer draws: every level, or one by the model's name for it.

A detector lays its anchors on one feature map (ours: ``C4``) or on several (torchvision's FPN:
``P2``…``P6``, MobileNet's three). The trace says which (:attr:`frcnn_core.Trace.levels`, one
:class:`~frcnn_core.FeatureLevel` each, their anchors the next ``num_anchors`` rows of the
anchor-indexed tensors, levels in order); the anchors, anchor-labels and objectness layers
carry a ``level`` option (:attr:`~frcnn_viewer.state.layer_options.Control.LEVEL`) holding
:data:`ALL_LEVELS` or one of those names. No Qt here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from frcnn_core import AnchorGeometry, FeatureLevel, Trace

ALL_LEVELS = "all"  # the ``level`` option's value that shows every level


def level_label(level: FeatureLevel, levels: Sequence[FeatureLevel]) -> str:
    """A short name for ``level``: an FPN's ``P<k>`` (stride ``2**k``) where every level has its
    own power-of-two stride (torchvision's ResNet-50 FPN: ``P2``…``P6``), else the model's name
    (MobileNetV3's ``'0'`` and ``'1'`` share stride 32; ours is ``C4``)."""
    strides = [other.stride for other in levels]
    distinct = len(set(strides)) == len(strides) and all(s > 0 and s & (s - 1) == 0 for s in strides)
    return f"P{level.stride.bit_length() - 1}" if len(levels) > 1 and distinct else level.name


def level_title(level: FeatureLevel, levels: Sequence[FeatureLevel]) -> str:
    """How the level choice names ``level``: its :func:`level_label`, with the model's own name
    when that differs (``P2 ('0', stride 4)``), and its stride."""
    label = level_label(level, levels)
    return f"{label} ('{level.name}', stride {level.stride})" if label != level.name else f"{level.name} (stride {level.stride})"


def level_choices(levels: Sequence[FeatureLevel]) -> tuple[tuple[str, str], ...]:
    """``(value, title)`` of every choice: all levels, then each level by its name
    (:func:`level_title`); the value is the model's name of the level."""
    return ((ALL_LEVELS, "All levels"), *((level.name, level_title(level, levels)) for level in levels))


def level_index(levels: Sequence[FeatureLevel], choice: str) -> int | None:
    """Index into ``levels`` of the level named ``choice``; ``None`` for :data:`ALL_LEVELS` or a
    name the model does not have (every level is then drawn)."""
    return next((i for i, level in enumerate(levels) if level.name == choice), None)


def level_rows(levels: Sequence[FeatureLevel], choice: str) -> slice:
    """The anchor rows of the chosen level (every row for :data:`ALL_LEVELS`)."""
    index = level_index(levels, choice)
    if index is None:
        return slice(0, sum(level.num_anchors for level in levels))
    start = sum(level.num_anchors for level in levels[:index])
    return slice(start, start + levels[index].num_anchors)


def level_mask(levels: Sequence[FeatureLevel], choice: str, count: int) -> np.ndarray:
    """``[count]`` bool: which of ``count`` anchor-indexed rows belong to the chosen level (all
    of them for :data:`ALL_LEVELS`, a name the model lacks, or no known levels)."""
    if level_index(levels, choice) is None:
        return np.ones(count, dtype=bool)
    mask = np.zeros(count, dtype=bool)
    mask[level_rows(levels, choice)] = True
    return mask


@dataclass(frozen=True)
class LevelGrid:
    """One feature level's anchors: the level, its ``rows`` of the anchor-indexed arrays and its
    cell arithmetic (:class:`frcnn_core.AnchorGeometry`, anchor scales in multiples of its stride)."""

    level: FeatureLevel
    rows: slice
    geometry: AnchorGeometry

    def scale_values(self) -> np.ndarray:
        """``[num_anchors]`` scale (anchor side / stride) of each of the level's anchors."""
        return np.asarray(self.geometry.scales)[self.geometry.scale_index()]

    def ratio_values(self) -> np.ndarray:
        """``[num_anchors]`` height / width of each of the level's anchors."""
        return np.asarray(self.geometry.ratios)[self.geometry.ratio_index()]


def trace_grids(trace: Trace) -> list[LevelGrid]:
    """The grid of every level of ``trace``, in the order of its anchors' rows."""
    return [LevelGrid(level, rows, trace.level_geometry(i)) for i, (level, rows) in enumerate(zip(trace.levels, trace.level_slices()))]


def geometry_grid(geometry: AnchorGeometry, name: str) -> LevelGrid:
    """The one level of a single-level grid (our detectors' ``C4``)."""
    level = FeatureLevel(
        name, geometry.stride, tuple(geometry.feature_size), tuple(float(geometry.stride * s) for s in geometry.scales),
        tuple(float(r) for r in geometry.ratios), geometry.num_anchors,
    )
    return LevelGrid(level, slice(0, geometry.num_anchors), geometry)


def chosen_grids(grids: Sequence[LevelGrid], choice: str) -> list[LevelGrid]:
    """The grids of the chosen level (every grid for :data:`ALL_LEVELS` or an unknown name)."""
    index = level_index([grid.level for grid in grids], choice)
    return list(grids) if index is None else [grids[index]]


def finest_grid(levels: Sequence[FeatureLevel], maps: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """One ``[Hf, Wf]`` map on the grid of the finest level (smallest stride): at each of its cells
    the highest value of ``maps`` (one ``[h, w]`` map per level, each cell of a coarser level
    covering ``stride / finest stride`` cells of the finest); returns it and that stride."""
    finest = min(range(len(levels)), key=lambda i: levels[i].stride)
    stride = levels[finest].stride
    height, width = maps[finest].shape
    combined = np.full((height, width), -np.inf, dtype=np.float64)
    for level, values in zip(levels, maps):
        rows = np.minimum(np.arange(height) * stride // level.stride, values.shape[0] - 1)
        cols = np.minimum(np.arange(width) * stride // level.stride, values.shape[1] - 1)
        combined = np.maximum(combined, values[np.ix_(rows, cols)])
    return combined, stride

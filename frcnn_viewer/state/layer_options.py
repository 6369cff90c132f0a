"""The layers' names and each layer's options, as types.

A layer's options are one frozen dataclass (:class:`DetectionsOptions`, …): the code that
draws, counts or ranks reads ``layer.options.score_threshold``, never a string key. Each
option is declared once with :func:`option`: its default, the layer panel's control and, for
an option the document's numbers depend on, the :class:`~.changes.Change` its edit announces.
Names and values given as strings (the scripting API, ``--set``, saved settings) become these
types at the boundary (:meth:`Layer.set_option <frcnn_viewer.state.layers.Layer.set_option>`).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .changes import Change
from .levels import ALL_LEVELS


class LayerName(Enum):
    """Every layer the viewer draws (the values are the scripting API's layer names)."""

    GROUND_TRUTH = "ground_truth"
    ANCHORS = "anchors"
    ANCHOR_LABELS = "anchor_labels"
    PROPOSALS = "proposals"
    ROI_SAMPLES = "roi_samples"
    DETECTIONS = "detections"
    OBJECTNESS = "objectness"
    DIAGNOSIS = "diagnosis"


class Control(Enum):
    """How the layer panel edits an option."""

    CHECK = "check"  # a check box (bool)
    CHOICE = "choice"  # a combo box over ``choices``
    COUNT = "count"  # a slider up to ``slider_maximum`` beside a spin box up to ``maximum`` (int)
    FRACTION = "fraction"  # a 0..1 slider with its value shown (float)
    ANCHOR_SHAPES = "anchor shapes"  # one check box per anchor scale / ratio of the parameters (hidden values)
    LEVEL = "level"  # a combo box over the model's feature levels: all, or one by name (frcnn_viewer.state.levels)


@dataclass(frozen=True)
class OptionControl:
    """One option of a layer: its ``key`` (the options dataclass field), the panel's ``title``,
    ``tip`` and ``control``; ``choices`` are ``(value, title)`` pairs for :attr:`Control.CHOICE`;
    ``announces`` is the document change an edit of it makes (``None``: only the drawing changes);
    ``values_of`` the ``DetectorConfig`` field whose values an :attr:`Control.ANCHOR_SHAPES` control lists."""

    key: str
    title: str
    control: Control
    choices: tuple[tuple[Any, str], ...] = ()
    maximum: int = 0
    slider_maximum: int = 0
    tip: str = ""
    announces: Change | None = None
    values_of: str = ""

    def convert(self, layer: str, value: Any, default: Any) -> Any:
        """``value`` as this option's type (the type of ``default``): an enum from its value,
        a tuple from a list, a number from a number; ``ValueError`` naming the layer, the option
        and what is valid otherwise."""
        where = f"layer {layer}: option {self.key}"
        if isinstance(default, Enum):
            try:
                return type(default)(value.value if isinstance(value, Enum) else value)
            except ValueError:
                valid = ", ".join(repr(member.value) for member in type(default))
                raise ValueError(f"{where} must be one of {valid}, got {value!r}") from None
        if isinstance(default, str):  # a feature level's name (Control.LEVEL): the model's own names
            if not isinstance(value, str):
                raise ValueError(f"{where} must be a name, got {value!r}")
            return value
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{where} must be true or false, got {value!r}")
            return value
        if isinstance(default, tuple):
            try:
                return tuple(float(v) for v in value)
            except (TypeError, ValueError):
                raise ValueError(f"{where} must be a list of numbers, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{where} must be a number, got {value!r}")
        if isinstance(default, int):
            if value != int(value) or value < 0:
                raise ValueError(f"{where} must be a whole number >= 0, got {value!r}")
            return int(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{where} must be in 0..1, got {value!r}")
        return float(value)


_CONTROL = "frcnn_viewer.option_control"


def option(default: Any, title: str, control: Control, *, choices: tuple[tuple[Any, str], ...] = (), maximum: int = 0,
           slider_maximum: int = 0, tip: str = "", announces: Change | None = None, values_of: str = "") -> Any:
    """An options-dataclass field with its :class:`OptionControl` (its ``key`` is the field's name)."""
    return field(default=default, metadata={_CONTROL: (title, control, choices, maximum, slider_maximum, tip, announces, values_of)})


def option_controls(options: type) -> tuple[OptionControl, ...]:
    """The :class:`OptionControl` of each field of the options dataclass ``options``, in order."""
    return tuple(OptionControl(f.name, *f.metadata[_CONTROL]) for f in dataclasses.fields(options))


SHOW_NAMES = "Class names"
LEVEL_TIP = "Draw every feature level, or one (an FPN model has several: P2…P6)"


@dataclass(frozen=True)
class GroundTruthOptions:
    show_names: bool = option(True, SHOW_NAMES, Control.CHECK)


class AnchorSubset(Enum):
    """Which anchors the anchors layer draws."""

    ALL = "all"
    INSIDE = "inside"  # inside the image
    CELL = "cell"  # those of the feature cell picked by clicking, with the feature grid


@dataclass(frozen=True)
class AnchorsOptions:
    subset: AnchorSubset = option(AnchorSubset.INSIDE, "Show", Control.CHOICE, choices=(
        (AnchorSubset.ALL, "All anchors"), (AnchorSubset.INSIDE, "Inside the image"), (AnchorSubset.CELL, "One feature cell (click the image)")))
    # anchor scale and ratio values not drawn
    hidden_scales: tuple[float, ...] = option((), "Scales", Control.ANCHOR_SHAPES, values_of="anchor_scales")
    hidden_ratios: tuple[float, ...] = option((), "Ratios", Control.ANCHOR_SHAPES, values_of="anchor_ratios")
    level: str = option(ALL_LEVELS, "Level", Control.LEVEL, tip=LEVEL_TIP)


@dataclass(frozen=True)
class AnchorLabelsOptions:
    # only the mini-batch of the RPN loss, else every candidate label
    sampled: bool = option(True, "Labels", Control.CHOICE, choices=((True, "Sampled mini-batch"), (False, "All candidates")))
    show_ignored: bool = option(False, "Ignored anchors", Control.CHECK)
    show_links: bool = option(True, "Links to matched GT", Control.CHECK)
    level: str = option(ALL_LEVELS, "Level", Control.LEVEL, tip=LEVEL_TIP)


class ProposalStage(Enum):
    """The proposals the proposals layer draws: the proposal layer's output or its input."""

    POST_NMS = "post_nms"
    PRE_NMS = "pre_nms"


@dataclass(frozen=True)
class ProposalsOptions:
    stage: ProposalStage = option(ProposalStage.POST_NMS, "Stage", Control.CHOICE, choices=(
        (ProposalStage.POST_NMS, "After NMS"), (ProposalStage.PRE_NMS, "Before NMS")))
    top_k: int = option(50, "Top K", Control.COUNT, maximum=100_000, slider_maximum=1000)


@dataclass(frozen=True)
class RoiSamplesOptions:
    show_background: bool = option(True, "Background RoIs", Control.CHECK)


DISPLAY_THRESHOLD_TIP = (
    "Display threshold: hides the model's detections scoring below it on the image, in the counts (TP, FP, missed) "
    "and in the image list's error sorts. The model's output does not change: that is the Parameters tab's "
    "Model score threshold (score_thresh)."
)


@dataclass(frozen=True)
class DetectionsOptions:
    show_names: bool = option(True, SHOW_NAMES, Control.CHECK)
    # the display threshold: what is shown and counted, never what the model outputs
    score_threshold: float = option(0.5, "Show scores ≥ (display)", Control.FRACTION, tip=DISPLAY_THRESHOLD_TIP,
                                    announces=Change.DISPLAY_THRESHOLD)


@dataclass(frozen=True)
class ObjectnessOptions:
    level: str = option(ALL_LEVELS, "Level", Control.LEVEL, tip=LEVEL_TIP)


@dataclass(frozen=True)
class DiagnosisOptions:
    show_detected: bool = option(False, "Label detected GT too", Control.CHECK)

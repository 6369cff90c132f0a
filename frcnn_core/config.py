"""Detector configuration: one frozen dataclass with the seed's defaults.

It is stored inside every checkpoint, so a checkpoint always knows how to
rebuild its model, and a checkpoint for another architecture is refused.

Each field is declared once, with :func:`knob`: its default, the earliest stage it affects,
the check of its value, its roles and (for the knobs users tune) a title and a line of help.
The tables the rest of the code reads (:data:`FIELD_STAGES`, :data:`ANCHOR_ASSIGNMENT_FIELDS`,
:data:`INFERENCE_FIELDS`, :data:`BUILD_FIELDS`, the checks of ``__post_init__``, the
viewer's parameter panel) are derived from those declarations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Flag, auto
from typing import Any

from .trace.stages import Stage, with_downstream

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Role(Flag):
    """What a :class:`DetectorConfig` field decides, besides the stage it feeds (a field may have several roles)."""

    BUILD = auto()  # read when the model is built: fixed on a built model (``reconfigure`` refuses it)
    WEIGHTS = auto()  # decides the shapes of the weights: a checkpoint must agree (:meth:`DetectorConfig.architecture`)
    ANCHOR_ASSIGNMENT = auto()  # shapes the anchor grid or its labels: relabels an image without any network
    INFERENCE = auto()  # the test-time proposal layer and post-processing: a trained model runs with any value


NO_ROLE = Role(0)


class Check:
    """A rule for the value of one field; :meth:`problem` says what is wrong (``None``: nothing)."""

    def problem(self, name: str, value: Any) -> str | None:
        raise NotImplementedError


@dataclass(frozen=True)
class AtLeast(Check):
    """A number ``>= low`` (``unit`` is named in the message)."""

    low: float
    unit: str = ""

    def problem(self, name: str, value: Any) -> str | None:
        return None if value >= self.low else f"{name} must be >= {self.low:g}{self.unit}, got {value}"


@dataclass(frozen=True)
class Within(Check):
    """A number in ``[low, high]``, or ``(low, high]`` with ``open_low``."""

    low: float
    high: float
    open_low: bool = False

    def problem(self, name: str, value: Any) -> str | None:
        above = value > self.low if self.open_low else value >= self.low
        if above and value <= self.high:
            return None
        span = f"({self.low:g}, {self.high:g}]" if self.open_low else f"{self.low:g}..{self.high:g}"
        return f"{name} must be in {span}, got {value}"


@dataclass(frozen=True)
class OneOf(Check):
    """One of ``choices``."""

    choices: tuple[str, ...]

    def problem(self, name: str, value: Any) -> str | None:
        return None if value in self.choices else f"{name} must be one of {', '.join(map(repr, self.choices))}, got {value!r}"


@dataclass(frozen=True)
class Positives(Check):
    """A non-empty tuple of positive numbers."""

    def problem(self, name: str, value: Any) -> str | None:
        if len(value) and all(v > 0 for v in value):
            return None
        return f"{name} must be one or more positive numbers, got {value}"


@dataclass(frozen=True)
class FieldSpec:
    """One :class:`DetectorConfig` field, declared once: the earliest :class:`Stage` it affects,
    the :class:`Check` of its value (``None``: any value of its type), its :class:`Role`, and for
    the fields a user tunes, a short ``title`` and a ``doc`` line (the viewer's label and tooltip)."""

    stage: Stage
    check: Check | None = None
    role: Role = NO_ROLE
    title: str = ""
    doc: str = ""


_SPEC = "frcnn_core.field_spec"


def knob(default: Any, stage: Stage, check: Check | None = None, role: Role = NO_ROLE, title: str = "", doc: str = "") -> Any:
    """A :class:`DetectorConfig` field with its :class:`FieldSpec`."""
    return field(default=default, metadata={_SPEC: FieldSpec(stage, check, role, title, doc)})


# short names for the declarations below
FEATURES, PROPOSALS, ANCHOR_TARGETS, ROI_SAMPLES = Stage.FEATURES, Stage.PROPOSALS, Stage.ANCHOR_TARGETS, Stage.ROI_SAMPLES
LOSSES, DETECTIONS = Stage.LOSSES, Stage.DETECTIONS
SHAPES = Role.BUILD | Role.WEIGHTS
ONE, NONNEGATIVE, FRACTION, UNIT = AtLeast(1), AtLeast(0), Within(0.0, 1.0, open_low=True), Within(0.0, 1.0)
PIXELS = AtLeast(0, " pixels")


@dataclass(frozen=True)
class DetectorConfig:
    """Every knob of the detector. Pixel sizes are in network-input pixels (after resizing).

    ``num_classes`` counts foreground classes; labels are 1..num_classes, 0 is background.
    Each field is declared once with its :class:`FieldSpec` (:data:`FIELDS`): the stage it
    feeds (:data:`FIELD_STAGES`), the check of its value, its roles
    (:data:`ANCHOR_ASSIGNMENT_FIELDS`, :data:`INFERENCE_FIELDS`, :data:`BUILD_FIELDS`).
    """

    # the weights' shapes: a different value means a different model
    num_classes: int = knob(20, FEATURES, ONE, SHAPES)
    class_names: tuple[str, ...] = knob((), DETECTIONS)  # only names the classes (the trace is assembled anew after any change)
    backbone: str = knob("vgg16", FEATURES, None, SHAPES)
    pretrained_backbone: bool = knob(False, FEATURES, None, Role.BUILD)
    # image resizing: the shorter side becomes min_size unless the longer would exceed max_size
    min_size: int = knob(800, FEATURES, AtLeast(32), Role.ANCHOR_ASSIGNMENT, "Shorter side (px)", "the network input's shorter side")
    max_size: int = knob(1333, FEATURES, None, Role.ANCHOR_ASSIGNMENT, "Longer side at most (px)",
                         "the network input's longer side never exceeds this (checked with min_size)")
    pixel_mean: tuple[float, float, float] = knob(IMAGENET_MEAN, FEATURES)
    pixel_std: tuple[float, float, float] = knob(IMAGENET_STD, FEATURES, Positives())
    # anchors
    anchor_stride: int = knob(16, FEATURES, ONE, Role.BUILD | Role.ANCHOR_ASSIGNMENT, "Stride (px)", "the trunk's stride: one anchor set per feature cell")
    anchor_scales: tuple[float, ...] = knob((8.0, 16.0, 32.0), FEATURES, Positives(), Role.WEIGHTS | Role.ANCHOR_ASSIGNMENT, "Scales", "anchor sides in strides")
    anchor_ratios: tuple[float, ...] = knob((0.5, 1.0, 2.0), FEATURES, Positives(), Role.WEIGHTS | Role.ANCHOR_ASSIGNMENT, "Ratios (h/w)", "anchor height / width")
    # anchor targets
    rpn_pos_iou: float = knob(0.7, ANCHOR_TARGETS, UNIT, Role.ANCHOR_ASSIGNMENT, "Positive IoU ≥", "an anchor with at least this IoU with a GT box is positive")
    rpn_neg_iou: float = knob(0.3, ANCHOR_TARGETS, UNIT, Role.ANCHOR_ASSIGNMENT, "Negative IoU <", "an anchor below this IoU with every GT box is negative")
    rpn_num_samples: int = knob(256, ANCHOR_TARGETS, ONE, Role.ANCHOR_ASSIGNMENT, "Sample size", "anchors sampled for the RPN loss per image")
    rpn_pos_fraction: float = knob(0.5, ANCHOR_TARGETS, FRACTION, Role.ANCHOR_ASSIGNMENT, "Positive fraction", "at most this share of the sample is positive")
    rpn_allowed_border: float = knob(0.0, ANCHOR_TARGETS, PIXELS, Role.ANCHOR_ASSIGNMENT, "Allowed border (px)",
                                     "anchors reaching further than this past the image border sit out RPN training (the seed: 0)")
    rpn_positives_per_gt: int = knob(1, ANCHOR_TARGETS, NONNEGATIVE, Role.ANCHOR_ASSIGNMENT, "Best anchors per GT",
                                     "each GT box makes its this many best-IoU anchors positive, whatever their IoU (the seed: 1)")
    rpn_mid_channels: int = knob(512, FEATURES, ONE, SHAPES)
    # proposal layer
    rpn_pre_nms_top_n_train: int = knob(12000, PROPOSALS, ONE)
    rpn_post_nms_top_n_train: int = knob(2000, PROPOSALS, ONE)
    rpn_pre_nms_top_n_test: int = knob(6000, PROPOSALS, ONE, Role.INFERENCE, "Pre-NMS top N", "proposals kept by objectness before the RPN's NMS")
    rpn_post_nms_top_n_test: int = knob(300, PROPOSALS, ONE, Role.INFERENCE, "Post-NMS top N", "proposals kept after the RPN's NMS: what the head sees")
    rpn_nms_thresh: float = knob(0.7, PROPOSALS, UNIT, Role.INFERENCE, "RPN NMS IoU", "the proposal layer's NMS: a proposal overlapping a better one this much is dropped")
    rpn_min_size: float = knob(16.0, PROPOSALS, PIXELS, Role.INFERENCE, "Min proposal size (px)", "proposals narrower or shorter than this are dropped")
    rpn_score_thresh: float = knob(0.0, PROPOSALS, UNIT, Role.INFERENCE, "RPN min score",
                                   "proposals whose objectness probability is below this are dropped before NMS "
                                   "(torchvision's rpn_score_thresh: 0.05 for its MobileNetV3 builders, 0 for the ResNet-50 ones)")
    # proposal targets
    roi_num_samples: int = knob(128, ROI_SAMPLES, ONE)
    roi_fg_fraction: float = knob(0.25, ROI_SAMPLES, FRACTION)
    roi_fg_iou: float = knob(0.5, ROI_SAMPLES, UNIT)
    roi_bg_iou_high: float = knob(0.5, ROI_SAMPLES, UNIT)
    roi_bg_iou_low: float = knob(0.0, ROI_SAMPLES, UNIT)
    # each GT box also joins the RoIs as this many jittered copies in training (the seed: 0)
    roi_gt_jitter: int = knob(0, ROI_SAMPLES, NONNEGATIVE)
    # Fast R-CNN head
    roi_op: str = knob("pool", FEATURES, OneOf(("pool", "align")), Role.BUILD)  # "pool" (torchvision roi_pool, the paper's) or "align"
    roi_output_size: int = knob(7, FEATURES, ONE, SHAPES)
    head_hidden: int = knob(4096, FEATURES, ONE, SHAPES)
    # read by the RoI targets and by post-processing: their common input is the proposals
    box_weights: tuple[float, float, float, float] = knob((10.0, 10.0, 5.0, 5.0), PROPOSALS, Positives())
    # losses: smooth-L1 beta = 1 / sigma^2 (sigma 3 for the RPN, 1 for the head)
    rpn_smooth_l1_beta: float = knob(1.0 / 9.0, LOSSES, NONNEGATIVE)
    roi_smooth_l1_beta: float = knob(1.0, LOSSES, NONNEGATIVE)
    # inference post-processing
    score_thresh: float = knob(0.05, DETECTIONS, UNIT, Role.INFERENCE, "Model score threshold",
                               "the model's own threshold: class scores below it are dropped before NMS, so the model never outputs "
                               "them and nothing below it reaches the view, the exports, Analyse all or the diagnosis (not the "
                               "Detections layer's display threshold, the diagnosis' operating score or the suggestions' offer score)")
    nms_thresh: float = knob(0.3, DETECTIONS, UNIT, Role.INFERENCE, "Detection NMS IoU", "per-class NMS of the detections: a box overlapping a better one this much is dropped")
    detections_per_image: int = knob(100, DETECTIONS, ONE, Role.INFERENCE, "Detections per image", "the best this many detections are kept")
    box_vote_iou: float = knob(0.0, DETECTIONS, UNIT, Role.INFERENCE, "Box voting IoU",
                               "each kept detection moves to the score-weighted mean of the boxes of its class overlapping it "
                               "this much, the ones NMS dropped included (Detectron's BBOX_VOTE; 0: off, the seed's)")

    def __post_init__(self) -> None:
        problems = [problem for name, spec in FIELDS.items() if (problem := _problem(name, spec, getattr(self, name))) is not None]
        if self.class_names and len(self.class_names) != self.num_classes:
            problems.append(f"class_names has {len(self.class_names)} names but num_classes is {self.num_classes}")
        if _is_number(self.rpn_neg_iou) and _is_number(self.rpn_pos_iou) and self.rpn_neg_iou > self.rpn_pos_iou:
            problems.append(f"need rpn_neg_iou <= rpn_pos_iou, got {self.rpn_neg_iou} / {self.rpn_pos_iou}")
        if _is_number(self.min_size) and _is_number(self.max_size) and self.max_size < self.min_size:
            problems.append(f"need min_size <= max_size, got {self.min_size} / {self.max_size}")
        if problems:
            raise ValueError("invalid DetectorConfig: " + "; ".join(problems))

    @property
    def num_anchors_per_cell(self) -> int:
        return len(self.anchor_scales) * len(self.anchor_ratios)

    def label_name(self, label: int) -> str:
        """Name of class ``label`` (1..C); ``background`` for 0."""
        if label == 0:
            return "background"
        if self.class_names:
            return self.class_names[label - 1]
        return f"class {label}"

    def replace(self, **changes) -> DetectorConfig:
        """A copy with ``changes`` (field names); an unknown name is a ``ValueError`` listing the valid ones."""
        unknown_fields(type(self), changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DetectorConfig:
        """Build from a dict (JSON-loaded lists become tuples); unknown keys are an error."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown DetectorConfig field(s): {', '.join(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DetectorConfig:
        return cls.from_dict(json.loads(text))

    def architecture(self) -> dict:
        """The fields that decide the shapes of the weights (what a checkpoint must agree on)."""
        return {k: getattr(self, k) for k in WEIGHTS_FIELDS}

    def fingerprint(self) -> str:
        """Short stable hash of the whole config, used as the model identity in exports."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]


# an allowed border no anchor reaches past: every anchor takes part in RPN training
EVERY_ANCHOR = 100000.0


def cpu_config(num_classes: int, class_names: tuple[str, ...] = (), **changes) -> DetectorConfig:
    """A light configuration that trains from scratch on a CPU in minutes."""
    defaults = dict(
        num_classes=num_classes,
        class_names=tuple(class_names),
        backbone="small",
        min_size=256,
        max_size=512,
        # 24 to 104 px squares: objects of 20 px to half a 256 px image all reach IoU >= 0.5
        anchor_scales=(1.5, 2.5, 4.0, 6.5),
        # small boxes (a third of shapes' are under 32 px) reach IoU 0.7 with no anchor: their
        # 4 best anchors are positives, which lifts their top-100 proposal recall from 0.36 to 0.78
        rpn_positives_per_gt=4,
        # 4 jittered copies of each GT box among the head's RoIs: mAP@0.5 on shapes after 1000
        # iterations 0.758 -> 0.820, on composite after 400 0.905 -> 0.929 (bench_training)
        roi_gt_jitter=4,
        rpn_min_size=4.0,
        rpn_pre_nms_top_n_train=1000,
        rpn_post_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=1000,
        rpn_post_nms_top_n_test=100,
        rpn_mid_channels=128,
        head_hidden=256,
        roi_op="align",  # on 16 x 16 feature maps roi_pool's quantisation costs accuracy
        # torchvision's smooth-L1 for the head's boxes (the seed's is 1): the loss stays linear down
        # to small errors, so boxes keep being pulled in once roughly right (README, "A recipe that
        # learns real photos": COCO AP on large objects rose at the same mAP@0.5, BCCD a little lower)
        roi_smooth_l1_beta=1.0 / 9.0,
        # every anchor trains, also those crossing the image edge (torchvision's and Detectron2's
        # rule): large anchors then train where they are used (README, "Anchors that fit your data")
        rpn_allowed_border=EVERY_ANCHOR,
        # Detectron's box voting at its IoU: COCO AP +0.010 on average over 11 trained models of
        # five sets at the same mAP@0.5 (README, "A recipe that learns real photos")
        box_vote_iou=0.8,
    )
    defaults.update(changes)
    return DetectorConfig(**defaults)


def unknown_fields(cls, changes) -> None:
    """Raise ``ValueError`` naming the keys of ``changes`` that are not fields of dataclass ``cls``,
    and listing the valid ones."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s) {', '.join(unknown)}; valid: {', '.join(names)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _type_problem(name: str, default: Any, value: Any) -> str | None:
    """What is wrong with the type of ``value`` for a field whose default is ``default``
    (integers pass for floats, numpy numbers for either, a list for a tuple is not accepted)."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = _is_number(value)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    else:  # a tuple of numbers or of names
        kind = str if name == "class_names" else numbers.Real
        ok = isinstance(value, tuple) and all(isinstance(v, kind) and not isinstance(v, bool) for v in value)
    return None if ok else f"{name} must be {_KIND_NAMES[type(default)] if not isinstance(default, tuple) else 'a tuple'}, got {value!r}"


_KIND_NAMES = {bool: "True or False", int: "an integer", float: "a number", str: "a string"}


def _problem(name: str, spec: FieldSpec, value: Any) -> str | None:
    problem = _type_problem(name, _DEFAULTS[name], value)
    if problem is None and spec.check is not None:
        problem = spec.check.problem(name, value)
    return problem


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(DetectorConfig)}
# Every field's declaration, in declaration order: the one table the others derive from.
FIELDS: dict[str, FieldSpec] = {f.name: f.metadata[_SPEC] for f in dataclasses.fields(DetectorConfig)}
# The earliest stage each field affects: re-running it and the stages that read it
# (frcnn_core.trace.stages.STAGE_INPUTS) covers every use of the field.
FIELD_STAGES: dict[str, Stage] = {name: spec.stage for name, spec in FIELDS.items()}


def fields_with(role: Role) -> tuple[str, ...]:
    """The names of the fields that have ``role``, in declaration order."""
    return tuple(name for name, spec in FIELDS.items() if role in spec.role)


# The fields that shape the anchor grid and its labels: changing one relabels the anchors of an
# image without running any network (frcnn_core.anchors.assignment.assign_anchors).
ANCHOR_ASSIGNMENT_FIELDS = fields_with(Role.ANCHOR_ASSIGNMENT)
# The test-time proposal layer and detection post-processing: a trained model runs with any
# values of these (the weights do not depend on them).
INFERENCE_FIELDS = fields_with(Role.INFERENCE)
# Read when the model is built: a built model keeps them (``FasterRCNN.reconfigure`` refuses a change).
BUILD_FIELDS = fields_with(Role.BUILD)
# The shapes of the weights (``DetectorConfig.architecture``: what a checkpoint must agree on).
WEIGHTS_FIELDS = fields_with(Role.WEIGHTS)


def earliest_stage(field_name: str) -> Stage:
    """The earliest stage a change of :class:`DetectorConfig` field ``field_name`` affects."""
    try:
        return FIELD_STAGES[field_name]
    except KeyError:
        raise ValueError(f"unknown DetectorConfig field {field_name!r}; valid fields: {', '.join(FIELD_STAGES)}") from None


def stages_to_rerun(fields: Iterable[str]) -> frozenset[Stage]:
    """Every stage a change of ``fields`` makes stale: their earliest stages and all
    stages reading those, directly or not."""
    return with_downstream(earliest_stage(f) for f in fields)


def changed_fields(old: DetectorConfig, new: DetectorConfig) -> list[str]:
    """Names of the fields whose values differ between two configurations."""
    return [name for name in FIELDS if getattr(old, name) != getattr(new, name)]

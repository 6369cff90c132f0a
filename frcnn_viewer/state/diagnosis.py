"""Why was it missed? The viewer's side of :mod:`frcnn_core.evaluation.diagnose` (no Qt).

The rule is the core's (:func:`frcnn_core.evaluation.diagnose.diagnose_trace`): the viewer only feeds it
the trace and the GT of an image as shown, adds up the verdicts of many images, picks out
the images that hold a given stage or false-positive type, and says what a box under the
mouse was measured at. Boxes here are in displayed pixels (see
:class:`~frcnn_viewer.state.sources.LoadedImage`) unless converted with :func:`in_original_pixels`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from frcnn_core import DetectorConfig, Trace
from frcnn_core.evaluation.diagnose import FalsePositiveType, ImageDiagnosis, Stage, diagnose_trace

from .results import model_target
from .sources import LoadedImage

# What the diagnosis panel filters the image list by: a stage that lost GT boxes, or a false-positive type.
ErrorKind = Stage | FalsePositiveType


# What the diagnosis' score threshold is, for its control's tooltip (one of the viewer's four).
OPERATING_SCORE_TIP = (
    "Operating score: the diagnosis rule's operating point (frcnn diagnose --score-threshold). A GT box counts as "
    "detected only by a detection scoring at least this, and only such detections are judged as false positives. "
    "It changes the verdicts, not the model's output (Parameters: Model score threshold) nor what the Detections "
    "layer shows (its display threshold)."
)


@dataclass(frozen=True)
class DiagnosisSettings:
    """The two parameters of the rule (``frcnn diagnose --iou --score-threshold``).

    Attributes:
        iou: the least IoU that reaches a GT box, in ``(0, 1]``.
        score_threshold: the least score of a kept detection, in ``[0, 1]``.
    """

    iou: float = 0.5
    score_threshold: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.iou <= 1.0:
            raise ValueError(f"diagnosis IoU must be in (0, 1], got {self.iou}")
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"diagnosis score threshold must be in [0, 1], got {self.score_threshold}")

    def made(self, diagnosis: ImageDiagnosis | None) -> bool:
        """Whether ``diagnosis`` was made with these settings."""
        return diagnosis is not None and (diagnosis.iou, diagnosis.score_threshold) == (self.iou, self.score_threshold)


def diagnose_image(image: LoadedImage, trace: Trace, config: DetectorConfig, settings: DiagnosisSettings) -> ImageDiagnosis | None:
    """The core's diagnosis of ``image`` from its ``trace`` (made from the displayed pixels),
    ``None`` for an image without GT."""
    target = model_target(image, config)
    if target is None:
        return None
    return diagnose_trace(trace, target, settings.iou, settings.score_threshold)


def same_verdicts(a: ImageDiagnosis, b: ImageDiagnosis) -> bool:
    """Whether two diagnoses of one image say the same: the settings, each GT box's stage, each
    false positive's type, and TIDE's verdicts (what the counts and the error costs add up)."""
    if (a.iou, a.score_threshold) != (b.iou, b.score_threshold):
        return False
    if [(g.index, g.stage) for g in a.gt] != [(g.index, g.stage) for g in b.gt]:
        return False
    if [(f.index, f.type) for f in a.false_positives] != [(f.index, f.type) for f in b.false_positives]:
        return False
    return all(np.array_equal(getattr(a.tide, f.name), getattr(b.tide, f.name)) for f in dataclasses.fields(a.tide))


def kind_count(diagnosis: ImageDiagnosis, kind: ErrorKind) -> int:
    """How many GT boxes of ``diagnosis`` were lost at stage ``kind``, or how many of its false
    positives are of type ``kind``."""
    if isinstance(kind, Stage):
        return sum(g.stage is kind for g in diagnosis.gt)
    return sum(f.type is kind for f in diagnosis.false_positives)


@dataclass(frozen=True)
class DiagnosisSummary:
    """The verdicts of several images added up.

    Attributes:
        stages: GT boxes per :class:`Stage` (every stage listed, ``detected`` included).
        false_positives: false positives per :class:`FalsePositiveType` (every type listed).
        images: how many images were added up.
    """

    stages: dict[Stage, int]
    false_positives: dict[FalsePositiveType, int]
    images: int


def summarize(diagnoses: Iterable[ImageDiagnosis]) -> DiagnosisSummary:
    """Counts per stage and per false-positive type over ``diagnoses``."""
    stages, false_positives, images = dict.fromkeys(Stage, 0), dict.fromkeys(FalsePositiveType, 0), 0
    for diagnosis in diagnoses:
        images += 1
        for stage, n in diagnosis.stage_counts().items():
            stages[stage] += n
        for kind, n in diagnosis.false_positive_counts().items():
            false_positives[kind] += n
    return DiagnosisSummary(stages, false_positives, images)


def ranked_by_kind(diagnoses: dict[int, ImageDiagnosis], kind: ErrorKind) -> list[int]:
    """Indices of the images holding at least one ``kind``, the most first (ties: index order)."""
    counted = ((kind_count(d, kind), i) for i, d in diagnoses.items())
    return [i for n, i in sorted(counted, key=lambda pair: (-pair[0], pair[1])) if n > 0]


def in_original_pixels(diagnosis: ImageDiagnosis, display_scale: tuple[float, float]) -> ImageDiagnosis:
    """``diagnosis`` with its boxes divided by ``display_scale`` ``(sx, sy)`` (displayed pixels per
    original pixel): the boxes of the file, as ``frcnn diagnose`` reports them. IoUs do not change."""
    if tuple(display_scale) == (1.0, 1.0):
        return diagnosis
    sx, sy = display_scale

    def scaled(box):
        return (box[0] / sx, box[1] / sy, box[2] / sx, box[3] / sy)

    return dataclasses.replace(
        diagnosis,
        gt=[dataclasses.replace(g, box=scaled(g.box)) for g in diagnosis.gt],
        false_positives=[dataclasses.replace(f, box=scaled(f.box)) for f in diagnosis.false_positives],
    )


def _area(box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _contains(box, x: float, y: float) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def describe_diagnosis_at(diagnosis: ImageDiagnosis | None, x: float, y: float, label_name) -> str | None:
    """What the diagnosis measured for the smallest GT box or false positive under ``(x, y)``
    (``None`` if there is none); ``label_name(label)`` names a class."""
    if diagnosis is None:
        return None
    gt = [g for g in diagnosis.gt if _contains(g.box, x, y)]
    fps = [f for f in diagnosis.false_positives if _contains(f.box, x, y)]
    if not gt and not fps:
        return None
    g = min(gt, key=lambda g: _area(g.box), default=None)
    f = min(fps, key=lambda f: _area(f.box), default=None)
    if f is None or (g is not None and _area(g.box) <= _area(f.box)):
        return (
            f"GT {label_name(g.label)}: {g.stage.description} - best IoU: anchor {g.best_anchor_iou:.2f}, "
            f"pre-NMS proposal {g.best_pre_nms_iou:.2f}, proposal {g.best_proposal_iou:.2f}, detection {g.best_detection_iou:.2f}, "
            f"{label_name(g.label)} detection {g.best_class_detection_iou:.2f} (best score there {g.best_class_detection_score:.2f})"
        )
    return (
        f"false positive {label_name(f.label)} {f.score:.2f}: {f.type.description} - best IoU with a GT box of its class "
        f"{f.best_class_iou:.2f}, of another class {f.best_other_class_iou:.2f}"
    )

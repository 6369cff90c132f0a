"""Why was it missed? The stage that lost each ground-truth box, and the type of each false positive.

The rule, the same for ``frcnn diagnose``, the viewer and any script. Parameters:
``iou`` (default 0.5) and ``score_threshold`` (default 0.5). Difficult (VOC) and crowd
(COCO) GT boxes are left out, as in ``frcnn eval``. Matching is
:func:`frcnn_core.evaluation.metrics.match_image`, the very function behind ``frcnn eval``'s mAP,
over every detection the model outputs (at its own minimum score); a GT box is
*detected* when a detection scoring at least ``score_threshold`` took it. Because the
matching goes in decreasing score, that is exactly the matching of the detections
kept at ``score_threshold``, so the ``detected`` count equals ``frcnn eval``'s true
positives scoring at least ``score_threshold``.

Measured for every non-difficult GT box (IoUs in the original image's pixels, 0 over
an empty set):

- ``best_anchor_iou``: over every anchor of the grid (inside the image or not);
- ``best_pre_nms_iou``: over the proposals before NMS (the pre-NMS top-N);
- ``best_proposal_iou``: over the proposals after NMS and the post-NMS top-N (the head's input);
- ``best_detection_iou``: over all detections, any class;
- ``best_class_detection_iou``: over the detections of the box's class;
- ``best_class_detection_score``: the best score of a detection of its class with IoU
  ``>= iou``, 0 if none.

Its :class:`Stage` is ``detected`` if detected, otherwise the first that holds:
``anchor`` (best anchor IoU ``< iou``), ``rpn`` (best pre-NMS IoU ``< iou``), ``nms``
(best proposal IoU ``< iou``), ``head`` (best detection IoU ``< iou``), ``class`` (best
class-detection IoU ``< iou``), ``score`` (best class-detection score ``<
score_threshold``), else ``taken`` (its detection went to another GT box: under the
VOC rule a detection looks only at its best-IoU box of its class).

Every detection scoring at least ``score_threshold`` that is neither a true positive
nor ignored (its best box of its class is difficult) is a false positive of TIDE's type
(:func:`frcnn_core.evaluation.tide.false_positive_errors`, at TIDE's background IoU 0.1 and
``iou`` as its foreground IoU; IoUs against every GT box of the image, difficult ones
included; a box is *taken* when any detection took it): the first that holds of
``localization`` (``0.1 <=`` best IoU with a box of its class ``<= iou``),
``classification`` (IoU ``>= iou`` with a box of another class), ``duplicate`` (IoU ``>=
iou`` with a taken box of its class), ``background`` (IoU ``<= 0.1`` with every box), else
``both``. Which detections are false positives is VOC's matching, ``frcnn eval``'s; TIDE's
own (:mod:`frcnn_core.evaluation.tide`) gives a detection whose best box is taken the next
free one, and ignores one on a difficult box only when more than ``iou`` of its area lies inside the box.

What each error costs (:func:`error_costs`, in the report's ``"dap"``), at IoU 0.5 over
every detection the model outputs (its own minimum score, whatever ``score_threshold``):
``tide`` is TIDE's dAP of its six types, computed as ``tidecv`` does
(:mod:`frcnn_core.evaluation.tide`); ``stages`` gives, per miss stage, TIDE's missed oracle
applied to the boxes lost at that stage that TIDE's matching left without a detection
(they leave the positives, no detection is added; the mAP gained, at least 0, and 0 for a
stage without such a box); ``map50`` is TIDE's mAP@0.5 they are gains over. Together
the stages' boxes are all of TIDE's false negatives when ``iou >= 0.5``. A box lost only
to the score threshold is a true positive of the AP (the AP ranks every detection), so
``score`` is 0 unless TIDE's matching gave its detection to another box. Values are
fractions, like ``map50``.

The dataset report (:func:`diagnosis_report`, written by ``frcnn diagnose --json``)::

    {
      "iou": float, "score_threshold": float,
      "gt": [{"image_id", "file_name", "box": [x1, y1, x2, y2], "label", "class_name", "stage",
              "best_anchor_iou", "best_pre_nms_iou", "best_proposal_iou",
              "best_detection_iou", "best_class_detection_iou", "best_class_detection_score"}],
      "false_positives": [{"image_id", "file_name", "box", "label", "class_name", "score", "type"}],
      "summary": {"gt": {stage: count}, "false_positives": {type: count}},
      "per_class": {class_name: {"gt": {stage: count}, "false_positives": {type: count}}},
      "dap": {"tide": {"classification", "localization", "both", "duplicate", "background", "missed"},
              "stages": {stage: value for each miss stage}, "map50": float}
    }

``image_id`` is the dataset's id of the image (as in ``frcnn detect``'s COCO output),
``file_name`` the image file as the dataset names it (``""`` for generated images).
Counts list every stage and type, zeros included, in the order of the enums.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import EnumMeta

import numpy as np
import torch
from torch import Tensor

from ..boxes import pairwise_iou
from ..inference import gather_shards
from ..trace.trace import Trace
from ..train.distributed import ProcessGroup
from .described import DescribedEnum
from .metrics import ImageMatching, match_image
from .tide import BACKGROUND_IOU, TIDE_ERRORS, TideError, TideImage, TideOracle, false_positive_errors, tide_image

BOX_DECIMALS = 2


class Stage(DescribedEnum):
    """Where a GT box was lost, in the detector's order; ``DETECTED`` if it was not."""

    ANCHOR = ("anchor", "no anchor comes close")
    RPN = ("rpn", "RPN never proposed it")
    NMS = ("nms", "lost in NMS")
    HEAD = ("head", "lost in the head")
    CLASS = ("class", "found as another class")
    SCORE = ("score", "score too low")
    TAKEN = ("taken", "its detection went to another box")
    DETECTED = ("detected", "detected")


MISS_STAGES = tuple(s for s in Stage if s is not Stage.DETECTED)

# The funnel: how many GT boxes get past each stage. Each step is named after what the
# boxes that reach it have, and loses the boxes of the stage beside it.
FUNNEL_STEPS = (
    ("an anchor", Stage.ANCHOR),
    ("a pre-NMS proposal", Stage.RPN),
    ("a proposal", Stage.NMS),
    ("a detection", Stage.HEAD),
    ("the right class", Stage.CLASS),
    ("a score above threshold", Stage.SCORE),
    ("matched", Stage.TAKEN),
)


class _RenamedMembers(EnumMeta):
    """An enum whose members' former names warn (:class:`DeprecationWarning`) and still work."""

    def __getattr__(cls, name: str):
        renamed = cls.__dict__.get("_renamed_", {})
        if name in renamed:
            warnings.warn(f"{cls.__name__}.{name} is deprecated; use {cls.__name__}.{renamed[name]}", DeprecationWarning, stacklevel=2)
            return cls[renamed[name]]
        return super().__getattr__(name)


class FalsePositiveType(DescribedEnum, metaclass=_RenamedMembers):
    """TIDE's error types of a false positive (its names and its order of reporting)."""

    CLASSIFICATION = (TideError.CLASSIFICATION.value, "wrong class")
    LOCALIZATION = (TideError.LOCALIZATION.value, "badly placed")
    BOTH = (TideError.BOTH.value, "wrong class, badly placed")
    DUPLICATE = (TideError.DUPLICATE.value, "duplicate")
    BACKGROUND = (TideError.BACKGROUND.value, "background")


# "class" was Stage.CLASS's string too: a str enum member compared equal to the other enum's
FalsePositiveType._renamed_ = {"CLASS": "CLASSIFICATION"}


@dataclass(frozen=True)
class GtDiagnosis:
    """One non-difficult GT box: where it was lost and the values that decided it.

    Attributes:
        index: the box's row in the image's target (difficult rows included).
        box: ``(x1, y1, x2, y2)`` original pixels; label: 1..C.
        stage: :class:`Stage`; the ``best_*`` values as in the module docstring.
    """

    index: int
    box: tuple[float, float, float, float]
    label: int
    stage: Stage
    best_anchor_iou: float
    best_pre_nms_iou: float
    best_proposal_iou: float
    best_detection_iou: float
    best_class_detection_iou: float
    best_class_detection_score: float


@dataclass(frozen=True)
class FalsePositive:
    """One false positive scoring at least the threshold.

    Attributes:
        index: the detection's row in ``trace.detections``.
        box: ``(x1, y1, x2, y2)`` original pixels; label: 1..C; score.
        type: :class:`FalsePositiveType`.
        best_class_iou: best IoU with a GT box of its class (0 if none).
        best_other_class_iou: best IoU with a GT box of another class (0 if none).
    """

    index: int
    box: tuple[float, float, float, float]
    label: int
    score: float
    type: FalsePositiveType
    best_class_iou: float
    best_other_class_iou: float


@dataclass(frozen=True)
class ImageDiagnosis:
    """The diagnosis of one image.

    Attributes:
        gt: one :class:`GtDiagnosis` per non-difficult GT box, in target order.
        false_positives: one :class:`FalsePositive` per false positive scoring at least
            ``score_threshold``, in detection order (decreasing score).
        matching: the VOC matching of all the trace's detections (``frcnn eval``'s).
        tide: TIDE's matching and errors of all the trace's detections at IoU 0.5 (what
            :func:`error_costs` adds up over a dataset).
        iou, score_threshold: as given.
    """

    gt: list[GtDiagnosis]
    false_positives: list[FalsePositive]
    matching: ImageMatching
    tide: TideImage
    iou: float
    score_threshold: float

    def stage_counts(self) -> dict[Stage, int]:
        """GT boxes per stage, every stage listed."""
        return _count((g.stage for g in self.gt), Stage)

    def false_positive_counts(self) -> dict[FalsePositiveType, int]:
        """False positives per type, every type listed."""
        return _count((f.type for f in self.false_positives), FalsePositiveType)


def _count(values, enum) -> dict:
    counts = dict.fromkeys(enum, 0)
    for value in values:
        counts[value] += 1
    return counts


def _best_iou(gt_boxes: Tensor, boxes: Tensor) -> np.ndarray:
    """``[G]`` best IoU of each GT box over ``boxes`` ``[M, 4]``; 0 when ``M == 0``."""
    if boxes.shape[0] == 0 or gt_boxes.shape[0] == 0:
        return np.zeros(gt_boxes.shape[0], np.float32)
    return pairwise_iou(gt_boxes, boxes.float()).max(dim=1).values.numpy()


def _stages(measured: dict[str, np.ndarray], detected: np.ndarray, iou: float, score_threshold: float) -> list[Stage]:
    """The stage of each GT box: ``detected``, else the first check that holds, else ``taken``.

    Values are compared in their own precision: scores as the model's float32 numbers,
    as :class:`ImageMatching` compares them."""
    checks = np.stack([
        measured["best_anchor_iou"] < iou,
        measured["best_pre_nms_iou"] < iou,
        measured["best_proposal_iou"] < iou,
        measured["best_detection_iou"] < iou,
        measured["best_class_detection_iou"] < iou,
        measured["best_class_detection_score"] < score_threshold,
        np.ones_like(detected),
    ])
    first = checks.argmax(axis=0)
    return [Stage.DETECTED if found else MISS_STAGES[k] for found, k in zip(detected.tolist(), first.tolist())]


def _box(row) -> tuple[float, float, float, float]:
    return tuple(float(v) for v in row)


def diagnose_trace(trace: Trace, target: Mapping, iou: float = 0.5, score_threshold: float = 0.5) -> ImageDiagnosis:
    """Diagnose one image from its trace (rule in the module docstring).

    Args:
        trace: a trace of the image (eval mode: the test-time proposal counts); every
            box in it is in the original image's pixels.
        target: the image's GT: ``boxes`` ``[G, 4]`` xyxy original pixels, ``labels``
            ``[G]`` in 1..C, optionally ``difficult`` ``[G]`` bool.
        iou: the least IoU that reaches a box (inclusive), at every stage and in matching.
        score_threshold: the least score of a kept detection (inclusive).
    """
    gt_boxes = torch.as_tensor(target["boxes"], dtype=torch.float32).reshape(-1, 4).cpu()
    gt_labels = torch.as_tensor(target["labels"]).reshape(-1).long().cpu()
    difficult = target.get("difficult")
    difficult = torch.zeros(len(gt_labels), dtype=torch.bool) if difficult is None else torch.as_tensor(difficult).reshape(-1).bool().cpu()
    det_boxes = trace.detections.boxes.float().cpu()
    matching = match_image(det_boxes, trace.detections.scores, trace.detections.labels, gt_boxes, gt_labels, difficult, iou)

    same_class = matching.gt_labels[:, None] == matching.labels[None, :]  # [G, D]
    det_iou = matching.iou.T  # [G, D], float64 as the matching compared it
    reaching = same_class & (det_iou >= iou)
    measured = {
        "best_anchor_iou": _best_iou(gt_boxes, trace.anchors),
        "best_pre_nms_iou": _best_iou(gt_boxes, trace.pre_nms_boxes),
        "best_proposal_iou": _best_iou(gt_boxes, trace.proposals),
        "best_detection_iou": det_iou.max(axis=1, initial=0.0),
        "best_class_detection_iou": np.where(same_class, det_iou, 0.0).max(axis=1, initial=0.0),
        "best_class_detection_score": np.where(reaching, matching.scores[None, :], 0).max(axis=1, initial=0).astype(matching.scores.dtype),
    }
    stages = _stages(measured, matching.found(score_threshold), iou, score_threshold)
    gt = [
        GtDiagnosis(g, _box(gt_boxes[g].tolist()), int(gt_labels[g]), stages[g], **{name: float(column[g]) for name, column in measured.items()})
        for g in np.flatnonzero(~matching.difficult).tolist()
    ]

    false_positives = []
    taken = matching.gt_matched != ImageMatching.NONE
    codes, _ = false_positive_errors(matching.iou, same_class.T, taken, iou, BACKGROUND_IOU)
    for d in np.flatnonzero(matching.false_positive(score_threshold)).tolist():
        same, row = same_class[:, d], matching.iou[d]
        best_same, best_other = float(row[same].max(initial=0.0)), float(row[~same].max(initial=0.0))
        kind = FalsePositiveType(TIDE_ERRORS[codes[d]].value)
        false_positives.append(FalsePositive(d, _box(det_boxes[d].tolist()), int(matching.labels[d]), float(matching.scores[d]), kind, best_same, best_other))
    tide = tide_image(det_boxes, trace.detections.scores, trace.detections.labels, gt_boxes, gt_labels, difficult)
    return ImageDiagnosis(gt, false_positives, matching, tide, iou, score_threshold)


@dataclass(frozen=True)
class ErrorCosts:
    """What fixing each kind of error is worth: mAP@0.5 gained, as fractions (rule in the module docstring).

    Attributes:
        tide: per :class:`~frcnn_core.evaluation.tide.TideError`, TIDE's dAP.
        stages: per miss :class:`Stage` (``detected`` excluded), TIDE's missed oracle on the
            boxes lost there.
        map50: TIDE's mAP@0.5 (``nan`` with no GT box and no detection).
    """

    tide: dict[TideError, float]
    stages: dict[Stage, float]
    map50: float

    def as_json(self) -> dict:
        """The report's ``"dap"``: ``{"tide": {type: v}, "stages": {stage: v}, "map50": v}``."""
        return {
            "tide": {error.value: value for error, value in self.tide.items()},
            "stages": {stage.value: value for stage, value in self.stages.items()},
            "map50": self.map50,
        }


def _stage_codes(diagnosis: ImageDiagnosis) -> np.ndarray:
    """``[G]`` per target row, the index in :data:`MISS_STAGES` of the stage that lost it, -1 if none."""
    codes = np.full(len(diagnosis.tide.gt_labels), -1, np.int64)
    lost = [(g.index, MISS_STAGES.index(g.stage)) for g in diagnosis.gt if g.stage is not Stage.DETECTED]
    if lost:
        rows, stages = zip(*lost)
        codes[list(rows)] = stages
    return codes


def error_costs(diagnoses: Sequence[ImageDiagnosis]) -> ErrorCosts:
    """TIDE's dAP per error type and per miss stage over the images of ``diagnoses``, at IoU 0.5."""
    oracle = TideOracle([d.tide for d in diagnoses])
    stage_of = np.concatenate([_stage_codes(d) for d in diagnoses]) if diagnoses else np.zeros(0, np.int64)
    return ErrorCosts(
        tide={error: oracle.dap(error) for error in TIDE_ERRORS},
        stages={stage: oracle.map_without(stage_of == k) for k, stage in enumerate(MISS_STAGES)},
        map50=oracle.map,
    )


def _class_name(class_names: Sequence[str], label: int) -> str:
    return class_names[label - 1] if 1 <= label <= len(class_names) else f"class {label}"


def _summary(gt_stages, fp_types) -> dict[str, dict[str, int]]:
    return {
        "gt": {stage.value: n for stage, n in _count(gt_stages, Stage).items()},
        "false_positives": {kind.value: n for kind, n in _count(fp_types, FalsePositiveType).items()},
    }


def diagnosis_report(
    diagnoses: Sequence[ImageDiagnosis],
    images: Sequence[Mapping],
    class_names: Sequence[str],
    iou: float = 0.5,
    score_threshold: float = 0.5,
    costs: ErrorCosts | None = None,
) -> dict:
    """The dataset report (schema in the module docstring) from per-image diagnoses.

    Args:
        diagnoses: one per image, from :func:`diagnose_trace` at ``iou`` and ``score_threshold``.
        images: per image, ``{"image_id": int, "file_name": str}``.
        class_names: one per label.
        costs: :func:`error_costs` of ``diagnoses`` if already computed (elsewhere, e.g. in
            a worker thread), else computed here.
    """
    if len(diagnoses) != len(images):
        raise ValueError(f"{len(diagnoses)} diagnoses for {len(images)} images")
    gt_rows, fp_rows = [], []
    for diagnosis, image in zip(diagnoses, images):
        where = {"image_id": int(image["image_id"]), "file_name": str(image["file_name"])}
        for g in diagnosis.gt:
            gt_rows.append({
                **where, "box": [round(v, BOX_DECIMALS) for v in g.box], "label": g.label, "class_name": _class_name(class_names, g.label),
                "stage": g.stage.value, "best_anchor_iou": g.best_anchor_iou, "best_pre_nms_iou": g.best_pre_nms_iou,
                "best_proposal_iou": g.best_proposal_iou, "best_detection_iou": g.best_detection_iou,
                "best_class_detection_iou": g.best_class_detection_iou, "best_class_detection_score": g.best_class_detection_score,
            })
        for f in diagnosis.false_positives:
            fp_rows.append({
                **where, "box": [round(v, BOX_DECIMALS) for v in f.box], "label": f.label, "class_name": _class_name(class_names, f.label),
                "score": f.score, "type": f.type.value,
            })
    names = list(dict.fromkeys([*class_names, *(row["class_name"] for row in gt_rows + fp_rows)]))
    per_class = {
        name: _summary((Stage(r["stage"]) for r in gt_rows if r["class_name"] == name), (FalsePositiveType(r["type"]) for r in fp_rows if r["class_name"] == name))
        for name in names
    }
    summary = _summary((Stage(r["stage"]) for r in gt_rows), (FalsePositiveType(r["type"]) for r in fp_rows))
    costs = error_costs(diagnoses) if costs is None else costs
    return {
        "iou": iou, "score_threshold": score_threshold, "gt": gt_rows, "false_positives": fp_rows, "summary": summary,
        "per_class": per_class, "dap": costs.as_json(),
    }


def funnel(stage_counts: Mapping) -> list[tuple[str, int]]:
    """How many GT boxes reach each step: ``[("ground truth", G), ("an anchor", n1), ...,
    ("matched", detected)]`` from per-stage counts (keys :class:`Stage` or their values,
    e.g. a report's ``summary["gt"]``)."""
    counts = {Stage(key): int(n) for key, n in stage_counts.items()}
    remaining = sum(counts.values())
    steps = [("ground truth", remaining)]
    for name, lost_here in FUNNEL_STEPS:
        remaining -= counts.get(lost_here, 0)
        steps.append((name, remaining))
    return steps


@torch.no_grad()
def diagnose_dataset(
    model,
    dataset,
    iou: float = 0.5,
    score_threshold: float = 0.5,
    device: torch.device | str = "cpu",
    progress: Callable[[int, int], None] | None = None,
    process_group: ProcessGroup | None = None,
) -> dict:
    """Trace every image of ``dataset`` once (eval mode) and return :func:`diagnosis_report`.

    ``progress(done, total)`` is called after each image, counting this process's. Under
    ``torchrun`` (``process_group`` with several processes) each process diagnoses every
    ``world_size``-th image and every process returns the whole report, the same as one
    process would. The model's mode is restored.
    """
    group = process_group or ProcessGroup()
    mine = range(group.rank, len(dataset), group.world_size)
    was_training = model.training
    model.eval()
    diagnoses = []
    try:
        for done, i in enumerate(mine, start=1):
            image, target = dataset[i]
            diagnoses.append(diagnose_trace(model.trace(image.to(device)), target, iou, score_threshold))
            if progress is not None:
                progress(done, len(mine))
    finally:
        model.train(was_training)
    diagnoses = gather_shards(diagnoses, group)
    images = []
    for i in range(len(dataset)):
        info = dataset.info(i)
        images.append({"image_id": info["image_id"], "file_name": info["path"] or ""})
    class_names = list(dataset.class_names) or list(model.config.class_names)
    return diagnosis_report(diagnoses, images, class_names, iou, score_threshold)

"""A trace of one image that answers a configuration change by re-running only the stages
the change affects.

A viewer that redraws after every slider move (detection NMS IoU, score threshold,
proposal counts) must not run the trunk again each time: :class:`StagedTrace` keeps every
stage's output of one image and, given a changed :class:`DetectorConfig`, re-runs the
stage each changed field feeds and the stages downstream of it. It calls the model's own
stage methods (:meth:`FasterRCNN.run` is the same methods in the same order), so a
re-run gives exactly what a fresh :meth:`FasterRCNN.trace` gives with the changed
configuration, sampling with a generator seeded with the same ``seed``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import torch
from torch import Tensor
from torchvision.ops import clip_boxes_to_image

from ..anchors.targets import AnchorTargets
from ..boxes import decode_boxes, scale_boxes
from ..config import DetectorConfig
from ..models.faster_rcnn import FasterRCNN, RpnOutput
from ..roi.postprocess import Detections
from ..roi.targets import RoiSamples
from ..rpn.proposals import Proposals
from .trace import Trace

log = logging.getLogger(__name__)


class Stage(Enum):
    """The stages of one pass, in the order :meth:`FasterRCNN.run` runs them."""

    FEATURES = "features"  # resize, trunk, anchors, RPN head (steps 1 and 3)
    PROPOSALS = "proposals"  # the proposal layer (step 4)
    ANCHOR_TARGETS = "anchor targets"  # anchor labels and their sampling (step 2; with a target)
    ROI_SAMPLES = "roi samples"  # RoI sampling and the head on the samples (step 6; with a target)
    LOSSES = "losses"  # the four losses (steps 7 and 8; with a target)
    HEAD = "head"  # the head on the proposals (step 5)
    DETECTIONS = "detections"  # post-processing: score threshold, per-class NMS, top detections


# The stages whose outputs each stage reads. The RoI sampling draws from the random stream
# after the anchors' sampling, so a new anchor sample means a new RoI sample as in a fresh pass.
STAGE_INPUTS: dict[Stage, tuple[Stage, ...]] = {
    Stage.FEATURES: (),
    Stage.PROPOSALS: (Stage.FEATURES,),
    Stage.ANCHOR_TARGETS: (Stage.FEATURES,),
    Stage.ROI_SAMPLES: (Stage.PROPOSALS, Stage.ANCHOR_TARGETS),
    Stage.LOSSES: (Stage.FEATURES, Stage.ANCHOR_TARGETS, Stage.ROI_SAMPLES),
    Stage.HEAD: (Stage.PROPOSALS,),
    Stage.DETECTIONS: (Stage.HEAD,),
}

# The earliest stage each DetectorConfig field affects: re-running it and the stages that
# read it (STAGE_INPUTS) covers every use of the field.
FIELD_STAGES: dict[str, Stage] = {
    # the weights' shapes: a different value means a different model (kept whole here)
    "num_classes": Stage.FEATURES,
    "backbone": Stage.FEATURES,
    "pretrained_backbone": Stage.FEATURES,
    "rpn_mid_channels": Stage.FEATURES,
    "roi_op": Stage.FEATURES,
    "roi_output_size": Stage.FEATURES,
    "head_hidden": Stage.FEATURES,
    # the network input and the anchors laid over its feature map
    "min_size": Stage.FEATURES,
    "max_size": Stage.FEATURES,
    "pixel_mean": Stage.FEATURES,
    "pixel_std": Stage.FEATURES,
    "anchor_stride": Stage.FEATURES,
    "anchor_scales": Stage.FEATURES,
    "anchor_ratios": Stage.FEATURES,
    # anchor assignment
    "rpn_pos_iou": Stage.ANCHOR_TARGETS,
    "rpn_neg_iou": Stage.ANCHOR_TARGETS,
    "rpn_num_samples": Stage.ANCHOR_TARGETS,
    "rpn_pos_fraction": Stage.ANCHOR_TARGETS,
    "rpn_allowed_border": Stage.ANCHOR_TARGETS,
    "rpn_positives_per_gt": Stage.ANCHOR_TARGETS,
    # proposal layer
    "rpn_pre_nms_top_n_train": Stage.PROPOSALS,
    "rpn_post_nms_top_n_train": Stage.PROPOSALS,
    "rpn_pre_nms_top_n_test": Stage.PROPOSALS,
    "rpn_post_nms_top_n_test": Stage.PROPOSALS,
    "rpn_nms_thresh": Stage.PROPOSALS,
    "rpn_min_size": Stage.PROPOSALS,
    # read by the RoI targets and by post-processing: their common input
    "box_weights": Stage.PROPOSALS,
    # RoI sampling
    "roi_num_samples": Stage.ROI_SAMPLES,
    "roi_fg_fraction": Stage.ROI_SAMPLES,
    "roi_fg_iou": Stage.ROI_SAMPLES,
    "roi_bg_iou_high": Stage.ROI_SAMPLES,
    "roi_bg_iou_low": Stage.ROI_SAMPLES,
    "roi_gt_jitter": Stage.ROI_SAMPLES,
    # losses
    "rpn_smooth_l1_beta": Stage.LOSSES,
    "roi_smooth_l1_beta": Stage.LOSSES,
    # post-processing
    "score_thresh": Stage.DETECTIONS,
    "nms_thresh": Stage.DETECTIONS,
    "detections_per_image": Stage.DETECTIONS,
    # only names the trace's classes (the trace is assembled anew after any change)
    "class_names": Stage.DETECTIONS,
}


def earliest_stage(field: str) -> Stage:
    """The earliest stage a change of :class:`DetectorConfig` field ``field`` affects."""
    try:
        return FIELD_STAGES[field]
    except KeyError:
        raise ValueError(f"unknown DetectorConfig field {field!r}; valid fields: {', '.join(FIELD_STAGES)}") from None


def stages_to_rerun(fields: Iterable[str]) -> frozenset[Stage]:
    """Every stage a change of ``fields`` makes stale: their earliest stages and all
    stages reading those, directly or not."""
    stale = {earliest_stage(f) for f in fields}
    for stage in Stage:  # declaration order is run order: a stage's inputs come before it
        if any(source in stale for source in STAGE_INPUTS[stage]):
            stale.add(stage)
    return frozenset(stale)


def changed_fields(old: DetectorConfig, new: DetectorConfig) -> list[str]:
    """Names of the fields whose values differ between two configurations."""
    return [f.name for f in dataclasses.fields(DetectorConfig) if getattr(old, f.name) != getattr(new, f.name)]


@dataclass(frozen=True)
class BoxVerdict:
    """What the RoI head says of given boxes of one image (:meth:`StagedTrace.classify_boxes`).

    Attributes:
        class_scores: ``[K, C + 1]`` softmax over the classes, background first, of the head
            on each box taken as a RoI (as it scores a proposal).
        boxes: ``[K, C + 1, 4]`` xyxy original pixels: each box moved by the head's regression
            for each class (clipped to the image; column 0, background, is the head's unused output).
    """

    class_scores: Tensor
    boxes: Tensor


class StagedTrace:
    """One image (and optional target) through ``model``, kept stage by stage.

    ``trace(config)`` returns the :class:`Trace` under ``config`` (which becomes the model's
    config, as :meth:`FasterRCNN.trace` would read it), re-running only the stages the
    fields that changed since the previous call affect (:data:`FIELD_STAGES`); ``rerun`` then
    says which stages ran. The result equals ``model.trace(image, target,
    generator=torch.Generator().manual_seed(seed))`` under ``config``; exactly so in eval
    mode (in train mode the trunk's BatchNorm statistics move with every full pass).

    A new image, target or model needs a new ``StagedTrace``. The cached outputs live on the
    model's device (the trunk features of an 800 x 1067 VGG16 input: 7 MB).
    """

    def __init__(self, model: FasterRCNN, image: Tensor, target: dict | None = None, seed: int = 0) -> None:
        self.model = model
        self.image = image
        self.target = target
        self.rerun: frozenset[Stage] = frozenset()
        self._generator = torch.Generator().manual_seed(seed)
        self._initial_stream = self._generator.get_state()
        self._stream_after_anchors: Tensor | None = None
        self._config: DetectorConfig | None = None  # what the cached outputs were computed with
        self._training: bool | None = None
        self._rpn: RpnOutput | None = None
        self._gt: tuple[list[Tensor], list[Tensor]] | None = None
        self._proposals: list[Proposals] = []
        self._anchor_targets: list[AnchorTargets] | None = None
        self._roi_samples: list[RoiSamples] | None = None
        self._roi_outputs: tuple[Tensor, Tensor] | None = None
        self._losses: dict[str, Tensor] | None = None
        self._head_outputs: tuple[Tensor, Tensor] | None = None
        self._detections: list[Detections] = []

    @torch.no_grad()
    def trace(self, config: DetectorConfig | None = None) -> Trace:
        """The trace under ``config`` (default: the model's current config)."""
        config = self.model.config if config is None else config
        if self._config is None or self._training != self.model.training:
            stale = frozenset(Stage)
        else:
            stale = stages_to_rerun(changed_fields(self._config, config))
        self.model.config = config
        self._config = None  # until every stale stage has run: a failure leaves nothing half-updated
        ran = set()
        for stage in Stage:
            if stage in stale and self._run_stage(stage):
                ran.add(stage)
        self._config, self._training, self.rerun = config, self.model.training, frozenset(ran)
        log.debug("staged trace re-ran %s", ", ".join(s.value for s in Stage if s in ran) or "nothing")
        return self._assemble()

    @torch.no_grad()
    def classify_boxes(self, boxes: Tensor) -> BoxVerdict:
        """The head on ``boxes`` ``[K, 4]`` (xyxy, original pixels of this image) taken as RoIs,
        from the kept trunk features (traced at the model's config first if nothing was yet):
        what the detector would say of a proposal exactly there, e.g. of a labelled box."""
        if self._rpn is None:
            self.trace()
        rpn, model = self._rpn, self.model
        scale = rpn.batch.scale(0)
        rois = scale_boxes(boxes.to(rpn.features.device, torch.float32).reshape(-1, 4), scale)
        logits, deltas = model.classify(rpn.features[:1], [rois])
        num_columns = logits.shape[1]
        moved = decode_boxes(rois, deltas.float(), model.config.box_weights).reshape(-1, num_columns, 4)
        moved = clip_boxes_to_image(moved, rpn.batch.input_sizes[0])
        sx, sy = scale
        return BoxVerdict(torch.softmax(logits.float(), dim=1).cpu(), scale_boxes(moved, (1 / sx, 1 / sy)).cpu())

    def _run_stage(self, stage: Stage) -> bool:
        """Run ``stage`` on the cached outputs it reads; False when it does not apply (no target)."""
        model, with_target = self.model, self.target is not None
        if stage is Stage.FEATURES:
            model.validate_inputs([self.image], [self.target] if with_target else None)
            self._rpn = model.extract_features([self.image])
            self._gt = model.targets_in_input_pixels(self._rpn, [self.target]) if with_target else None
        elif stage is Stage.PROPOSALS:
            self._proposals = model.propose_regions(self._rpn)
        elif stage is Stage.ANCHOR_TARGETS and with_target:
            self._generator.set_state(self._initial_stream)
            self._anchor_targets = model.assign_anchors(self._rpn, self._gt[0], self._generator)
            self._stream_after_anchors = self._generator.get_state()
        elif stage is Stage.ROI_SAMPLES and with_target:
            self._generator.set_state(self._stream_after_anchors)
            self._roi_samples = model.sample_rois(self._rpn, self._proposals, *self._gt, self._generator)
            self._roi_outputs = model.classify(self._rpn.features, [s.boxes for s in self._roi_samples])
        elif stage is Stage.LOSSES and with_target:
            self._losses = model.compute_losses(self._rpn, self._anchor_targets, self._roi_samples, *self._roi_outputs)
        elif stage is Stage.HEAD:
            self._head_outputs = model.classify(self._rpn.features, [p.boxes for p in self._proposals])
        elif stage is Stage.DETECTIONS:
            self._detections = model.postprocess(self._rpn, self._proposals, *self._head_outputs)
        else:
            return False
        return True

    def _assemble(self) -> Trace:
        return self.model.assemble_trace(
            self._rpn, self._proposals[0], self._detections[0], self.target,
            self._anchor_targets[0] if self.target is not None else None,
            self._roi_samples[0] if self.target is not None else None,
            self._roi_outputs[0] if self.target is not None else None,
            self._losses,
        )

"""A trace of one image that answers a configuration change by re-running only the stages
the change affects.

A viewer that redraws after every slider move (detection NMS IoU, score threshold,
proposal counts) must not run the trunk again each time: :class:`StagedTrace` keeps every
stage's output of one image and, given a changed :class:`DetectorConfig`, re-runs the
stage each changed field feeds and the stages downstream of it. It learns of every change
from the model itself (``model.reconfigured``): whoever calls ``model.reconfigure``, the
kept stages that change makes stale are run again on the next :meth:`StagedTrace.trace`.
It calls the model's own stage methods (:meth:`FasterRCNN.run` is the same methods in the
same order), so a re-run gives exactly what a fresh :meth:`FasterRCNN.trace` gives with the changed
configuration, sampling with a generator seeded with the same ``seed``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import Tensor
from torchvision.ops import clip_boxes_to_image

from ..anchors.targets import AnchorTargets
from ..boxes import decode_boxes, scale_boxes
from ..config import FIELD_STAGES, DetectorConfig, changed_fields, earliest_stage, stages_to_rerun
from ..models.faster_rcnn import FasterRCNN, RpnOutput
from ..models.reconfigure import ConfigChange, reconfigure_to
from ..roi.postprocess import Detections
from ..roi.targets import RoiSamples
from ..rpn.proposals import Proposals
from .stages import STAGE_INPUTS, Stage
from .trace import Trace

# The stage tables live with the configuration (each field declared once with its stage) and
# the stages; they stay importable from here, where scripts found them first.
__all__ = ["BoxVerdict", "FIELD_STAGES", "STAGE_INPUTS", "Stage", "StagedTrace", "changed_fields", "earliest_stage", "stages_to_rerun"]

log = logging.getLogger(__name__)


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

    ``trace()`` returns the :class:`Trace` under the model's current settings, re-running only
    the stages made stale since the previous call: by a change the model reported
    (``model.reconfigured``, :data:`FIELD_STAGES`), or all of them after a mode change or a
    failure; ``rerun`` then says which stages ran. ``trace(config)`` first applies ``config``
    through ``model.reconfigure`` (the fields that differ). The result equals
    ``model.trace(image, target, generator=torch.Generator().manual_seed(seed))``; exactly so
    in eval mode (in train mode the trunk's BatchNorm statistics move with every full pass).

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
        self._stale: frozenset[Stage] = frozenset(Stage)  # what the next trace() runs: all, until a first one succeeds
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
        model.reconfigured.connect(self._reconfigured)  # held weakly: a dropped StagedTrace stops listening

    def _reconfigured(self, change: ConfigChange) -> None:
        self._stale |= change.stale

    @torch.no_grad()
    def trace(self, config: DetectorConfig | None = None) -> Trace:
        """The trace under the model's settings, after applying ``config`` (default: as they are)."""
        model = self.model
        if config is not None:
            reconfigure_to(model, config)
        stale = self._stale if self._training == model.training else frozenset(Stage)
        self._stale = frozenset(Stage)  # until every stale stage has run: a failure leaves nothing half-updated
        ran = set()
        for stage in Stage:
            if stage in stale and self._run_stage(stage):
                ran.add(stage)
        self._stale, self._training, self.rerun = frozenset(), model.training, frozenset(ran)
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

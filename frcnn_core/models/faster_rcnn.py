"""Faster R-CNN: the seed's eight steps composed into one module."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..anchors.grid import grid_anchors
from ..anchors.targets import AnchorTargets, assign_anchor_targets_for
from ..boxes import scale_boxes
from ..config import BUILD_FIELDS, DetectorConfig
from ..losses import roi_losses, rpn_losses
from ..roi.head import FastRCNNHead
from ..roi.postprocess import Detections, postprocess_detections
from ..roi.targets import RoiSamples, assign_proposal_targets
from ..rpn.head import RPNHead
from ..rpn.proposals import Proposals, propose
from ..trace.build import build_trace
from ..trace.stages import Stage
from ..trace.trace import Trace
from .backbones import build_backbone
from .detector import ForwardResult, StagedDetector, sampling_stats
from .image_batch import ImageBatch, batch_images
from .reconfigure import ReconfigureEvent, plan_change

LOSS_NAMES = ("rpn_cls", "rpn_reg", "roi_cls", "roi_reg")


@dataclass
class RpnOutput:
    """The trunk and the RPN head over a batch (the seed's steps 1 and 3).

    Attributes:
        batch: the resized, normalised and padded images.
        features: ``[B, C, Hf, Wf]`` trunk features.
        anchors: ``[N, 4]`` xyxy network-input pixels, ``N = Hf * Wf * A`` in
            :func:`frcnn_core.grid_anchors` order.
        objectness: ``[B, N]`` logits; deltas: ``[B, N, 4]`` ``(dx, dy, dw, dh)``.
    """

    batch: ImageBatch
    features: Tensor
    anchors: Tensor
    objectness: Tensor
    deltas: Tensor

    @property
    def feature_size(self) -> tuple[int, int]:
        return tuple(self.features.shape[-2:])


class FasterRCNN(StagedDetector):
    """Faster R-CNN with a stride-16 trunk, an RPN and a Fast R-CNN head.

    ``forward``, ``predict``, ``trace`` and ``run`` (:class:`StagedDetector`) call the stage
    methods below in order:

    * train mode: ``model(images, targets)`` returns ``{"rpn_cls", "rpn_reg", "roi_cls", "roi_reg"}``.
    * eval mode: ``model(images)`` returns one :class:`Detections` per image, boxes in
      that image's original pixels.
    * ``model.trace(image, target=None)`` returns a :class:`Trace` of one image.
    * ``model.config`` is read-only: settings change through :meth:`reconfigure`, which tells
      the listeners of :attr:`reconfigured` (a staged trace, a trainer).

    Images are float ``[3, H, W]`` tensors in 0..1 (sizes may differ within a batch);
    targets are dicts with ``boxes`` ``[G, 4]`` xyxy original pixels and ``labels`` ``[G]`` in 1..C.
    """

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__()
        self._config = config = config or DetectorConfig()
        self.reconfigured = ReconfigureEvent()
        backbone = build_backbone(config.backbone, config.pretrained_backbone)
        self.stride = backbone.stride
        if config.anchor_stride != backbone.stride:
            raise ValueError(f"anchor_stride {config.anchor_stride} must equal the {config.backbone} trunk's stride {backbone.stride}")
        self.trunk = backbone.trunk
        self.rpn = RPNHead(backbone.out_channels, config.rpn_mid_channels, config.num_anchors_per_cell)
        reuse_fc = backbone.head is not None and config.head_hidden == 4096 and config.roi_output_size == 7
        self.roi_head = FastRCNNHead(
            backbone.out_channels,
            config.num_classes,
            backbone.stride,
            config.roi_output_size,
            config.head_hidden,
            config.roi_op,
            fc=backbone.head if reuse_fc else None,
        )
        self._anchor_cache: dict[tuple, Tensor] = {}
        # NHWC convolutions are ~20 % faster on CPU (oneDNN) and suit tensor cores on CUDA.
        self.trunk.to(memory_format=torch.channels_last)
        self.rpn.to(memory_format=torch.channels_last)

    @property
    def config(self) -> DetectorConfig:
        """The settings the model runs with (change them with :meth:`reconfigure`)."""
        return self._config

    @config.setter
    def config(self, _value: DetectorConfig) -> None:
        raise AttributeError("FasterRCNN.config is read-only: change settings with model.reconfigure(**changes)")

    def reconfigure(self, **changes) -> frozenset[Stage]:
        """Change settings by :class:`DetectorConfig` field names and return the stages the
        change makes stale (empty when no value changed).

        An unknown name is a ``ValueError`` listing the valid ones, a bad value one naming it;
        so is a new value of a field read when the model was built (:data:`BUILD_FIELDS`:
        classes, backbone, layer sizes, RoI op, stride) or anchor scales and ratios whose count
        per cell differs from the RPN head's outputs. Nothing changes then. An accepted change
        is emitted on :attr:`reconfigured` as a :class:`~frcnn_core.models.reconfigure.ConfigChange`.
        """
        change = plan_change(self._config, changes, BUILD_FIELDS)
        if change.after.num_anchors_per_cell != change.before.num_anchors_per_cell:
            raise ValueError(
                f"the RPN head predicts {change.before.num_anchors_per_cell} anchors per cell; anchor_scales x anchor_ratios "
                f"must keep that count, got {len(change.after.anchor_scales)} x {len(change.after.anchor_ratios)}"
            )
        if not change.fields:
            return frozenset()
        self._config = change.after
        self.reconfigured.emit(change)
        return change.stale

    def anchors(self, feature_size: tuple[int, int], device: torch.device) -> Tensor:
        """Anchors ``[Hf * Wf * A, 4]`` for a feature map, cached per size, device and anchor design."""
        cfg = self.config
        key = (feature_size, str(device), cfg.anchor_stride, cfg.anchor_scales, cfg.anchor_ratios)
        if key not in self._anchor_cache:
            if len(self._anchor_cache) > 32:
                self._anchor_cache.clear()
            self._anchor_cache[key] = grid_anchors(feature_size, cfg.anchor_stride, cfg.anchor_scales, cfg.anchor_ratios, device)
        return self._anchor_cache[key]

    @torch.no_grad()
    def validation_pass(self, images: list[Tensor], targets: list[dict], generator: torch.Generator | None = None) -> ForwardResult:
        """Validation of one batch from one run of the trunk: the four losses training would
        compute on ``images`` and ``targets`` (the training proposal counts, anchors and RoIs
        sampled from ``generator``) and the detections inference gives (the test proposal
        counts), without gradients. The trunk runs in the current mode: call ``eval()`` first,
        as the trainer's validation does, so that the losses are those of the model as it
        would be used; for a trunk without batch statistics they then equal the training
        losses on the same batch with the same ``generator``."""
        self.validate_inputs(images, targets)
        rpn = self.extract_features(images)
        gt_boxes, gt_labels = self.targets_in_input_pixels(rpn, targets)
        anchor_targets = self.assign_anchors(rpn, gt_boxes, generator)
        roi_samples = self.sample_rois(rpn, self.propose_regions(rpn, training=True), gt_boxes, gt_labels, generator)
        proposals = self.propose_regions(rpn, training=False)
        # one head pass over each image's sampled RoIs and proposals together, split afterwards
        logits, deltas = self.classify(rpn.features, [torch.cat([s.boxes, p.boxes]) for s, p in zip(roi_samples, proposals)])
        sizes = [n for s, p in zip(roi_samples, proposals) for n in (s.boxes.shape[0], p.boxes.shape[0])]
        logits, deltas = logits.split(sizes), deltas.split(sizes)
        losses = self.compute_losses(rpn, anchor_targets, roi_samples, torch.cat(logits[0::2]), torch.cat(deltas[0::2]))
        detections = self.postprocess(rpn, proposals, torch.cat(logits[1::2]), torch.cat(deltas[1::2]))
        return ForwardResult(losses, detections, None)

    # ----- the stages of one pass, in order -------------------------------------------
    def extract_features(self, images: list[Tensor]) -> RpnOutput:
        """Steps 1 and 3: resize and normalise ``images`` (``[3, H, W]`` in 0..1), run the
        trunk, lay the anchors over its feature map and run the RPN head."""
        cfg = self.config
        batch = batch_images(images, cfg.min_size, cfg.max_size, cfg.pixel_mean, cfg.pixel_std, self.stride)
        pixels = batch.tensor
        if pixels.device.type != "mps":
            pixels = pixels.contiguous(memory_format=torch.channels_last)
        features = self.trunk(pixels)
        anchors = self.anchors(tuple(features.shape[-2:]), features.device)
        objectness, rpn_deltas = self.rpn(features)
        return RpnOutput(batch, features, anchors, objectness, rpn_deltas)

    @torch.no_grad()
    def propose_regions(self, rpn: RpnOutput, training: bool | None = None) -> list[Proposals]:
        """Step 4: each image's proposals, with the proposal counts of training (``training``
        true) or of inference; by default those of the current mode."""
        cfg = self.config
        if self.training if training is None else training:
            pre_n, post_n = cfg.rpn_pre_nms_top_n_train, cfg.rpn_post_nms_top_n_train
        else:
            pre_n, post_n = cfg.rpn_pre_nms_top_n_test, cfg.rpn_post_nms_top_n_test
        return [
            propose(
                rpn.anchors, rpn.objectness[i].detach(), rpn.deltas[i].detach(), size, pre_n, post_n, cfg.rpn_nms_thresh, cfg.rpn_min_size,
                cfg.rpn_score_thresh,
            )
            for i, size in enumerate(rpn.batch.input_sizes)
        ]

    def targets_in_input_pixels(self, rpn: RpnOutput, targets: list[dict]) -> tuple[list[Tensor], list[Tensor]]:
        """Each target's ``[G, 4]`` boxes scaled to network-input pixels, and its ``[G]`` labels,
        on the anchors' device."""
        boxes = [scale_boxes(t["boxes"].to(rpn.anchors), rpn.batch.scale(i)) for i, t in enumerate(targets)]
        labels = [t["labels"].to(rpn.anchors.device) for t in targets]
        return boxes, labels

    def assign_anchors(self, rpn: RpnOutput, gt_boxes: list[Tensor], generator: torch.Generator | None = None) -> list[AnchorTargets]:
        """Step 2: each image's anchor labels and regression targets (sampling draws from ``generator``)."""
        return [assign_anchor_targets_for(self.config, rpn.anchors, gt, rpn.batch.input_sizes[i], generator) for i, gt in enumerate(gt_boxes)]

    def sample_rois(
        self,
        rpn: RpnOutput,
        proposals: list[Proposals],
        gt_boxes: list[Tensor],
        gt_labels: list[Tensor],
        generator: torch.Generator | None = None,
    ) -> list[RoiSamples]:
        """Step 6: each image's RoIs for the head and their targets (sampling draws from ``generator``)."""
        cfg = self.config
        return [
            assign_proposal_targets(
                p.boxes, gt, lab, cfg.roi_num_samples, cfg.roi_fg_fraction, cfg.roi_fg_iou,
                cfg.roi_bg_iou_high, cfg.roi_bg_iou_low, cfg.box_weights, generator,
                jittered_copies=cfg.roi_gt_jitter, image_size=rpn.batch.input_sizes[i],
            )
            for i, (p, gt, lab) in enumerate(zip(proposals, gt_boxes, gt_labels))
        ]

    def classify(self, features: Tensor, rois: list[Tensor]) -> tuple[Tensor, Tensor]:
        """Step 5: the head's ``[sum R_i, C + 1]`` class logits and ``[sum R_i, 4 * (C + 1)]``
        deltas for each image's ``[R_i, 4]`` RoIs (input pixels)."""
        return self.roi_head(features, rois)

    def compute_losses(
        self, rpn: RpnOutput, anchor_targets: list[AnchorTargets], roi_samples: list[RoiSamples], roi_logits: Tensor, roi_deltas: Tensor
    ) -> dict[str, Tensor]:
        """Steps 7 and 8: the four losses of the batch, keyed by :data:`LOSS_NAMES`."""
        cfg = self.config
        rpn_cls, rpn_reg = rpn_losses(
            rpn.objectness.reshape(-1),
            rpn.deltas.reshape(-1, 4),
            torch.cat([t.labels for t in anchor_targets]),
            torch.cat([t.deltas for t in anchor_targets]),
            cfg.rpn_smooth_l1_beta,
        )
        roi_cls, roi_reg = roi_losses(
            roi_logits, roi_deltas, torch.cat([s.labels for s in roi_samples]), torch.cat([s.deltas for s in roi_samples]), cfg.roi_smooth_l1_beta
        )
        return {"rpn_cls": rpn_cls, "rpn_reg": rpn_reg, "roi_cls": roi_cls, "roi_reg": roi_reg}

    def postprocess(self, rpn: RpnOutput, proposals: list[Proposals], logits: Tensor, deltas: Tensor) -> list[Detections]:
        """The head's outputs on each image's proposals (concatenated, as :meth:`classify`
        gives them) into detections in that image's original pixels."""
        cfg = self.config
        detections = []
        start = 0
        for i, p in enumerate(proposals):
            end = start + p.boxes.shape[0]
            det = postprocess_detections(
                p.boxes, logits[start:end], deltas[start:end], rpn.batch.input_sizes[i], cfg.box_weights,
                cfg.score_thresh, cfg.nms_thresh, cfg.detections_per_image, cfg.box_vote_iou,
            )
            sx, sy = rpn.batch.scale(i)
            det.boxes = scale_boxes(det.boxes, (1 / sx, 1 / sy))
            detections.append(det)
            start = end
        return detections

    def assemble_trace(
        self,
        rpn: RpnOutput,
        proposals: Proposals,
        detections: Detections,
        target: dict | None = None,
        anchor_targets: AnchorTargets | None = None,
        roi_samples: RoiSamples | None = None,
        roi_logits: Tensor | None = None,
        losses: dict[str, Tensor] | None = None,
    ) -> Trace:
        """The :class:`Trace` of the batch's first image from its stages' outputs."""
        return build_trace(
            self.config, rpn.batch, rpn.feature_size, rpn.anchors, rpn.objectness[0], rpn.deltas[0], proposals, detections,
            target, anchor_targets, roi_samples, roi_logits, losses,
        )


__all__ = ["FasterRCNN", "ForwardResult", "RpnOutput", "LOSS_NAMES", "AnchorTargets", "RoiSamples", "sampling_stats"]

"""Faster R-CNN: the seed's eight steps composed into one module."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..anchors.grid import grid_anchors
from ..anchors.targets import NEGATIVE, POSITIVE, AnchorTargets, assign_anchor_targets_for
from ..boxes import scale_boxes
from ..config import DetectorConfig
from ..losses import roi_losses, rpn_losses
from ..roi.head import FastRCNNHead
from ..roi.postprocess import Detections, postprocess_detections
from ..roi.targets import RoiSamples, assign_proposal_targets
from ..rpn.head import RPNHead
from ..rpn.proposals import Proposals, propose
from ..trace.build import build_trace
from ..trace.trace import Trace
from .backbones import build_backbone
from .image_batch import ImageBatch, batch_images
from .validation import validate_image, validate_target

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


@dataclass
class ForwardResult:
    """What one pass produced: losses (with targets), detections (eval or traced), the trace (if asked)."""

    losses: dict[str, Tensor] | None
    detections: list[Detections] | None
    trace: Trace | None
    stats: dict[str, float] | None = None


class FasterRCNN(nn.Module):
    """Faster R-CNN with a stride-16 trunk, an RPN and a Fast R-CNN head.

    * train mode: ``model(images, targets)`` returns ``{"rpn_cls", "rpn_reg", "roi_cls", "roi_reg"}``.
    * eval mode: ``model(images)`` returns one :class:`Detections` per image, boxes in
      that image's original pixels.
    * ``model.trace(image, target=None)`` returns a :class:`Trace` of one image.

    Images are float ``[3, H, W]`` tensors in 0..1 (sizes may differ within a batch);
    targets are dicts with ``boxes`` ``[G, 4]`` xyxy original pixels and ``labels`` ``[G]`` in 1..C.
    """

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DetectorConfig()
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

    def anchors(self, feature_size: tuple[int, int], device: torch.device) -> Tensor:
        """Anchors ``[Hf * Wf * A, 4]`` for a feature map, cached per size, device and anchor design."""
        cfg = self.config
        key = (feature_size, str(device), cfg.anchor_stride, cfg.anchor_scales, cfg.anchor_ratios)
        if key not in self._anchor_cache:
            if len(self._anchor_cache) > 32:
                self._anchor_cache.clear()
            self._anchor_cache[key] = grid_anchors(feature_size, cfg.anchor_stride, cfg.anchor_scales, cfg.anchor_ratios, device)
        return self._anchor_cache[key]

    def forward(self, images: list[Tensor], targets: list[dict] | None = None, want_trace: bool = False, full_result: bool = False):
        """Losses (train mode) or detections (eval mode). With ``full_result`` (or ``want_trace``)
        the whole :class:`ForwardResult`: the trainer uses that form, so that
        DistributedDataParallel still wraps the call."""
        if self.training and targets is None:
            raise ValueError("in train mode the model needs targets; call model.eval() for inference")
        result = self.run(images, targets, want_trace=want_trace)
        if full_result or want_trace:
            return result
        return result.losses if self.training else result.detections

    @torch.no_grad()
    def predict(self, images: list[Tensor]) -> list[Detections]:
        """Detections for ``images`` whatever the current mode (uses the test-time proposal counts)."""
        was_training = self.training
        self.eval()
        try:
            return self.run(images).detections
        finally:
            self.train(was_training)

    @torch.no_grad()
    def trace(self, image: Tensor, target: dict | None = None, generator: torch.Generator | None = None) -> Trace:
        """Every stage of one image, as a :class:`Trace`. Uses the proposal counts of the current mode."""
        return self.run([image], [target] if target is not None else None, want_trace=True, generator=generator).trace

    def run(
        self,
        images: list[Tensor],
        targets: list[dict] | None = None,
        want_trace: bool = False,
        generator: torch.Generator | None = None,
    ) -> ForwardResult:
        """One pass. Losses when ``targets`` are given; detections in eval mode (and for the
        traced image); a trace of the first image when ``want_trace``.

        The pass is the stage methods below in order; :class:`frcnn_core.trace.staged.StagedTrace`
        calls the same methods to re-run only the stages a configuration change affects.
        """
        self.validate_inputs(images, targets)
        rpn = self.extract_features(images)
        proposals = self.propose_regions(rpn)

        losses = anchor_targets = roi_samples = roi_logits = stats = None
        if targets is not None:
            gt_boxes, gt_labels = self.targets_in_input_pixels(rpn, targets)
            anchor_targets = self.assign_anchors(rpn, gt_boxes, generator)
            roi_samples = self.sample_rois(rpn, proposals, gt_boxes, gt_labels, generator)
            roi_logits, roi_deltas = self.classify(rpn.features, [s.boxes for s in roi_samples])
            losses = self.compute_losses(rpn, anchor_targets, roi_samples, roi_logits, roi_deltas)
            stats = sampling_stats(anchor_targets, roi_samples, roi_logits)

        detections = None
        if not self.training:
            detections = self.postprocess(rpn, proposals, *self.classify(rpn.features, [p.boxes for p in proposals]))
        elif want_trace:
            with torch.no_grad():
                detections = self.postprocess(rpn, proposals[:1], *self.classify(rpn.features[:1], [proposals[0].boxes]))

        trace = None
        if want_trace:
            trace = self.assemble_trace(
                rpn, proposals[0], detections[0], targets[0] if targets is not None else None,
                anchor_targets[0] if anchor_targets is not None else None,
                roi_samples[0] if roi_samples is not None else None,
                roi_logits[: roi_samples[0].labels.numel()] if roi_samples is not None else None,
                losses,
            )
        return ForwardResult(losses, detections, trace, stats)

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
            propose(rpn.anchors, rpn.objectness[i].detach(), rpn.deltas[i].detach(), size, pre_n, post_n, cfg.rpn_nms_thresh, cfg.rpn_min_size)
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
                cfg.score_thresh, cfg.nms_thresh, cfg.detections_per_image,
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

    def validate_inputs(self, images: list[Tensor], targets: list[dict] | None) -> None:
        """Raise ValueError naming the first bad image or target (shape, dtype, range, labels)."""
        if isinstance(images, Tensor) and images.ndim == 3:
            raise ValueError("images must be a list of [3, H, W] tensors; wrap a single image as [image]")
        if len(images) == 0:
            raise ValueError("no images given")
        for i, image in enumerate(images):
            validate_image(image, i)
        if targets is not None:
            if len(targets) != len(images):
                raise ValueError(f"got {len(targets)} targets for {len(images)} images")
            for i, target in enumerate(targets):
                validate_target(target, self.config.num_classes, i)


@torch.no_grad()
def sampling_stats(anchor_targets: list[AnchorTargets], roi_samples: list[RoiSamples], roi_logits: Tensor) -> dict[str, float]:
    """Sampling health per image of a batch: positive/negative anchors, fg/bg RoIs, head accuracy."""
    n = len(anchor_targets)
    anchor_labels = torch.cat([t.labels for t in anchor_targets])
    labels = torch.cat([s.labels for s in roi_samples])
    correct = roi_logits.argmax(dim=1) == labels
    fg = labels > 0
    counts = torch.stack([
        (anchor_labels == POSITIVE).sum(), (anchor_labels == NEGATIVE).sum(), fg.sum(), (~fg).sum(), correct.sum(), (correct & fg).sum(),
    ]).tolist()  # one device sync for all of them
    positive, negative, num_fg, num_bg, num_correct, fg_correct = counts
    return {
        "positive_anchors": positive / n,
        "negative_anchors": negative / n,
        "fg_rois": num_fg / n,
        "bg_rois": num_bg / n,
        "roi_accuracy": num_correct / (num_fg + num_bg) if num_fg + num_bg else float("nan"),
        "roi_fg_accuracy": fg_correct / num_fg if num_fg else float("nan"),
    }


__all__ = ["FasterRCNN", "ForwardResult", "RpnOutput", "LOSS_NAMES", "AnchorTargets", "RoiSamples"]

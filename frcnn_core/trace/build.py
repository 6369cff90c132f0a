"""Assemble a :class:`Trace` from one image's intermediates, mapped back to original pixels."""

from __future__ import annotations

from torch import Tensor

from ..anchors.grid import inside_image
from ..anchors.targets import AnchorTargets
from ..boxes import scale_boxes
from ..config import DetectorConfig
from ..models.image_batch import ImageBatch
from ..roi.postprocess import Detections
from ..roi.targets import RoiSamples
from ..rpn.proposals import Proposals
from .trace import FeatureLevel, Trace


def _cpu(t: Tensor) -> Tensor:
    return t.detach().float().cpu() if t.is_floating_point() else t.detach().cpu()


def build_trace(
    cfg: DetectorConfig,
    batch: ImageBatch,
    feature_size: tuple[int, int],
    anchors: Tensor,
    objectness: Tensor,
    rpn_deltas: Tensor,
    proposals: Proposals,
    detections: Detections,
    target: dict | None,
    anchor_targets: AnchorTargets | None,
    roi_samples: RoiSamples | None,
    roi_logits: Tensor | None,
    losses: dict[str, Tensor] | None,
    levels: tuple[FeatureLevel, ...] = (),
) -> Trace:
    """Trace of the batch's first image. Boxes in input pixels are divided by the resize scale.
    ``levels`` describe the feature maps the anchors lie on, in their rows' order (default:
    the one level of ``cfg``'s grid)."""
    sx, sy = batch.scale(0)

    def to_original(boxes: Tensor) -> Tensor:
        return _cpu(scale_boxes(boxes.float(), (1 / sx, 1 / sy)))

    trace = Trace(
        image_size=batch.original_sizes[0],
        input_size=batch.input_sizes[0],
        scale=(sx, sy),
        feature_size=feature_size,
        stride=cfg.anchor_stride,
        anchor_scales=tuple(cfg.anchor_scales),
        anchor_ratios=tuple(cfg.anchor_ratios),
        class_names=tuple(cfg.class_names),
        rpn_pos_iou=cfg.rpn_pos_iou,
        anchors=to_original(anchors),
        inside=_cpu(inside_image(anchors, batch.input_sizes[0], cfg.rpn_allowed_border)),
        objectness=_cpu(objectness.float().sigmoid()),
        rpn_deltas=_cpu(rpn_deltas),
        pre_nms_boxes=to_original(proposals.pre_nms_boxes),
        pre_nms_scores=_cpu(proposals.pre_nms_scores),
        pre_nms_anchor_index=_cpu(proposals.pre_nms_anchor_index),
        proposals=to_original(proposals.boxes),
        proposal_scores=_cpu(proposals.scores),
        proposal_anchor_index=_cpu(proposals.anchor_index),
        detections=detections.map(_cpu),
        levels=tuple(levels),
    )
    if target is not None:
        trace.gt_boxes = _cpu(target["boxes"].float())
        trace.gt_labels = _cpu(target["labels"])
    if anchor_targets is not None:
        trace.anchor_labels = _cpu(anchor_targets.labels)
        trace.anchor_candidate_labels = _cpu(anchor_targets.candidate_labels)
        trace.anchor_matched_gt = _cpu(anchor_targets.matched_gt)
        trace.anchor_max_iou = _cpu(anchor_targets.max_iou)
        trace.anchor_target_deltas = _cpu(anchor_targets.deltas)
    if roi_samples is not None:
        trace.roi_boxes = to_original(roi_samples.boxes)
        trace.roi_labels = _cpu(roi_samples.labels)
        trace.roi_target_deltas = _cpu(roi_samples.deltas)
        trace.roi_max_iou = _cpu(roi_samples.max_iou)
        trace.roi_matched_gt = _cpu(roi_samples.matched_gt)
        trace.roi_source = _cpu(roi_samples.source)
        trace.roi_predicted = _cpu(roi_logits.argmax(dim=1))
    if losses is not None:
        values = {k: float(v.detach()) for k, v in losses.items()}
        values["total"] = sum(values.values())
        trace.losses = values
    return trace

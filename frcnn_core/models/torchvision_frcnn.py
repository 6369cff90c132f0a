"""torchvision's Faster R-CNN, run stage by stage so that every intermediate is recorded.

:class:`TorchvisionFasterRCNN` holds the modules of a
``torchvision.models.detection.FasterRCNN`` (``transform``, ``backbone``, ``rpn``,
``roi_heads``, under the same names, so its ``state_dict`` is torchvision's) and runs them
through the stage methods of :class:`~frcnn_core.models.detector.StagedDetector`. Each stage
calls torchvision's own pieces (``transform``, ``backbone``, ``rpn.head``,
``rpn.anchor_generator``, ``rpn.box_coder``, ``rpn.proposal_matcher``, ``rpn.fg_bg_sampler``,
``rpn._get_top_n_idx``, the RoI heads' ``box_roi_pool``/``box_head``/``box_predictor``,
their matcher, sampler and ``box_coder``, ``fastrcnn_loss``) with the same arguments in the
same order as torchvision's ``forward``; where torchvision does not return what a trace shows
(which anchor a proposal came from, which proposal a detection came from),
``filter_proposals`` and ``postprocess_detections`` are followed line by line with the
indices carried along. So detections equal ``model.eval()`` output and the losses equal
torchvision's training losses (drawn from the same random stream), by construction.

The settings torchvision's builder gave the model are read from those modules' attributes
(the one place they live) and shown as a :class:`DetectorConfig`; :meth:`reconfigure` writes
them back. Anchors come from torchvision's ``AnchorGenerator``: one level per feature map
(``"0"``…``"3"``, ``"pool"`` for the ResNet-50 FPN; ``"0"``, ``"1"``, ``"pool"`` for MobileNetV3),
centred on ``(x * sx, y * sy)`` with ``sx = padded width // Wf``. For ``"pool"`` that spacing can
be below the level's stride (an 800 x 1088 input: 61 x 64 for a 13 x 17 map); the trace
records the anchors exactly as torchvision lays them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum

import torch
import torchvision
from torch import Tensor
from torch.nn import functional as F
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import fastrcnn_loss
from torchvision.models.detection.rpn import concat_box_prediction_layers
from torchvision.models.detection.transform import resize_boxes
from torchvision.ops import FrozenBatchNorm2d, batched_nms, box_iou, clip_boxes_to_image, remove_small_boxes

from ..anchors.targets import IGNORED, NEGATIVE, POSITIVE, AnchorTargets
from ..config import DetectorConfig
from ..roi.postprocess import Detections
from ..roi.targets import ROI_SOURCE_GT, RoiSamples
from ..rpn.proposals import Proposals
from ..trace.build import build_trace
from ..trace.stages import Stage
from ..trace.trace import FeatureLevel, Trace
from .detector import StagedDetector
from .image_batch import ImageBatch
from .reconfigure import ReconfigureEvent, plan_change


class TorchvisionArch(str, Enum):
    """The Faster R-CNN builders of ``torchvision.models.detection``; the value is the builder's name."""

    RESNET50_FPN = "fasterrcnn_resnet50_fpn"
    RESNET50_FPN_V2 = "fasterrcnn_resnet50_fpn_v2"
    MOBILENET_V3_LARGE_FPN = "fasterrcnn_mobilenet_v3_large_fpn"
    MOBILENET_V3_LARGE_320_FPN = "fasterrcnn_mobilenet_v3_large_320_fpn"

    @property
    def weights_name(self) -> str:
        """The name of the builder's ``weights=`` enum (``FasterRCNN_ResNet50_FPN_Weights``…)."""
        return _WEIGHTS_NAMES[self]

    @classmethod
    def parse(cls, text: str | TorchvisionArch) -> TorchvisionArch:
        """A builder name, or its ``weights=`` enum name (``FasterRCNN_ResNet50_FPN_Weights``, also
        with a member such as ``.COCO_V1``); anything else is a ``ValueError`` listing the choices."""
        if isinstance(text, cls):
            return text
        name = str(text).strip()
        for arch in cls:
            if name == arch.value or name.split(".")[0] == arch.weights_name:
                return arch
        choices = ", ".join(a.value for a in cls)
        aliases = ", ".join(a.weights_name for a in cls)
        raise ValueError(f"unknown architecture {name!r}; choose one of {choices} (or a weights name: {aliases})")


_WEIGHTS_NAMES = {
    TorchvisionArch.RESNET50_FPN: "FasterRCNN_ResNet50_FPN_Weights",
    TorchvisionArch.RESNET50_FPN_V2: "FasterRCNN_ResNet50_FPN_V2_Weights",
    TorchvisionArch.MOBILENET_V3_LARGE_FPN: "FasterRCNN_MobileNet_V3_Large_FPN_Weights",
    TorchvisionArch.MOBILENET_V3_LARGE_320_FPN: "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights",
}


def build_torchvision_detector(arch: TorchvisionArch | str, num_classes: int, frozen_backbone_norm: bool = False, **settings) -> torch.nn.Module:
    """``torchvision.models.detection.<arch>(weights=None, weights_backbone=None, num_classes=...)``:
    the builder's own settings, random weights, nothing downloaded.

    ``frozen_backbone_norm`` swaps the trunk's ``BatchNorm2d`` for ``FrozenBatchNorm2d``, as the
    builder does when it starts from pretrained weights (a model fine-tuned that way has no
    ``num_batches_tracked`` in its trunk). ``settings`` go to the builder (``min_size=...``).
    """
    arch = TorchvisionArch.parse(arch)
    builder = getattr(torchvision.models.detection, arch.value)
    model = builder(weights=None, weights_backbone=None, num_classes=num_classes + 1, **settings)
    if frozen_backbone_norm:
        _freeze_batch_norm(model.backbone.body)
    return model


def _freeze_batch_norm(module: torch.nn.Module) -> None:
    """Replace every ``BatchNorm2d`` under ``module`` by a ``FrozenBatchNorm2d`` (torchvision's
    trunk norm when built from pretrained weights), in place."""
    for name, child in module.named_children():
        if isinstance(child, torch.nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps)
            setattr(module, name, frozen)
        else:
            _freeze_batch_norm(child)


@dataclass
class FpnFeatures:
    """The feature maps of a batch and the input sizes the RoI pooler needs to place them.

    Attributes:
        maps: ``{name: [B, C, Hf, Wf]}`` in torchvision's order (``"0"``…, ``"pool"``).
        image_sizes: per image ``(h, w)`` network-input size before padding.
    """

    maps: OrderedDict[str, Tensor]
    image_sizes: list[tuple[int, int]]

    def __getitem__(self, images: slice) -> FpnFeatures:
        """The features of a slice of the batch's images."""
        return FpnFeatures(OrderedDict((k, v[images]) for k, v in self.maps.items()), self.image_sizes[images])


@dataclass
class TorchvisionRpnOutput:
    """The transform, backbone, anchor generator and RPN head over a batch.

    Attributes:
        batch: the resized, normalised, padded images (:class:`ImageBatch`: ``tensor``,
            ``input_sizes``, ``original_sizes``).
        features: :class:`FpnFeatures`.
        anchors: per image ``[N, 4]`` xyxy network-input pixels, every level in
            ``AnchorGenerator`` order (the same for every image of the batch).
        levels: one :class:`FeatureLevel` per feature map.
        objectness: ``[B, N]`` logits; deltas: ``[B, N, 4]`` ``(dx, dy, dw, dh)`` (weights 1).
    """

    batch: ImageBatch
    features: FpnFeatures
    anchors: list[Tensor]
    levels: tuple[FeatureLevel, ...]
    objectness: Tensor
    deltas: Tensor

    @property
    def num_anchors_per_level(self) -> list[int]:
        return [level.num_anchors for level in self.levels]


# The DetectorConfig fields torchvision's modules do not have, with what they stand for there.
_FIXED_FIELDS = {
    "num_classes": "the predictor's size",
    "backbone": "the architecture",
    "pretrained_backbone": "the weights file",
    "anchor_stride": "the AnchorGenerator's levels",
    "anchor_scales": "the AnchorGenerator's sizes",
    "anchor_ratios": "the AnchorGenerator's aspect ratios",
    "rpn_allowed_border": "torchvision labels every anchor",
    "rpn_positives_per_gt": "the Matcher's allow_low_quality_matches",
    "rpn_mid_channels": "the RPN head's weights",
    "roi_bg_iou_low": "the RoI Matcher",
    "roi_gt_jitter": "add_gt_proposals",
    "roi_op": "MultiScaleRoIAlign",
    "roi_output_size": "the box head's weights",
    "head_hidden": "the box head's weights",
    "rpn_smooth_l1_beta": "torchvision's losses",
    "roi_smooth_l1_beta": "torchvision's losses",
    "box_vote_iou": "RoIHeads.postprocess_detections (no box voting)",
}


class TorchvisionFasterRCNN(StagedDetector):
    """A ``torchvision.models.detection.FasterRCNN`` that can be traced like ours.

    ``forward`` as ours (eval: a list of :class:`Detections`, equal to torchvision's
    ``model(images)``; train: ``{"rpn_cls", "rpn_reg", "roi_cls", "roi_reg"}``, torchvision's
    ``loss_objectness``, ``loss_rpn_box_reg``, ``loss_classifier``, ``loss_box_reg``),
    ``trace(image, target=None)`` a :class:`Trace` with one :class:`FeatureLevel` per feature map.
    ``config`` (read-only) shows torchvision's settings as a :class:`DetectorConfig`;
    :meth:`reconfigure` changes them. ``arch`` is the builder (:class:`TorchvisionArch`).
    """

    def __init__(self, detector: torch.nn.Module, arch: TorchvisionArch | str, class_names: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.arch = TorchvisionArch.parse(arch)
        self.transform = detector.transform
        self.backbone = detector.backbone
        self.rpn = detector.rpn
        self.roi_heads = detector.roi_heads
        self._class_names: tuple[str, ...] = ()
        self.reconfigured = ReconfigureEvent()
        if class_names:
            self.reconfigure(class_names=tuple(class_names))

    @classmethod
    def build(cls, arch: TorchvisionArch | str, num_classes: int, class_names: tuple[str, ...] = (), **settings) -> TorchvisionFasterRCNN:
        """A random-init model from torchvision's builder (see :func:`build_torchvision_detector`)."""
        return cls(build_torchvision_detector(arch, num_classes, **settings), arch, class_names)

    @classmethod
    def from_config(cls, config: DetectorConfig, frozen_backbone_norm: bool = False) -> TorchvisionFasterRCNN:
        """A random-init model of ``config.backbone`` (a builder name) with ``config``'s settings
        (a checkpoint of ours holding a torchvision model); a setting torchvision's modules
        cannot take is a ``ValueError``."""
        model = cls(build_torchvision_detector(config.backbone, config.num_classes, frozen_backbone_norm), config.backbone)
        built = model.config
        model.reconfigure(**{f.name: getattr(config, f.name) for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(built, f.name)})
        return model

    # ----- settings ---------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Foreground classes (the predictor has one more column, the background)."""
        return self.roi_heads.box_predictor.cls_score.out_features - 1

    @property
    def config(self) -> DetectorConfig:
        """torchvision's settings of this model as a :class:`DetectorConfig`, read from its modules.

        The anchor fields describe the first level only (``levels`` of a trace has them all);
        fields torchvision has no knob for hold what torchvision does (``rpn_allowed_border``
        ``inf``: every anchor takes part)."""
        rpn, heads, transform = self.rpn, self.roi_heads, self.transform
        first = self.rpn.anchor_generator
        stride0 = _FIRST_LEVEL_STRIDE[self.arch]
        return DetectorConfig(
            num_classes=self.num_classes,
            class_names=self._class_names,
            backbone=self.arch.value,
            min_size=int(transform.min_size[-1]),
            max_size=int(transform.max_size),
            pixel_mean=tuple(float(v) for v in transform.image_mean),
            pixel_std=tuple(float(v) for v in transform.image_std),
            anchor_stride=stride0,
            anchor_scales=tuple(float(s) / stride0 for s in first.sizes[0]),
            anchor_ratios=tuple(float(r) for r in first.aspect_ratios[0]),
            rpn_pos_iou=float(rpn.proposal_matcher.high_threshold),
            rpn_neg_iou=float(rpn.proposal_matcher.low_threshold),
            rpn_num_samples=int(rpn.fg_bg_sampler.batch_size_per_image),
            rpn_pos_fraction=float(rpn.fg_bg_sampler.positive_fraction),
            rpn_allowed_border=math.inf,
            rpn_positives_per_gt=1,
            rpn_mid_channels=int(rpn.head.cls_logits.in_channels),
            rpn_pre_nms_top_n_train=int(rpn._pre_nms_top_n["training"]),
            rpn_post_nms_top_n_train=int(rpn._post_nms_top_n["training"]),
            rpn_pre_nms_top_n_test=int(rpn._pre_nms_top_n["testing"]),
            rpn_post_nms_top_n_test=int(rpn._post_nms_top_n["testing"]),
            rpn_nms_thresh=float(rpn.nms_thresh),
            rpn_min_size=float(rpn.min_size),
            rpn_score_thresh=float(rpn.score_thresh),
            roi_num_samples=int(heads.fg_bg_sampler.batch_size_per_image),
            roi_fg_fraction=float(heads.fg_bg_sampler.positive_fraction),
            roi_fg_iou=float(heads.proposal_matcher.high_threshold),
            roi_bg_iou_high=float(heads.proposal_matcher.low_threshold),
            roi_bg_iou_low=0.0,
            roi_gt_jitter=0,
            roi_op="align",
            roi_output_size=int(_pair(heads.box_roi_pool.output_size)[0]),
            head_hidden=int(heads.box_predictor.cls_score.in_features),
            box_weights=tuple(float(w) for w in heads.box_coder.weights),
            rpn_smooth_l1_beta=1.0 / 9.0,
            roi_smooth_l1_beta=1.0 / 9.0,
            score_thresh=float(heads.score_thresh),
            nms_thresh=float(heads.nms_thresh),
            detections_per_image=int(heads.detections_per_img),
        )

    @config.setter
    def config(self, _value: DetectorConfig) -> None:
        raise AttributeError("TorchvisionFasterRCNN.config is read-only: change settings with model.reconfigure(**changes)")

    @property
    def fixed_fields(self) -> frozenset[str]:
        """The :class:`DetectorConfig` fields torchvision's modules have no setting for
        (:meth:`reconfigure` refuses to change them; the viewer greys them out)."""
        return frozenset(_FIXED_FIELDS)

    def reconfigure(self, **changes) -> frozenset[Stage]:
        """Change settings by :class:`DetectorConfig` field name; returns the stages they make
        stale (empty when no value changed) and tells the listeners of :attr:`reconfigured`.

        An unknown name, a value :class:`DetectorConfig` rejects, or a new value of a field
        torchvision has no setting for (``anchor_scales``, ``roi_op``…) is a ``ValueError``;
        nothing is applied then.
        """
        change = plan_change(self.config, changes)
        fixed = [name for name in change.fields if name in _FIXED_FIELDS]
        if fixed:
            reasons = "; ".join(f"{name} ({_FIXED_FIELDS[name]})" for name in fixed)
            raise ValueError(f"{', '.join(fixed)} cannot be changed on torchvision's {self.arch.value}: fixed by {reasons}")
        if not change.fields:
            return frozenset()
        for name in change.fields:
            _SETTERS[name](self, getattr(change.after, name))
        self.reconfigured.emit(change)
        return change.stale

    def validate_inputs(self, images: list[Tensor], targets: list[dict] | None) -> None:
        """Our checks (:meth:`StagedDetector.validate_inputs`), and torchvision's: every target
        box has a positive width and height (an empty box has no regression target)."""
        super().validate_inputs(images, targets)
        for i, target in enumerate(targets or []):
            boxes = target["boxes"]
            empty = (boxes[:, 2:] <= boxes[:, :2]).any(dim=1)
            if empty.any():
                k = int(torch.nonzero(empty)[0])
                raise ValueError(f"target {i}: box {k} {boxes[k].tolist()} has no width or height; torchvision's Faster R-CNN needs x2 > x1 and y2 > y1")

    # ----- the stages of one pass, in order -------------------------------------------
    def extract_features(self, images: list[Tensor]) -> TorchvisionRpnOutput:
        """``transform`` (resize, normalise, pad to 32), ``backbone``, ``rpn.head`` and
        ``rpn.anchor_generator`` on ``images`` (``[3, H, W]`` in 0..1), as ``RegionProposalNetwork.forward``."""
        original_sizes = [(int(img.shape[-2]), int(img.shape[-1])) for img in images]
        image_list, _ = self.transform(images)
        maps = self.backbone(image_list.tensors)
        if isinstance(maps, Tensor):
            maps = OrderedDict([("0", maps)])
        feature_list = list(maps.values())
        objectness, deltas = self.rpn.head(feature_list)
        anchors = self.rpn.anchor_generator(image_list, feature_list)
        levels = self._levels(image_list, maps)
        num_images = len(images)
        objectness, deltas = concat_box_prediction_layers(objectness, deltas)
        input_sizes = [(int(h), int(w)) for h, w in image_list.image_sizes]
        batch = ImageBatch(image_list.tensors, input_sizes, original_sizes)
        return TorchvisionRpnOutput(
            batch, FpnFeatures(maps, input_sizes), anchors, levels, objectness.reshape(num_images, -1), deltas.reshape(num_images, -1, 4)
        )

    def _levels(self, image_list: ImageList, maps: OrderedDict[str, Tensor]) -> tuple[FeatureLevel, ...]:
        """One :class:`FeatureLevel` per feature map, in the anchor generator's order."""
        generator = self.rpn.anchor_generator
        padded_h, padded_w = image_list.tensors.shape[-2:]
        levels = []
        for (name, feature), sizes, ratios in zip(maps.items(), generator.sizes, generator.aspect_ratios):
            hf, wf = (int(v) for v in feature.shape[-2:])
            stride = 2 ** round(math.log2(max(padded_h / hf, padded_w / wf)))  # the trunk's (P6: 64, though 'pool' rounds up)
            per_cell = len(sizes) * len(ratios)
            levels.append(FeatureLevel(name, stride, (hf, wf), tuple(float(s) for s in sizes), tuple(float(r) for r in ratios), hf * wf * per_cell))
        return tuple(levels)

    @torch.no_grad()
    def propose_regions(self, rpn: TorchvisionRpnOutput) -> list[Proposals]:
        """``rpn.box_coder.decode`` and ``RegionProposalNetwork.filter_proposals`` (top-N per
        level, clip, small boxes, score threshold, NMS per level, post-NMS top-N) with the
        index of each box's anchor carried along. Counts of the current mode."""
        num_images = rpn.objectness.shape[0]
        boxes = self.rpn.box_coder.decode(rpn.deltas.reshape(-1, 4).detach(), rpn.anchors).view(num_images, -1, 4)
        objectness = rpn.objectness.detach()
        device = objectness.device
        per_level = rpn.num_anchors_per_level
        levels = torch.cat([torch.full((n,), i, dtype=torch.int64, device=device) for i, n in enumerate(per_level)])
        levels = levels.reshape(1, -1).expand_as(objectness)
        top_n_idx = self.rpn._get_top_n_idx(objectness, per_level)
        batch_idx = torch.arange(num_images, device=device)[:, None]
        scores_all, levels, boxes = torch.sigmoid(objectness[batch_idx, top_n_idx]), levels[batch_idx, top_n_idx], boxes[batch_idx, top_n_idx]
        proposals = []
        for image_boxes, scores, lvl, anchor_index, size in zip(boxes, scores_all, levels, top_n_idx, rpn.batch.input_sizes):
            image_boxes = clip_boxes_to_image(image_boxes, size)
            keep = remove_small_boxes(image_boxes, self.rpn.min_size)
            image_boxes, scores, lvl, anchor_index = image_boxes[keep], scores[keep], lvl[keep], anchor_index[keep]
            keep = torch.where(scores >= self.rpn.score_thresh)[0]
            image_boxes, scores, lvl, anchor_index = image_boxes[keep], scores[keep], lvl[keep], anchor_index[keep]
            keep = batched_nms(image_boxes, scores, lvl, self.rpn.nms_thresh)[: self.rpn.post_nms_top_n()]
            proposals.append(Proposals(image_boxes[keep], scores[keep], anchor_index[keep], image_boxes, scores, anchor_index))
        return proposals

    def targets_in_input_pixels(self, rpn: TorchvisionRpnOutput, targets: list[dict]) -> tuple[list[Tensor], list[Tensor]]:
        """Each target's ``[G, 4]`` boxes resized as ``transform`` resizes them, and its ``[G]`` labels."""
        device = rpn.objectness.device
        boxes = [resize_boxes(t["boxes"].to(device), rpn.batch.original_sizes[i], rpn.batch.input_sizes[i]) for i, t in enumerate(targets)]
        labels = [t["labels"].to(device) for t in targets]
        return boxes, labels

    def assign_anchors(self, rpn: TorchvisionRpnOutput, gt_boxes: list[Tensor], generator: torch.Generator | None = None) -> list[AnchorTargets]:
        """``RegionProposalNetwork.assign_targets_to_anchors`` (its ``Matcher``,
        ``allow_low_quality_matches``) and its ``BalancedPositiveNegativeSampler``, drawing from
        the global random stream as torchvision does (from one seeded by ``generator`` if given)."""
        matcher = self.rpn.proposal_matcher
        candidates, matched, best_iou, deltas = [], [], [], []
        for anchors, gt in zip(rpn.anchors, gt_boxes):
            if gt.numel() == 0:
                matched_idxs = torch.full((anchors.shape[0],), matcher.BELOW_LOW_THRESHOLD, dtype=torch.int64, device=anchors.device)
                max_iou, best = torch.zeros(anchors.shape[0], device=anchors.device), torch.full_like(matched_idxs, -1)
                deltas.append(torch.zeros_like(anchors))
            else:
                quality = self.rpn.box_similarity(gt, anchors)
                matched_idxs = matcher(quality)
                max_iou, best = quality.max(dim=0)
                deltas.append(self.rpn.box_coder.encode_single(gt[best], anchors))
            label = torch.full_like(matched_idxs, IGNORED)
            label[matched_idxs >= 0] = POSITIVE
            label[matched_idxs == matcher.BELOW_LOW_THRESHOLD] = NEGATIVE
            candidates.append(label)
            matched.append(best)
            best_iou.append(max_iou)
        with _random_stream(generator, rpn.objectness.device):
            positive, negative = self.rpn.fg_bg_sampler([c.to(torch.float32) for c in candidates])
        targets = []
        for candidate, pos, neg, best, max_iou, delta in zip(candidates, positive, negative, matched, best_iou, deltas):
            labels = torch.full_like(candidate, IGNORED)
            labels[pos.bool()] = POSITIVE
            labels[neg.bool()] = NEGATIVE
            targets.append(AnchorTargets(labels, candidate, delta, best, max_iou, torch.ones_like(candidate, dtype=torch.bool)))
        return targets

    def sample_rois(
        self,
        rpn: TorchvisionRpnOutput,
        proposals: list[Proposals],
        gt_boxes: list[Tensor],
        gt_labels: list[Tensor],
        generator: torch.Generator | None = None,
    ) -> list[RoiSamples]:
        """``RoIHeads.select_training_samples``: the GT boxes join the proposals, its ``Matcher``
        labels them, its sampler draws (global random stream, seeded by ``generator`` if given);
        the source of each RoI (a proposal's index, :data:`ROI_SOURCE_GT`) carried along."""
        heads = self.roi_heads
        dtype = proposals[0].boxes.dtype
        gt_boxes = [g.to(dtype) for g in gt_boxes]
        rois = heads.add_gt_proposals([p.boxes for p in proposals], gt_boxes)
        matched_idxs, labels = heads.assign_targets_to_proposals(rois, gt_boxes, gt_labels)
        with _random_stream(generator, rpn.objectness.device):
            sampled = heads.subsample(labels)
        samples = []
        for roi, matched, label, index, gt, proposal in zip(rois, matched_idxs, labels, sampled, gt_boxes, proposals):
            boxes, label, matched = roi[index], label[index], matched[index]
            if gt.numel() == 0:
                max_iou, best = torch.zeros(index.shape[0], device=roi.device), torch.full_like(index, -1)
                deltas = torch.zeros_like(boxes)
            else:
                max_iou, best = box_iou(gt, boxes).max(dim=0)
                deltas = heads.box_coder.encode_single(gt[matched], boxes) * (label > 0)[:, None]
            count = proposal.boxes.shape[0]
            source = torch.where(index < count, index, torch.full_like(index, ROI_SOURCE_GT))
            samples.append(RoiSamples(boxes, label, deltas, best, max_iou, source))
        return samples

    def classify(self, features: FpnFeatures, rois: list[Tensor]) -> tuple[Tensor, Tensor]:
        """``box_roi_pool``, ``box_head`` and ``box_predictor`` on each image's ``[R_i, 4]`` RoIs
        (input pixels): ``[sum R_i, C + 1]`` class logits and ``[sum R_i, 4 * (C + 1)]`` deltas."""
        pooled = self.roi_heads.box_roi_pool(features.maps, rois, features.image_sizes)
        return self.roi_heads.box_predictor(self.roi_heads.box_head(pooled))

    def compute_losses(
        self, rpn: TorchvisionRpnOutput, anchor_targets: list[AnchorTargets], roi_samples: list[RoiSamples], roi_logits: Tensor, roi_deltas: Tensor
    ) -> dict[str, Tensor]:
        """``RegionProposalNetwork.compute_loss`` on the sampled anchors and torchvision's
        ``fastrcnn_loss`` on the sampled RoIs, under our :data:`LOSS_NAMES`."""
        labels = torch.cat([t.labels for t in anchor_targets])
        positive = torch.where(labels == POSITIVE)[0]
        sampled = torch.cat([positive, torch.where(labels == NEGATIVE)[0]])
        objectness = rpn.objectness.flatten()
        regression = torch.cat([t.deltas for t in anchor_targets])
        rpn_reg = F.smooth_l1_loss(rpn.deltas.reshape(-1, 4)[positive], regression[positive], beta=1 / 9, reduction="sum") / sampled.numel()
        rpn_cls = F.binary_cross_entropy_with_logits(objectness[sampled], labels[sampled].to(objectness.dtype))
        roi_cls, roi_reg = fastrcnn_loss(roi_logits, roi_deltas, [s.labels for s in roi_samples], [s.deltas for s in roi_samples])
        return {"rpn_cls": rpn_cls, "rpn_reg": rpn_reg, "roi_cls": roi_cls, "roi_reg": roi_reg}

    def postprocess(self, rpn: TorchvisionRpnOutput, proposals: list[Proposals], logits: Tensor, deltas: Tensor) -> list[Detections]:
        """``RoIHeads.postprocess_detections`` and ``transform.postprocess`` (boxes back to each
        image's original pixels), with each detection's proposal carried along."""
        heads = self.roi_heads
        counts = [p.boxes.shape[0] for p in proposals]
        num_columns = logits.shape[-1]
        decoded = heads.box_coder.decode(deltas, [p.boxes for p in proposals])
        probabilities = F.softmax(logits, -1)
        weights = logits.new_tensor(heads.box_coder.weights)
        detections = []
        for i, (boxes, scores, image_deltas) in enumerate(zip(decoded.split(counts, 0), probabilities.split(counts, 0), deltas.split(counts, 0))):
            boxes = clip_boxes_to_image(boxes, rpn.batch.input_sizes[i])
            labels = torch.arange(num_columns, device=logits.device).view(1, -1).expand_as(scores)
            flat_boxes, flat_scores, flat_labels = boxes[:, 1:].reshape(-1, 4), scores[:, 1:].reshape(-1), labels[:, 1:].reshape(-1)
            flat = torch.arange(flat_scores.numel(), device=logits.device)
            keep = torch.where(flat_scores > heads.score_thresh)[0]
            flat_boxes, flat_scores, flat_labels, flat = flat_boxes[keep], flat_scores[keep], flat_labels[keep], flat[keep]
            keep = remove_small_boxes(flat_boxes, min_size=1e-2)
            flat_boxes, flat_scores, flat_labels, flat = flat_boxes[keep], flat_scores[keep], flat_labels[keep], flat[keep]
            keep = batched_nms(flat_boxes, flat_scores, flat_labels, heads.nms_thresh)[: heads.detections_per_img]
            flat_boxes, flat_scores, flat_labels, flat = flat_boxes[keep], flat_scores[keep], flat_labels[keep], flat[keep]
            roi = torch.div(flat, num_columns - 1, rounding_mode="floor")
            applied = image_deltas.reshape(-1, num_columns, 4)[roi, flat_labels] / weights
            original = resize_boxes(flat_boxes, rpn.batch.input_sizes[i], rpn.batch.original_sizes[i])
            detections.append(Detections(original, flat_scores, flat_labels, scores[roi], roi, applied))
        return detections

    def assemble_trace(self, rpn: TorchvisionRpnOutput, proposals: Proposals, detections: Detections, target: dict | None = None,
                       anchor_targets: AnchorTargets | None = None, roi_samples: RoiSamples | None = None,
                       roi_logits: Tensor | None = None, losses: dict[str, Tensor] | None = None) -> Trace:
        """The :class:`Trace` of the batch's first image, every FPN level in ``levels``."""
        first = rpn.levels[0]
        return build_trace(
            self.config, rpn.batch, first.feature_size, rpn.anchors[0], rpn.objectness[0], rpn.deltas[0], proposals, detections,
            target, anchor_targets, roi_samples, roi_logits, losses, levels=rpn.levels,
        )


def _pair(size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else tuple(size)


@contextlib.contextmanager
def _random_stream(generator: torch.Generator | None, device: torch.device):
    """torchvision's samplers draw from the global random stream; with ``generator``, from a
    stream seeded by it instead (the global one is left as it was), so a trace repeats."""
    if generator is None:
        yield
        return
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


# The trunk's stride of the first feature map of each architecture (input pixels).
_FIRST_LEVEL_STRIDE = {
    TorchvisionArch.RESNET50_FPN: 4,
    TorchvisionArch.RESNET50_FPN_V2: 4,
    TorchvisionArch.MOBILENET_V3_LARGE_FPN: 32,
    TorchvisionArch.MOBILENET_V3_LARGE_320_FPN: 32,
}

def _set_min_size(model: TorchvisionFasterRCNN, value: int) -> None:
    model.transform.min_size = (int(value),)


def _setter(path: str, convert=float):
    """A setter writing ``convert(value)`` to the attribute at dotted ``path`` of the model
    (``"rpn._pre_nms_top_n[testing]"`` for a dict entry)."""
    owner_path, _, attribute = path.rpartition(".")

    def set_value(model: TorchvisionFasterRCNN, value) -> None:
        owner = model
        for part in owner_path.split("."):
            owner = getattr(owner, part)
        if "[" in attribute:
            name, key = attribute.rstrip("]").split("[")
            getattr(owner, name)[key] = convert(value)
        else:
            setattr(owner, attribute, convert(value))

    return set_value


def _set_class_names(model: TorchvisionFasterRCNN, names: tuple[str, ...]) -> None:
    model._class_names = tuple(names)


# Where each changeable DetectorConfig field lives in torchvision's modules.
_SETTERS = {
    "class_names": _set_class_names,
    "min_size": _set_min_size,
    "max_size": _setter("transform.max_size", int),
    "pixel_mean": _setter("transform.image_mean", list),
    "pixel_std": _setter("transform.image_std", list),
    "rpn_pos_iou": _setter("rpn.proposal_matcher.high_threshold"),
    "rpn_neg_iou": _setter("rpn.proposal_matcher.low_threshold"),
    "rpn_num_samples": _setter("rpn.fg_bg_sampler.batch_size_per_image", int),
    "rpn_pos_fraction": _setter("rpn.fg_bg_sampler.positive_fraction"),
    "rpn_pre_nms_top_n_train": _setter("rpn._pre_nms_top_n[training]", int),
    "rpn_post_nms_top_n_train": _setter("rpn._post_nms_top_n[training]", int),
    "rpn_pre_nms_top_n_test": _setter("rpn._pre_nms_top_n[testing]", int),
    "rpn_post_nms_top_n_test": _setter("rpn._post_nms_top_n[testing]", int),
    "rpn_nms_thresh": _setter("rpn.nms_thresh"),
    "rpn_min_size": _setter("rpn.min_size"),
    "rpn_score_thresh": _setter("rpn.score_thresh"),
    "roi_num_samples": _setter("roi_heads.fg_bg_sampler.batch_size_per_image", int),
    "roi_fg_fraction": _setter("roi_heads.fg_bg_sampler.positive_fraction"),
    "roi_fg_iou": _setter("roi_heads.proposal_matcher.high_threshold"),
    "roi_bg_iou_high": _setter("roi_heads.proposal_matcher.low_threshold"),
    "box_weights": _setter("roi_heads.box_coder.weights", tuple),
    "score_thresh": _setter("roi_heads.score_thresh"),
    "nms_thresh": _setter("roi_heads.nms_thresh"),
    "detections_per_image": _setter("roi_heads.detections_per_img", int),
}

"""Detector configuration: one frozen dataclass with the seed's defaults.

It is stored inside every checkpoint, so a checkpoint always knows how to
rebuild its model, and a checkpoint for another architecture is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DetectorConfig:
    """Every knob of the detector. Pixel sizes are in network-input pixels (after resizing).

    ``num_classes`` counts foreground classes; labels are 1..num_classes, 0 is background.
    """

    num_classes: int = 20
    class_names: tuple[str, ...] = ()
    backbone: str = "vgg16"
    pretrained_backbone: bool = False
    # image resizing: the shorter side becomes min_size unless the longer would exceed max_size
    min_size: int = 800
    max_size: int = 1333
    pixel_mean: tuple[float, float, float] = IMAGENET_MEAN
    pixel_std: tuple[float, float, float] = IMAGENET_STD
    # anchors
    anchor_stride: int = 16
    anchor_scales: tuple[float, ...] = (8.0, 16.0, 32.0)
    anchor_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    # anchor targets
    rpn_pos_iou: float = 0.7
    rpn_neg_iou: float = 0.3
    rpn_num_samples: int = 256
    rpn_pos_fraction: float = 0.5
    # anchors reaching further than this past the image border sit out RPN training (the seed: 0)
    rpn_allowed_border: float = 0.0
    # each GT box makes its this many best-IoU anchors positive, whatever their IoU (the seed: 1)
    rpn_positives_per_gt: int = 1
    rpn_mid_channels: int = 512
    # proposal layer
    rpn_pre_nms_top_n_train: int = 12000
    rpn_post_nms_top_n_train: int = 2000
    rpn_pre_nms_top_n_test: int = 6000
    rpn_post_nms_top_n_test: int = 300
    rpn_nms_thresh: float = 0.7
    rpn_min_size: float = 16.0
    # proposals whose objectness probability is below this are dropped before NMS (torchvision's
    # rpn_score_thresh: 0.05 for its MobileNetV3 builders, 0 for the ResNet-50 ones)
    rpn_score_thresh: float = 0.0
    # proposal targets
    roi_num_samples: int = 128
    roi_fg_fraction: float = 0.25
    roi_fg_iou: float = 0.5
    roi_bg_iou_high: float = 0.5
    roi_bg_iou_low: float = 0.0
    # each GT box also joins the RoIs as this many jittered copies in training (the seed: 0)
    roi_gt_jitter: int = 0
    # Fast R-CNN head
    roi_op: str = "pool"  # "pool" (torchvision roi_pool, the paper's) or "align"
    roi_output_size: int = 7
    head_hidden: int = 4096
    box_weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)
    # losses: smooth-L1 beta = 1 / sigma^2 (sigma 3 for the RPN, 1 for the head)
    rpn_smooth_l1_beta: float = 1.0 / 9.0
    roi_smooth_l1_beta: float = 1.0
    # inference post-processing
    score_thresh: float = 0.05
    nms_thresh: float = 0.3
    detections_per_image: int = 100

    def __post_init__(self) -> None:
        problems = []
        if self.num_classes < 1:
            problems.append(f"num_classes must be >= 1, got {self.num_classes}")
        if self.class_names and len(self.class_names) != self.num_classes:
            problems.append(f"class_names has {len(self.class_names)} names but num_classes is {self.num_classes}")
        if not self.anchor_scales or not self.anchor_ratios:
            problems.append("anchor_scales and anchor_ratios must not be empty")
        if any(v <= 0 for v in (*self.anchor_scales, *self.anchor_ratios)):
            problems.append(f"anchor scales and ratios must be positive, got {self.anchor_scales} / {self.anchor_ratios}")
        if not 0 <= self.rpn_neg_iou <= self.rpn_pos_iou <= 1:
            problems.append(f"need 0 <= rpn_neg_iou <= rpn_pos_iou <= 1, got {self.rpn_neg_iou} / {self.rpn_pos_iou}")
        if self.rpn_allowed_border < 0:
            problems.append(f"rpn_allowed_border must be >= 0 pixels, got {self.rpn_allowed_border}")
        if self.rpn_positives_per_gt < 0:
            problems.append(f"rpn_positives_per_gt must be >= 0, got {self.rpn_positives_per_gt}")
        if self.anchor_stride < 1:
            problems.append(f"anchor_stride must be >= 1, got {self.anchor_stride}")
        for name in ("rpn_num_samples", "roi_num_samples", "rpn_pre_nms_top_n_train", "rpn_post_nms_top_n_train",
                     "rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_test", "detections_per_image"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("rpn_nms_thresh", "rpn_score_thresh", "nms_thresh", "score_thresh"):
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name} must be in 0..1, got {getattr(self, name)}")
        if self.rpn_min_size < 0:
            problems.append(f"rpn_min_size must be >= 0 pixels, got {self.rpn_min_size}")
        if self.roi_gt_jitter < 0:
            problems.append(f"roi_gt_jitter must be >= 0, got {self.roi_gt_jitter}")
        if not 0 < self.rpn_pos_fraction <= 1 or not 0 < self.roi_fg_fraction <= 1:
            problems.append("positive fractions must be in (0, 1]")
        if self.roi_op not in ("pool", "align"):
            problems.append(f"roi_op must be 'pool' or 'align', got {self.roi_op!r}")
        if self.min_size < 32 or self.max_size < self.min_size:
            problems.append(f"need 32 <= min_size <= max_size, got {self.min_size} / {self.max_size}")
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
        keys = ("num_classes", "backbone", "anchor_scales", "anchor_ratios", "rpn_mid_channels", "roi_output_size", "head_hidden")
        return {k: getattr(self, k) for k in keys}

    def fingerprint(self) -> str:
        """Short stable hash of the whole config, used as the model identity in exports."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]


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


# The fields that shape the anchor grid and its labels: changing one relabels the anchors of an
# image without running any network (frcnn_core.anchors.assignment.assign_anchors).
ANCHOR_ASSIGNMENT_FIELDS = (
    "anchor_stride", "anchor_scales", "anchor_ratios", "rpn_pos_iou", "rpn_neg_iou", "rpn_num_samples",
    "rpn_pos_fraction", "rpn_allowed_border", "rpn_positives_per_gt", "min_size", "max_size",
)
# The test-time proposal layer and detection post-processing: a trained model runs with any
# values of these (the weights do not depend on them).
INFERENCE_FIELDS = (
    "rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_test", "rpn_nms_thresh", "rpn_min_size", "rpn_score_thresh",
    "score_thresh", "nms_thresh", "detections_per_image",
)

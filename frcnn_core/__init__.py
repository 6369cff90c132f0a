"""frcnn_core: an observable Faster R-CNN in PyTorch (no Qt here, ever).

Boxes are ``(x1, y1, x2, y2)`` float pixels; deltas are ``(dx, dy, dw, dh)``.
"""

from .anchor_assignment import AnchorAssignment, AnchorGeometry, assign_anchors, model_geometry
from .anchor_targets import IGNORED, NEGATIVE, POSITIVE, AnchorTargets, assign_anchor_targets
from .anchors import anchor_base, grid_anchors, inside_image
from .backbones import BACKBONES, PretrainedWeightsMissing, build_backbone
from .boxes import decode_boxes, encode_boxes, pairwise_iou
from .config import DetectorConfig, cpu_config
from .model import LOSS_NAMES, FasterRCNN
from .postprocess import Detections
from .proposal_targets import ROI_SOURCE_GT, ROI_SOURCE_JITTERED_GT, RoiSamples, assign_proposal_targets
from .proposals import Proposals, propose
from .trace import Trace

__all__ = [
    "AnchorAssignment", "AnchorGeometry", "assign_anchors", "model_geometry", "POSITIVE", "NEGATIVE", "IGNORED",
    "ROI_SOURCE_GT", "ROI_SOURCE_JITTERED_GT", "AnchorTargets", "assign_anchor_targets", "anchor_base", "grid_anchors", "inside_image",
    "BACKBONES", "PretrainedWeightsMissing", "build_backbone", "decode_boxes", "encode_boxes", "pairwise_iou",
    "DetectorConfig", "cpu_config", "LOSS_NAMES", "FasterRCNN", "Detections", "RoiSamples",
    "assign_proposal_targets", "Proposals", "propose", "Trace",
]

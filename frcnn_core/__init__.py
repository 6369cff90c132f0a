"""frcnn_core: an observable Faster R-CNN in PyTorch (no Qt here, ever).

Boxes are ``(x1, y1, x2, y2)`` float pixels; deltas are ``(dx, dy, dw, dh)``.

The folders follow one image through the detector: ``models`` (backbone, batching, the
composed detector, checkpoints) → ``anchors`` (grid, anchor targets, coverage) → ``rpn``
(head, proposal layer) → ``roi`` (proposal targets, RoI pooling, head, post-processing)
→ ``losses``; ``trace`` records every intermediate, ``evaluation`` scores and diagnoses,
``data``/``annotations`` read the user's files, ``train`` trains, ``cli`` is the shell.
Everything a script needs is importable from here; the names in :data:`__all__` are the
public surface (``tests/test_public_surface.py`` pins it, ``CHANGELOG.md`` records changes).
"""

import warnings

from .anchors.assignment import AnchorAssignment, AnchorGeometry, assign_anchors, model_geometry
from .anchors.check import anchors_for_training
from .anchors.coverage import AnchorLayout, CoverageReport, GtBoxes, grid_coverage
from .anchors.grid import anchor_base, grid_anchors, inside_image
from .anchors.optimizer import optimize_anchors
from .anchors.targets import IGNORED, NEGATIVE, POSITIVE, AnchorTargets, assign_anchor_targets
from .boxes import decode_boxes, encode_boxes, pairwise_iou
from .config import ANCHOR_ASSIGNMENT_FIELDS, INFERENCE_FIELDS, DetectorConfig, cpu_config
from .data import DatasetError, open_dataset
from .deprecated import DEPRECATED
from .evaluation.confusion import confusion_matrix
from .evaluation.diagnose import ErrorCosts, FalsePositiveType, Stage, diagnose_dataset, diagnose_trace, diagnosis_report, error_costs
from .evaluation.label_errors import (
    LabelError,
    LabelErrorKind,
    find_label_errors,
    find_label_errors_dataset,
    label_errors_report,
    trace_with_verdict,
)
from .evaluation.metrics import ImageMatching, evaluate_coco, evaluate_voc, match_image
from .evaluation.scoring import score_detections
from .evaluation.tide import TideError, tide_errors
from .files.export import read_rich_results, to_coco_results, to_rich_results
from .inference import predict_dataset
from .models.backbones import BACKBONES, PretrainedWeightsMissing, build_backbone
from .models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .models.faster_rcnn import LOSS_NAMES, FasterRCNN
from .models.torchvision_frcnn import TorchvisionArch, TorchvisionFasterRCNN
from .presets import PresetName, choose_preset, detector_config, train_config
from .roi.postprocess import Detections
from .roi.targets import ROI_SOURCE_GT, ROI_SOURCE_JITTERED_GT, RoiSamples, assign_proposal_targets
from .rpn.proposals import Proposals, propose
from .trace.staged import FIELD_STAGES, BoxVerdict, StagedTrace
from .trace.trace import FeatureLevel, Trace
from .train import TrainConfig, Trainer

__all__ = [
    # anchors
    "AnchorAssignment", "AnchorGeometry", "assign_anchors", "model_geometry", "POSITIVE", "NEGATIVE", "IGNORED",
    "AnchorTargets", "assign_anchor_targets", "anchor_base", "grid_anchors", "inside_image",
    "AnchorLayout", "CoverageReport", "GtBoxes", "grid_coverage", "optimize_anchors", "anchors_for_training",
    # boxes, configuration, models
    "decode_boxes", "encode_boxes", "pairwise_iou", "DetectorConfig", "cpu_config", "ANCHOR_ASSIGNMENT_FIELDS",
    "INFERENCE_FIELDS", "BACKBONES", "PretrainedWeightsMissing", "build_backbone", "LOSS_NAMES", "FasterRCNN",
    "TorchvisionFasterRCNN", "TorchvisionArch", "CheckpointError", "load_checkpoint", "save_checkpoint", "PresetName", "choose_preset", "detector_config",
    "train_config",
    # the stages
    "Proposals", "propose", "RoiSamples", "assign_proposal_targets", "ROI_SOURCE_GT", "ROI_SOURCE_JITTERED_GT",
    "Detections",
    # traces
    "Trace", "FeatureLevel", "StagedTrace", "FIELD_STAGES", "BoxVerdict",
    # data, training, evaluation, files
    "DatasetError", "open_dataset", "TrainConfig", "Trainer", "predict_dataset", "evaluate_voc", "evaluate_coco",
    "match_image", "ImageMatching", "score_detections", "confusion_matrix", "diagnose_trace", "diagnose_dataset",
    "diagnosis_report", "Stage", "FalsePositiveType", "to_coco_results", "to_rich_results", "read_rich_results",
    "tide_errors", "TideError", "error_costs", "ErrorCosts",
    "find_label_errors", "find_label_errors_dataset", "label_errors_report", "trace_with_verdict", "LabelError", "LabelErrorKind",
]


def __getattr__(name: str):
    """Deprecated names (:mod:`frcnn_core.deprecated`) warn, then work as they did."""
    if name in DEPRECATED:
        instead, value = DEPRECATED[name]
        warnings.warn(f"frcnn_core.{name} is deprecated; use {instead}", DeprecationWarning, stacklevel=2)
        return value
    raise AttributeError(f"module 'frcnn_core' has no attribute {name!r}")

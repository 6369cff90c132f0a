"""The public surface, pinned: what scripts and users rely on.

Changing any of these sets is a change of the public API: change this test *and* add a
line to ``CHANGELOG.md`` (a rename keeps the old name as a deprecated alias).
"""

from __future__ import annotations

import argparse
import inspect
import warnings

import pytest
import torch

import frcnn_core
from frcnn_core.cli.main import build_parser

CORE_NAMES = set("""
ANCHOR_ASSIGNMENT_FIELDS AnchorAssignment AnchorGeometry AnchorLayout AnchorTargets BACKBONES
CheckpointError CoverageReport DatasetError Detections DetectorConfig FIELD_STAGES FalsePositiveType
FasterRCNN FeatureLevel GtBoxes IGNORED INFERENCE_FIELDS ImageMatching LOSS_NAMES NEGATIVE POSITIVE
PresetName PretrainedWeightsMissing Proposals ROI_SOURCE_GT ROI_SOURCE_JITTERED_GT RoiSamples Stage
StagedTrace TorchvisionArch TorchvisionFasterRCNN Trace TrainConfig Trainer anchor_base anchors_for_training assign_anchor_targets
assign_anchors assign_proposal_targets build_backbone choose_preset confusion_matrix cpu_config
decode_boxes detector_config diagnose_dataset diagnose_trace diagnosis_report encode_boxes
evaluate_coco evaluate_voc grid_anchors grid_coverage inside_image load_checkpoint match_image
model_geometry open_dataset optimize_anchors pairwise_iou predict_dataset propose read_rich_results
save_checkpoint score_detections to_coco_results to_rich_results train_config
TideError tide_errors ErrorCosts error_costs
BoxVerdict LabelError LabelErrorKind find_label_errors find_label_errors_dataset label_errors_report trace_with_verdict
""".split())

# command -> (positional arguments, option strings)
COMMANDS = {
    "train": ([], [
        "--anchor-ratios", "--anchor-scales", "--arch", "--autoanchor", "--backbone", "--batch-size", "--checkpoint-every",
        "--config", "--data", "--device", "--image-size", "--init", "--iterations", "--lr", "--no-autoanchor", "--no-progress",
        "--num-images", "--output", "--patience", "--preset", "--pretrained", "--resume", "--seed", "--val-data", "--val-every",
    ]),
    "export-weights": (["checkpoint", "output"], ["--arch"]),
    "detect": (["checkpoint", "inputs"], [
        "--arch", "--batch-size", "--classes", "--data", "--device", "--format", "--no-progress", "--output", "--render",
        "--score-threshold", "--split", "-o",
    ]),
    "eval": (["checkpoint"], [
        "--arch", "--batch-size", "--classes", "--data", "--device", "--json", "--no-progress", "--num-images", "--plots", "--split",
    ]),
    "diagnose": (["checkpoint"], [
        "--arch", "--classes", "--data", "--device", "--iou", "--json", "--no-progress", "--num-images", "--score-threshold", "--split",
    ]),
    "label-errors": (["checkpoint"], [
        "--arch", "--classes", "--data", "--device", "--iou", "--json", "--no-progress", "--num-images", "--score-threshold", "--split",
        "--top",
    ]),
    "anchors": ([], [
        "--allowed-border", "--anchor-ratios", "--anchor-scales", "--data", "--image-size", "--json", "--max-size",
        "--min-size", "--no-progress", "--num-ratios", "--num-scales", "--optimize", "--seed", "--split", "--stride",
    ]),
}

# The MainWindow scripting methods the README documents, with their parameters.
WINDOW_METHODS = {
    "open_paths": ["paths", "wait"],
    "set_layer_visible": ["name", "visible"],
    "set_layer_option": ["name", "key", "value"],
    "set_parameters": ["changes"],
    "load_checkpoint": ["path", "wait", "arch"],
    "diagnose": ["wait", "iou", "score_threshold"],
    "anchor_design": ["optimise", "timeout_ms"],
    "export_detections": ["path", "scope", "format"],
    "export_view": ["path"],
    "counts": [],
    "wait_until_idle": ["timeout_ms"],
    "show_image": ["index"],
    "next_image": [],
    "previous_image": [],
    "analyse_all": ["wait"],
    "start_training": ["data", "iterations", "device", "wait", "config"],
    "train_quick_model": ["wait", "config"],
    "pause_training": ["wait"],
    "resume_training": [],
    "step_training": ["n", "wait"],
    "stop_training": ["wait"],
    "training_state": [],
    "set_mode": ["mode"],
    "save_annotations": [],
    "suggestions": [],
    "accept_suggestions": ["min_score"],
    "reject_suggestion": ["index"],
    "sort_images": ["key"],
    "next_unlabelled": [],
    "restore_unsaved_edits": [],
    "find_label_issues": ["wait"],
    "apply_issue": ["index"],
    "dismiss_issue": ["index"],
}


def test_core_exports_exactly_the_public_names():
    assert set(frcnn_core.__all__) == CORE_NAMES
    assert len(frcnn_core.__all__) == len(CORE_NAMES), "a name is listed twice in __all__"
    for name in CORE_NAMES:
        assert getattr(frcnn_core, name) is not None


def test_a_renamed_function_stays_as_a_deprecated_alias():
    with pytest.warns(DeprecationWarning, match="frcnn_core.propose"):
        generate_proposals = frcnn_core.generate_proposals
    assert "generate_proposals" not in frcnn_core.__all__
    anchors = frcnn_core.grid_anchors((4, 5), 16)
    torch.manual_seed(0)
    objectness, deltas = torch.randn(len(anchors)), 0.1 * torch.randn(len(anchors), 4)
    boxes, scores = generate_proposals(anchors, objectness, deltas, (64, 80), 100, 20, 0.7, 1.0)
    current = frcnn_core.propose(anchors, objectness, deltas, (64, 80), 100, 20, 0.7, 1.0)
    assert torch.equal(boxes, current.boxes) and torch.equal(scores, current.scores)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert frcnn_core.propose is not None  # the current name does not warn


def _commands() -> dict[str, tuple[list[str], list[str]]]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {
        name: (
            [a.dest for a in parser._actions if not a.option_strings],
            sorted(o for a in parser._actions for o in a.option_strings if o not in ("-h", "--help")),
        )
        for name, parser in sub.choices.items()
    }


def test_the_frcnn_commands_and_their_flags():
    assert _commands() == COMMANDS


def test_the_documented_window_scripting_methods():
    pytest.importorskip("PySide6")
    from frcnn_viewer import MainWindow

    for name, params in WINDOW_METHODS.items():
        method = getattr(MainWindow, name)
        assert list(inspect.signature(method).parameters)[1:] == params, name
    assert isinstance(inspect.getattr_static(MainWindow, "current_class"), property)


def test_canvas_keeps_image_to_widget():
    pytest.importorskip("PySide6")
    from frcnn_viewer.canvas import Canvas

    assert list(inspect.signature(Canvas.image_to_widget).parameters)[1:3] == ["x", "y"]

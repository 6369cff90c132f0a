"""DetectorConfig: each field declared once (stage, check, role), and the tables derived from
that declaration are the tables that were written out by hand before."""

import dataclasses

import pytest

import frcnn_core
from frcnn_core.config import (
    ANCHOR_ASSIGNMENT_FIELDS,
    BUILD_FIELDS,
    FIELD_STAGES,
    FIELDS,
    INFERENCE_FIELDS,
    DetectorConfig,
    Role,
    cpu_config,
)
from frcnn_core.trace.stages import Stage

# The hand-written tables as they stood before the field declarations carried them.
OLD_ANCHOR_ASSIGNMENT_FIELDS = (
    "anchor_stride", "anchor_scales", "anchor_ratios", "rpn_pos_iou", "rpn_neg_iou", "rpn_num_samples",
    "rpn_pos_fraction", "rpn_allowed_border", "rpn_positives_per_gt", "min_size", "max_size",
)
OLD_INFERENCE_FIELDS = (
    "rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_test", "rpn_nms_thresh", "rpn_min_size",
    "rpn_score_thresh",  # added with torchvision's models (issue 23)
    "score_thresh", "nms_thresh", "detections_per_image",
    "box_vote_iou",  # added with box voting (issue 25)
)
OLD_ARCHITECTURE = ("num_classes", "backbone", "anchor_scales", "anchor_ratios", "rpn_mid_channels", "roi_output_size", "head_hidden")
F, P, A, R, L, D = Stage.FEATURES, Stage.PROPOSALS, Stage.ANCHOR_TARGETS, Stage.ROI_SAMPLES, Stage.LOSSES, Stage.DETECTIONS
OLD_FIELD_STAGES = {
    "num_classes": F, "backbone": F, "pretrained_backbone": F, "rpn_mid_channels": F, "roi_op": F, "roi_output_size": F,
    "head_hidden": F, "min_size": F, "max_size": F, "pixel_mean": F, "pixel_std": F, "anchor_stride": F,
    "anchor_scales": F, "anchor_ratios": F,
    "rpn_pos_iou": A, "rpn_neg_iou": A, "rpn_num_samples": A, "rpn_pos_fraction": A, "rpn_allowed_border": A,
    "rpn_positives_per_gt": A,
    "rpn_pre_nms_top_n_train": P, "rpn_post_nms_top_n_train": P, "rpn_pre_nms_top_n_test": P,
    "rpn_post_nms_top_n_test": P, "rpn_nms_thresh": P, "rpn_min_size": P, "rpn_score_thresh": P, "box_weights": P,
    "roi_num_samples": R, "roi_fg_fraction": R, "roi_fg_iou": R, "roi_bg_iou_high": R, "roi_bg_iou_low": R,
    "roi_gt_jitter": R,
    "rpn_smooth_l1_beta": L, "roi_smooth_l1_beta": L,
    "score_thresh": D, "nms_thresh": D, "detections_per_image": D, "class_names": D,
    "box_vote_iou": D,  # issue 25
}

# Every check the old __post_init__ made: (changes, a fragment of the message)
OLD_CHECKS = [
    ({"num_classes": 0}, "num_classes must be >= 1"),
    ({"num_classes": 2, "class_names": ("a",)}, "class_names has 1 names but num_classes is 2"),
    ({"anchor_scales": ()}, "anchor_scales must be one or more positive numbers"),
    ({"anchor_ratios": ()}, "anchor_ratios must be one or more positive numbers"),
    ({"anchor_scales": (8.0, -1.0)}, "anchor_scales must be one or more positive numbers"),
    ({"anchor_ratios": (0.0,)}, "anchor_ratios must be one or more positive numbers"),
    ({"rpn_neg_iou": 0.8, "rpn_pos_iou": 0.7}, "need rpn_neg_iou <= rpn_pos_iou"),
    ({"rpn_neg_iou": -0.1}, "rpn_neg_iou must be in 0..1"),
    ({"rpn_pos_iou": 1.5}, "rpn_pos_iou must be in 0..1"),
    ({"rpn_allowed_border": -1.0}, "rpn_allowed_border must be >= 0 pixels"),
    ({"rpn_positives_per_gt": -1}, "rpn_positives_per_gt must be >= 0"),
    ({"anchor_stride": 0}, "anchor_stride must be >= 1"),
    *[({name: 0}, f"{name} must be >= 1") for name in (
        "rpn_num_samples", "roi_num_samples", "rpn_pre_nms_top_n_train", "rpn_post_nms_top_n_train",
        "rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_test", "detections_per_image")],
    *[({name: value}, f"{name} must be in 0..1") for name in ("rpn_nms_thresh", "rpn_score_thresh", "nms_thresh", "score_thresh") for value in (-0.1, 1.1)],
    ({"rpn_min_size": -1.0}, "rpn_min_size must be >= 0 pixels"),
    ({"roi_gt_jitter": -1}, "roi_gt_jitter must be >= 0"),
    ({"rpn_pos_fraction": 0.0}, "rpn_pos_fraction must be in (0, 1]"),
    ({"roi_fg_fraction": 1.5}, "roi_fg_fraction must be in (0, 1]"),
    ({"roi_op": "max"}, "roi_op must be one of 'pool', 'align', got 'max'"),
    ({"min_size": 16, "max_size": 16}, "min_size must be >= 32"),
    ({"min_size": 600, "max_size": 500}, "need min_size <= max_size"),
]
# values at the edges the old checks accepted
OLD_ACCEPTED = [
    {"rpn_pos_fraction": 1.0, "roi_fg_fraction": 1.0}, {"score_thresh": 0.0, "nms_thresh": 1.0, "rpn_nms_thresh": 0.0},
    {"rpn_positives_per_gt": 0, "roi_gt_jitter": 0, "rpn_allowed_border": 0.0, "rpn_min_size": 0.0},
    {"min_size": 32, "max_size": 32}, {"rpn_neg_iou": 0.5, "rpn_pos_iou": 0.5}, {"roi_op": "align"},
    {"anchor_scales": (1, 2), "rpn_min_size": 4},  # integers pass for floats
]


def test_the_derived_tables_equal_the_hand_written_ones():
    assert INFERENCE_FIELDS == OLD_INFERENCE_FIELDS
    assert set(ANCHOR_ASSIGNMENT_FIELDS) == set(OLD_ANCHOR_ASSIGNMENT_FIELDS) and len(ANCHOR_ASSIGNMENT_FIELDS) == len(OLD_ANCHOR_ASSIGNMENT_FIELDS)
    assert FIELD_STAGES == OLD_FIELD_STAGES
    assert tuple(DetectorConfig().architecture()) == OLD_ARCHITECTURE
    assert frcnn_core.FIELD_STAGES is FIELD_STAGES and frcnn_core.INFERENCE_FIELDS is INFERENCE_FIELDS
    assert frcnn_core.ANCHOR_ASSIGNMENT_FIELDS is ANCHOR_ASSIGNMENT_FIELDS


def test_every_field_is_declared_once_with_its_stage():
    names = [f.name for f in dataclasses.fields(DetectorConfig)]
    assert list(FIELDS) == names and list(FIELD_STAGES) == names
    assert all(isinstance(spec.stage, Stage) for spec in FIELDS.values())
    # the fields a built model keeps are read at build time: their changes restart from the features
    assert all(FIELD_STAGES[name] is Stage.FEATURES for name in BUILD_FIELDS)
    assert not set(BUILD_FIELDS) & set(INFERENCE_FIELDS)
    # what the viewer lets a user tune carries a title and a line of help
    assert all(FIELDS[name].title and FIELDS[name].doc for name in INFERENCE_FIELDS + ANCHOR_ASSIGNMENT_FIELDS)
    assert Role.INFERENCE in FIELDS["score_thresh"].role and "model" in FIELDS["score_thresh"].title.lower()


@pytest.mark.parametrize("changes, message", OLD_CHECKS, ids=[",".join(c) + ":" + m[:20] for c, m in OLD_CHECKS])
def test_every_old_check_still_refuses(changes, message):
    with pytest.raises(ValueError, match="invalid DetectorConfig: .*" + message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        DetectorConfig(**changes)


@pytest.mark.parametrize("changes", OLD_ACCEPTED)
def test_values_the_old_checks_accepted_still_pass(changes):
    assert DetectorConfig(**changes).to_dict().items() >= changes.items()


def test_a_value_of_the_wrong_type_is_named_not_a_type_error():
    with pytest.raises(ValueError, match="score_thresh must be a number, got '0.3'"):
        DetectorConfig().replace(score_thresh="0.3")
    with pytest.raises(ValueError, match="rpn_num_samples must be an integer, got 2.5"):
        DetectorConfig(rpn_num_samples=2.5)
    with pytest.raises(ValueError, match="anchor_scales must be a tuple"):
        DetectorConfig(anchor_scales=[8.0, 16.0])
    with pytest.raises(ValueError, match="unknown DetectorConfig field.*score_threshold; valid: .*score_thresh"):
        DetectorConfig().replace(score_threshold=0.3)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ValueError) as info:
        cpu_config(2, ("a", "b"), nms_thresh=2.0, rpn_num_samples=0)
    assert "nms_thresh must be in 0..1" in str(info.value) and "rpn_num_samples must be >= 1" in str(info.value)

"""StagedTrace: a configuration change re-runs only the stages it affects, and the result
is exactly a fresh ``model.trace`` under the changed configuration."""

import dataclasses

import pytest
import torch

from frcnn_core import DetectorConfig, FasterRCNN, Trace, cpu_config
from frcnn_core.models.reconfigure import reconfigure_to
from frcnn_core.trace.staged import FIELD_STAGES, STAGE_INPUTS, Stage, StagedTrace, earliest_stage, stages_to_rerun

SEED = 7
SPLITTING_SCORE = 0.345  # about half the fixture's detections score above it
ALL = frozenset(Stage)
TARGET_FREE = frozenset({Stage.FEATURES, Stage.PROPOSALS, Stage.HEAD, Stage.DETECTIONS})

# one change per class of field: (changes, stages re-run with a target)
CHANGES = [
    ({"nms_thresh": 0.5}, {Stage.DETECTIONS}),
    ({"score_thresh": SPLITTING_SCORE}, {Stage.DETECTIONS}),
    ({"detections_per_image": 3, "class_names": ("x", "y")}, {Stage.DETECTIONS}),
    ({"rpn_nms_thresh": 0.5}, {Stage.PROPOSALS, Stage.HEAD, Stage.DETECTIONS, Stage.ROI_SAMPLES, Stage.LOSSES}),
    ({"rpn_pre_nms_top_n_test": 150, "rpn_post_nms_top_n_test": 40}, {Stage.PROPOSALS, Stage.HEAD, Stage.DETECTIONS, Stage.ROI_SAMPLES, Stage.LOSSES}),
    ({"rpn_min_size": 12.0}, {Stage.PROPOSALS, Stage.HEAD, Stage.DETECTIONS, Stage.ROI_SAMPLES, Stage.LOSSES}),
    ({"box_weights": (5.0, 5.0, 2.0, 2.0)}, {Stage.PROPOSALS, Stage.HEAD, Stage.DETECTIONS, Stage.ROI_SAMPLES, Stage.LOSSES}),
    ({"rpn_pos_iou": 0.5, "rpn_neg_iou": 0.2}, {Stage.ANCHOR_TARGETS, Stage.ROI_SAMPLES, Stage.LOSSES}),
    ({"rpn_num_samples": 64}, {Stage.ANCHOR_TARGETS, Stage.ROI_SAMPLES, Stage.LOSSES}),
    ({"roi_fg_iou": 0.4, "roi_num_samples": 32, "roi_gt_jitter": 2}, {Stage.ROI_SAMPLES, Stage.LOSSES}),
    ({"roi_smooth_l1_beta": 0.5}, {Stage.LOSSES}),
    ({"min_size": 192, "max_size": 320}, ALL),
    ({"anchor_scales": (2.0, 3.0, 5.0, 8.0)}, ALL),
]


def assert_same_trace(staged: Trace, fresh: Trace) -> None:
    for field in dataclasses.fields(Trace):
        a, b = getattr(staged, field.name), getattr(fresh, field.name)
        if isinstance(a, torch.Tensor):
            assert torch.equal(a, b), field.name
        elif field.name == "detections":
            for key in a.keys():
                assert torch.equal(a[key], b[key]), f"detections.{key}"
        else:
            assert a == b, field.name


@pytest.fixture
def setup(two_box_image):
    image, target = two_box_image
    image = torch.nn.functional.interpolate(image[None], size=(120, 170), mode="bilinear")[0]  # resized by the model
    target = {"boxes": target["boxes"] * torch.tensor([170 / 128, 120 / 128, 170 / 128, 120 / 128]), "labels": target["labels"]}
    torch.manual_seed(0)
    config = cpu_config(2, ("red", "blue"), min_size=160, max_size=256, roi_gt_jitter=1)
    model = FasterRCNN(config).eval()
    with torch.no_grad():  # spread the random scores a little, so thresholds and NMS have choices to make
        model.rpn.objectness.weight.normal_(std=0.05)
        model.roi_head.class_logits.weight.normal_(std=0.1)
    return model, image, target


def fresh_trace(model: FasterRCNN, config: DetectorConfig, image, target) -> Trace:
    reconfigure_to(model, config)
    return model.trace(image, target, generator=torch.Generator().manual_seed(SEED))


class Calls:
    """Counts the trunk's and the head's forward passes."""

    def __init__(self, model):
        self.trunk = self.head = 0
        model.trunk.register_forward_hook(lambda *_: setattr(self, "trunk", self.trunk + 1))
        model.roi_head.register_forward_hook(lambda *_: setattr(self, "head", self.head + 1))


@pytest.mark.parametrize("with_target", [True, False], ids=["target", "no-target"])
@pytest.mark.parametrize("changes, expected", CHANGES, ids=[",".join(c) for c, _ in CHANGES])
def test_a_change_reruns_only_its_stages_and_equals_a_fresh_trace(setup, with_target, changes, expected):
    model, image, target = setup
    target = target if with_target else None
    base = model.config
    staged = StagedTrace(model, image, target, seed=SEED)
    calls = Calls(model)
    first = staged.trace(base)
    assert staged.rerun == (ALL if with_target else TARGET_FREE) and calls.trunk == 1
    assert_same_trace(first, fresh_trace(model, base, image, target))

    calls.trunk = calls.head = 0
    changed = base.replace(**changes)
    staged_result = staged.trace(changed)
    expected = frozenset(expected) if with_target else frozenset(expected) & TARGET_FREE
    assert staged.rerun == expected
    assert calls.trunk == (1 if Stage.FEATURES in expected else 0)
    assert calls.head == (Stage.HEAD in expected) + (Stage.ROI_SAMPLES in expected)
    assert model.config == changed
    assert_same_trace(staged_result, fresh_trace(model, changed, image, target))


def test_a_change_that_alters_the_result_is_seen(setup):
    """The equality above is not vacuous: the changes do change the trace."""
    model, image, target = setup
    staged = StagedTrace(model, image, target, seed=SEED)
    before = staged.trace(model.config.replace(score_thresh=0.0, nms_thresh=0.9))
    fewer = staged.trace(model.config.replace(score_thresh=0.0, nms_thresh=0.1))
    assert len(fewer.detections) < len(before.detections)
    assert 0 < len(staged.trace(model.config.replace(score_thresh=SPLITTING_SCORE)).detections) < len(before.detections)
    proposals = staged.trace(model.config.replace(rpn_post_nms_top_n_test=10)).proposals
    assert proposals.shape[0] == 10 < before.proposals.shape[0]


def test_a_sequence_of_changes_stays_exact(setup):
    model, image, target = setup
    base = model.config
    staged = StagedTrace(model, image, target, seed=SEED)
    steps = [
        {"nms_thresh": 0.6},
        {"nms_thresh": 0.6, "rpn_nms_thresh": 0.4},
        {"nms_thresh": 0.6, "rpn_nms_thresh": 0.4, "rpn_neg_iou": 0.1},
        {"nms_thresh": 0.2, "rpn_nms_thresh": 0.4, "rpn_neg_iou": 0.1, "roi_fg_iou": 0.6},
        {},
    ]
    for changes in steps:
        config = base.replace(**changes)
        assert_same_trace(staged.trace(config), fresh_trace(model, config, image, target))
    again = staged.trace(base)  # the same config again: nothing runs
    assert staged.rerun == frozenset()
    assert_same_trace(again, fresh_trace(model, base, image, target))


def test_the_staged_trace_is_told_of_a_change_made_by_anyone_and_a_mode_change_reruns_everything(setup):
    model, image, _ = setup
    staged = StagedTrace(model, image)
    staged.trace()
    model.reconfigure(nms_thresh=0.45)  # not through the staged trace: the model tells it
    staged.trace()
    assert staged.rerun == {Stage.DETECTIONS}
    staged.trace()
    assert staged.rerun == frozenset()
    model.reconfigure(nms_thresh=0.45)  # the same value: nothing is stale
    staged.trace()
    assert staged.rerun == frozenset()
    model.reconfigure(rpn_nms_thresh=0.6)
    model.reconfigure(score_thresh=0.2)  # two changes between traces: both are run
    staged.trace()
    assert staged.rerun == {Stage.PROPOSALS, Stage.HEAD, Stage.DETECTIONS}
    model.train()
    staged.trace()
    assert staged.rerun == TARGET_FREE


def test_a_failed_stage_leaves_the_next_call_to_run_everything(setup, monkeypatch):
    model, image, target = setup
    staged = StagedTrace(model, image, target, seed=SEED)
    staged.trace()
    monkeypatch.setattr(model, "postprocess", lambda *args: (_ for _ in ()).throw(RuntimeError("out of memory")))
    with pytest.raises(RuntimeError, match="out of memory"):
        staged.trace(model.config.replace(nms_thresh=0.5))
    monkeypatch.undo()
    staged.trace()
    assert staged.rerun == ALL


def test_a_setting_the_built_model_keeps_is_refused_and_nothing_changes(setup):
    model, image, target = setup
    staged = StagedTrace(model, image, target, seed=SEED)
    staged.trace()
    before = model.config
    with pytest.raises(ValueError, match="num_classes cannot change on a built model"):
        staged.trace(model.config.replace(num_classes=1, class_names=("red",)))
    assert model.config is before
    staged.trace()
    assert staged.rerun == frozenset()


def test_every_config_field_has_one_stage():
    assert set(FIELD_STAGES) == {f.name for f in dataclasses.fields(DetectorConfig)}
    assert earliest_stage("nms_thresh") is Stage.DETECTIONS
    with pytest.raises(ValueError, match="unknown DetectorConfig field 'nms_iou'; valid fields: .*nms_thresh"):
        earliest_stage("nms_iou")
    with pytest.raises(ValueError, match="nms_iou"):
        stages_to_rerun(["score_thresh", "nms_iou"])


def test_stage_inputs_come_earlier_in_run_order():
    order = list(Stage)
    assert set(STAGE_INPUTS) == set(Stage)
    for stage, inputs in STAGE_INPUTS.items():
        assert all(order.index(source) < order.index(stage) for source in inputs), stage
    assert stages_to_rerun(["score_thresh"]) == {Stage.DETECTIONS}
    assert stages_to_rerun(["min_size"]) == ALL
    assert stages_to_rerun([]) == frozenset()


def test_the_viewers_field_groups_agree_with_the_stage_table():
    from frcnn_core.config import ANCHOR_ASSIGNMENT_FIELDS, INFERENCE_FIELDS

    # inference fields never need the trunk again, and never the anchor labels
    assert all(FIELD_STAGES[name] in (Stage.PROPOSALS, Stage.HEAD, Stage.DETECTIONS) for name in INFERENCE_FIELDS)
    # the assignment fields change the anchor labels (the input size and the grid: everything)
    assert all(FIELD_STAGES[name] in (Stage.ANCHOR_TARGETS, Stage.FEATURES) for name in ANCHOR_ASSIGNMENT_FIELDS)

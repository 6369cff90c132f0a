"""FasterRCNN.reconfigure: the one way a model's settings change; it validates, applies,
returns the stale stages and tells whoever listens (a staged trace, a trainer)."""

import copy
import gc
import pickle

import pytest
import torch
from data_files import TinyBoxes

from frcnn_core import FasterRCNN, StagedTrace, cpu_config
from frcnn_core.config import BUILD_FIELDS
from frcnn_core.models.reconfigure import ConfigChange, plan_change
from frcnn_core.trace.stages import Stage
from frcnn_core.train import TrainConfig, Trainer


@pytest.fixture
def model():
    torch.manual_seed(0)
    return FasterRCNN(cpu_config(2, ("red", "blue"), min_size=64, max_size=96)).eval()


def test_a_change_is_applied_and_returns_the_stages_it_makes_stale(model):
    assert model.reconfigure(nms_thresh=0.5) == {Stage.DETECTIONS}
    assert model.config.nms_thresh == 0.5
    stale = model.reconfigure(rpn_nms_thresh=0.5, score_thresh=0.2)
    assert stale == {Stage.PROPOSALS, Stage.HEAD, Stage.DETECTIONS, Stage.ROI_SAMPLES, Stage.LOSSES}
    assert model.reconfigure(rpn_pos_iou=0.6) == {Stage.ANCHOR_TARGETS, Stage.ROI_SAMPLES, Stage.LOSSES}
    assert model.reconfigure(min_size=80) == frozenset(Stage)
    assert model.reconfigure(nms_thresh=0.5) == frozenset()  # no value changed
    assert model.reconfigure(anchor_scales=(1.0, 2.0, 3.0, 5.0)) == frozenset(Stage)  # as many anchors per cell


def test_unknown_names_and_bad_values_are_refused_and_leave_the_model_as_it_was(model):
    before = model.config
    with pytest.raises(ValueError, match="unknown DetectorConfig field.*nms_iou; valid: .*nms_thresh"):
        model.reconfigure(nms_iou=0.5)
    with pytest.raises(ValueError, match="score_thresh must be in 0..1, got 1.5"):
        model.reconfigure(score_thresh=1.5, nms_thresh=0.5)
    with pytest.raises(ValueError, match="need rpn_neg_iou <= rpn_pos_iou"):
        model.reconfigure(rpn_neg_iou=0.9)
    assert model.config is before


@pytest.mark.parametrize("changes", [
    {"num_classes": 3, "class_names": ("a", "b", "c")}, {"backbone": "vgg16"}, {"head_hidden": 64},
    {"roi_op": "pool"}, {"rpn_mid_channels": 8}, {"roi_output_size": 5}, {"pretrained_backbone": True}, {"anchor_stride": 8},
])
def test_a_setting_the_built_model_keeps_is_refused(model, changes):
    told = []
    model.reconfigured.connect(told.append)
    with pytest.raises(ValueError, match=f"{next(iter(changes))} cannot change on a built model"):
        model.reconfigure(**changes)
    assert told == [] and all(getattr(model.config, k) != v for k, v in changes.items())


def test_anchor_shapes_must_keep_the_rpn_heads_count(model):
    with pytest.raises(ValueError, match="predicts 12 anchors per cell.*got 2 x 3"):
        model.reconfigure(anchor_scales=(2.0, 4.0))


def test_the_config_cannot_be_assigned_from_outside(model):
    with pytest.raises(AttributeError, match=r"read-only: change settings with model.reconfigure"):
        model.config = model.config.replace(nms_thresh=0.5)


def test_listeners_are_told_each_accepted_change(model):
    told: list[ConfigChange] = []
    model.reconfigured.connect(told.append)
    before = model.config
    model.reconfigure(nms_thresh=0.5, score_thresh=before.score_thresh)
    model.reconfigure(nms_thresh=0.5)  # nothing changed: nobody is told
    assert len(told) == 1
    change = told[0]
    assert change.before is before and change.after is model.config and change.fields == ("nms_thresh",)
    assert change.stale == {Stage.DETECTIONS} and change.describe() == "nms_thresh 0.3 -> 0.5"
    model.reconfigured.disconnect(told.append)
    model.reconfigure(nms_thresh=0.4)
    assert len(told) == 1


def test_a_dropped_staged_trace_stops_listening_and_a_copied_model_has_no_listeners(model):
    staged = StagedTrace(model, torch.rand(3, 64, 80))
    assert len(model.reconfigured) == 1
    assert len(copy.deepcopy(model).reconfigured) == 0
    assert len(pickle.loads(pickle.dumps(model)).reconfigured) == 0
    del staged
    gc.collect()
    assert len(model.reconfigured) == 0
    model.reconfigure(nms_thresh=0.5)  # nobody left to tell: no error


def test_plan_change_validates_without_applying():
    config = cpu_config(2)
    change = plan_change(config, {"anchor_scales": [1.0, 2.0, 3.0, 4.0], "nms_thresh": 0.3}, BUILD_FIELDS)
    assert change.fields == ("anchor_scales",) and change.after.anchor_scales == (1.0, 2.0, 3.0, 4.0)  # a JSON list
    assert change.stale == frozenset(Stage) and config.anchor_scales != change.after.anchor_scales


def test_a_trainer_is_told_and_its_next_step_reports_the_change(tmp_path):
    torch.manual_seed(0)
    model = FasterRCNN(cpu_config(2, TinyBoxes.class_names, min_size=96, max_size=96))
    trainer = Trainer(model, TinyBoxes(), TrainConfig(iterations=3, batch_size=1), device="cpu")
    assert trainer.step().reconfigured == ()
    model.reconfigure(rpn_pos_iou=0.6)
    model.reconfigure(roi_fg_iou=0.6, rpn_pos_iou=0.65)
    step = trainer.step()
    assert step.reconfigured == ("rpn_pos_iou", "roi_fg_iou")
    assert trainer.step().reconfigured == ()

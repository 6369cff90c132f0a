"""The viewer's diagnosis without Qt: the document's verdicts, the list filter, the overlay, the curves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from frcnn_core import Detections, FasterRCNN
from frcnn_core.evaluation.confusion import confusion_matrix
from frcnn_core.evaluation.diagnose import FalsePositiveType, Stage, diagnose_trace, error_costs
from frcnn_core.evaluation.metrics import evaluate_voc
from frcnn_viewer.state.curves import evaluation_curves
from frcnn_viewer.state.diagnosis import DiagnosisSettings, in_original_pixels
from frcnn_viewer.state.document import Change, Document
from frcnn_viewer.state.models import ModelInfo, untrained_config
from frcnn_viewer.state.overlays import build_overlay
from frcnn_viewer.state.results import ImageResult

from .conftest import BOXES, CLASSES
from .fakes import memory_source

RED, BLUE = 1, 2


def detections(boxes, scores, labels, num_classes: int = 2) -> Detections:
    n = len(boxes)
    return Detections(
        torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), torch.tensor(scores, dtype=torch.float32), torch.tensor(labels, dtype=torch.int64),
        torch.full((n, num_classes + 1), 1.0 / (num_classes + 1)), torch.zeros(n, dtype=torch.int64), torch.zeros(n, 4),
    )


def forced_trace(doc: Document, det: Detections):
    """A trace of the current image whose proposals are the GT boxes themselves (so no box is
    lost before the head) and whose detections are ``det``."""
    torch.manual_seed(0)
    trace = FasterRCNN(doc.model.config).eval().trace(doc.image.tensor)
    gt = torch.tensor(BOXES)
    return dataclasses.replace(trace, pre_nms_boxes=gt, pre_nms_scores=torch.ones(2), proposals=gt, proposal_scores=torch.ones(2), detections=det)


@pytest.fixture
def doc():
    document = Document()
    document.add_sources([memory_source(3)])
    document.set_model(ModelInfo(untrained_config(document.class_names)))
    assert document.set_index(0)
    return document


def test_the_verdict_follows_a_gt_edit_and_the_settings(doc):
    # a "blue" detection on the red square: the square was found as another class, the
    # detection is a class error; the blue bar never got a detection (lost in the head)
    trace = forced_trace(doc, detections([BOXES[0]], [0.9], [BLUE]))
    assert doc.show_trace(0, trace, doc.image)
    assert [g.stage for g in doc.diagnosis.gt] == [Stage.CLASS, Stage.HEAD]
    assert [f.type for f in doc.diagnosis.false_positives] == [FalsePositiveType.CLASSIFICATION]
    events = []
    doc.changed.connect(events.append)
    doc.set_ground_truth(np.array(BOXES), ["blue", "blue"], np.zeros(2, bool))  # the square was blue after all
    assert Change.DIAGNOSIS in events[-1]
    assert [g.stage for g in doc.diagnosis.gt] == [Stage.DETECTED, Stage.HEAD] and doc.diagnosis.false_positives == []
    # the same as the core given the same trace and GT
    expected = diagnose_trace(trace, {"boxes": torch.tensor(BOXES), "labels": torch.tensor([BLUE, BLUE])}, 0.5, 0.5)
    assert [g.stage for g in expected.gt] == [g.stage for g in doc.diagnosis.gt]
    # a score threshold above the detection's score: now the score is too low
    assert doc.set_diagnosis_settings(score_threshold=0.95)
    assert doc.diagnosis.gt[0].stage is Stage.SCORE and doc.diagnosis.score_threshold == 0.95
    assert not doc.set_diagnosis_settings(iou=1.5) and doc.diagnosis_settings.iou == 0.5
    assert "IoU" in doc.messages[-1].text


def test_the_overlay_labels_misses_with_their_stage_and_false_positives_with_their_type(doc):
    doc.show_trace(0, forced_trace(doc, detections([BOXES[0], [100.0, 2.0, 150.0, 30.0]], [0.9, 0.8], [BLUE, RED])), doc.image)
    overlay = build_overlay(doc.layers["diagnosis"], doc)
    texts = [label.text for label in overlay.labels]
    assert Stage.CLASS.description in texts and Stage.HEAD.description in texts
    assert f"FP: {FalsePositiveType.CLASSIFICATION.description}" in texts and f"FP: {FalsePositiveType.BACKGROUND.description}" in texts
    np.testing.assert_allclose(overlay.group("missed").boxes, BOXES)
    assert len(overlay.group("false_positive").boxes) == 2
    # the detections layer leaves the "missed" labels to the diagnosis layer
    assert "missed" not in [label.text for label in build_overlay(doc.layers["detections"], doc).labels]
    doc.layers["diagnosis"].set_visible(False)
    assert "missed" in [label.text for label in build_overlay(doc.layers["detections"], doc).labels]
    assert doc.describe_diagnosis(50, 40) is None  # hidden layer: no hover text
    doc.layers["diagnosis"].set_visible(True)
    text = doc.describe_diagnosis(50, 40)  # inside the red square and the detection on it: the GT box
    assert text.startswith("GT red: found as another class") and "proposal 1.00" in text and "detection 1.00" in text


def result_with(diagnosis) -> ImageResult:
    return ImageResult(detections([], [], []), (1.0, 1.0), None, target=None, diagnosis=diagnosis)


def test_a_stage_filters_the_list_to_the_images_holding_one_the_most_first(doc):
    made = {}
    for index, dets in ((0, [BOXES[0]]), (1, []), (2, [BOXES[0], BOXES[1]])):
        doc.set_index(index)
        trace = forced_trace(doc, detections(dets, [0.9] * len(dets), [BLUE] * len(dets)))
        made[index] = diagnose_trace(trace, {"boxes": torch.tensor(BOXES), "labels": torch.tensor([RED, BLUE])})
    doc.set_results(doc.results_key, {i: result_with(d) for i, d in made.items()})
    # image 1 lost both boxes in the head, image 0 one; image 2 none
    assert doc.ranked("order") == [0, 1, 2]
    doc.set_list_filter(Stage.HEAD)
    assert doc.ranked("order") == [1, 0] and doc.ranked("missed") == [1, 0]
    doc.set_list_filter(Stage.CLASS)
    assert doc.ranked("order") == [0, 2]  # a blue detection on the red square: found as another class
    doc.set_list_filter(FalsePositiveType.CLASSIFICATION)  # another filter than Stage.CLASS
    assert doc.list_filter is FalsePositiveType.CLASSIFICATION and doc.ranked("order") == [0, 2]
    doc.set_list_filter(None)
    assert doc.ranked("order") == [0, 1, 2]
    summary = doc.diagnosis_summary()
    assert summary.images == 3 and summary.stages[Stage.HEAD] == 3 and summary.stages[Stage.DETECTED] == 1
    # other settings: the list's verdicts are stale, counted nowhere until diagnosed again
    doc.set_diagnosis_settings(iou=0.7)
    assert doc.stale_diagnoses() == [0, 1, 2] and doc.diagnosis_summary().images == 0


def test_boxes_go_back_to_the_files_pixels():
    doc = Document()
    doc.add_sources([memory_source(1)])
    doc.set_model(ModelInfo(untrained_config(doc.class_names)))
    doc.set_index(0)
    diagnosis = diagnose_trace(forced_trace(doc, detections([[10, 10, 50, 50]], [0.9], [RED])), {"boxes": torch.tensor(BOXES), "labels": torch.tensor([RED, BLUE])})
    scaled = in_original_pixels(diagnosis, (0.5, 0.25))
    assert scaled.gt[0].box == pytest.approx((40.0, 64.0, 152.0, 288.0)) and scaled.false_positives[0].box == pytest.approx((20, 40, 100, 200))
    assert scaled.gt[0].best_anchor_iou == diagnosis.gt[0].best_anchor_iou


def test_settings_are_checked():
    with pytest.raises(ValueError, match="IoU"):
        DiagnosisSettings(iou=0.0)
    with pytest.raises(ValueError, match="score"):
        DiagnosisSettings(score_threshold=-0.1)


def test_curves_are_the_cores_voc_pr_curves_and_confusion_matrix():
    target = {"boxes": np.array(BOXES, np.float32), "labels": np.array([RED, BLUE]), "difficult": np.zeros(2, bool)}
    # image 0: both found; image 1: the bar found as red, plus a background false positive
    dets = [detections(BOXES, [0.9, 0.8], [RED, BLUE]), detections([BOXES[1], [0, 0, 10, 10]], [0.7, 0.6], [RED, RED])]
    results = {i: ImageResult(d, (1.0, 1.0), None, target=target) for i, d in enumerate(dets)}
    results[2] = ImageResult(detections([[0, 0, 5, 5]], [0.9], [RED]), (1.0, 1.0), None, target=None)  # no GT: left out
    curves = evaluation_curves(results, CLASSES, 0.5, 0.5)
    assert curves.images == 2
    plain = [{"boxes": d.boxes.numpy(), "scores": d.scores.numpy(), "labels": d.labels.numpy()} for d in dets]
    voc = evaluate_voc(plain, [target, target], 2, iou_threshold=0.5)
    assert [c.ap for c in curves.curves] == [voc["per_class_ap"][1], voc["per_class_ap"][2]]
    assert curves.curves[1].ap == pytest.approx(0.5) and curves.curves[1].num_gt == 2
    np.testing.assert_array_equal(curves.confusion, confusion_matrix(plain, [target, target], 2, 0.5, 0.5))
    # rows truth, columns prediction, background first: red found once and missed once, blue found
    # once and once as red, one background false positive predicted red
    np.testing.assert_array_equal(curves.confusion, [[0, 1, 0], [1, 1, 0], [0, 1, 1]])


def test_error_costs_are_asked_for_once_per_change_of_the_diagnosed_list(doc):
    made = {}
    for index, dets in ((0, [BOXES[0]]), (1, [])):
        doc.set_index(index)
        made[index] = diagnose_trace(forced_trace(doc, detections(dets, [0.9] * len(dets), [BLUE] * len(dets))), {"boxes": torch.tensor(BOXES), "labels": torch.tensor([RED, BLUE])})
    doc.set_results(doc.results_key, {i: result_with(d) for i, d in made.items()})
    key, diagnoses = doc.costs_request()
    assert diagnoses == [made[0], made[1]] and doc.costs_request() is None  # asked once
    assert not doc.costs_current()
    events = []
    doc.changed.connect(events.append)
    costs = error_costs(diagnoses)
    assert not doc.set_costs(key - 1, costs) and doc.set_costs(key, costs)
    assert events[-1] == {Change.COSTS} and doc.costs_current()
    # the current image traced again by the worker: the same verdicts, the costs stay
    doc.set_index(0)
    assert doc.set_trace(doc.trace_request().key, forced_trace(doc, detections([BOXES[0]], [0.9], [BLUE])))
    assert doc.results[0].diagnosis is made[0] and doc.costs_request() is None and doc.costs_current()
    # a GT edit changes a verdict: the costs are stale until asked for again
    doc.set_ground_truth(np.array(BOXES), ["blue", "blue"], np.zeros(2, bool))
    assert doc.results[0].diagnosis is doc.diagnosis and not doc.costs_current()
    key, diagnoses = doc.costs_request()
    assert diagnoses[0] is doc.diagnosis
    doc.set_costs(key, error_costs(diagnoses))
    assert doc.costs.stages[Stage.CLASS] == 0.0 and doc.diagnosis_report()["dap"] == doc.costs.as_json()
    # new settings: only the current image is diagnosed at them (at once), the others are stale
    doc.set_diagnosis_settings(iou=0.7)
    assert doc.costs_request()[1] == [doc.diagnosis] and not doc.costs_current()
    # a new model: nothing diagnosed, no costs, nothing to ask
    doc.set_model(ModelInfo(untrained_config(doc.class_names)))
    assert doc.costs_request() is None and doc.costs is None

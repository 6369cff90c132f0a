"""frcnn_viewer.state.document: the plain state behind the window, without Qt."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from frcnn_core import FasterRCNN
from frcnn_core.evaluation.metrics import match_image
from frcnn_viewer.state.document import Change, Document
from frcnn_viewer.state.models import ModelInfo, class_mismatch, untrained_config
from frcnn_viewer.state.results import ImageResult

from .conftest import BOXES, CLASSES
from .fakes import memory_source


@pytest.fixture
def doc():
    document = Document()
    document.add_sources([memory_source(3, broken=2)])
    document.set_model(ModelInfo(untrained_config(document.class_names)))
    assert document.set_index(0)
    return document


def traced(doc: Document):
    torch.manual_seed(0)
    model = FasterRCNN(doc.model.config).eval()
    request = doc.trace_request()
    assert doc.set_trace(request.key, model.trace(request.image, request.target))
    return doc.trace


def test_opening_relabels_anchors_and_counts(doc):
    assert doc.class_names == CLASSES
    assert doc.image.size == (120, 160) and len(doc.image.gt_boxes) == 2
    counts = doc.counts()
    assert counts["anchors"] == len(doc.anchor_state.anchors) and counts["gt_boxes"] == 2
    assert "gt_without_positive" in counts and "proposals" not in counts


def test_a_broken_image_is_reported_and_nothing_else_changes(doc):
    events = []
    doc.changed.connect(events.append)
    assert not doc.set_index(2)
    assert doc.index == 0 and events == []
    assert doc.messages[-1].level == "error" and "truncated" in doc.messages[-1].text
    assert doc.step(1) and doc.index == 1
    assert not doc.step(1) and doc.index == 1  # the broken last image is skipped with a message


def test_parameter_changes_announce_and_validate(doc):
    events = []
    doc.changed.connect(events.append)
    before = doc.counts()["candidate_positive"]
    assert doc.set_parameters(rpn_pos_iou=0.3)
    assert Change.ANCHORS in events[-1] and doc.counts()["candidate_positive"] > before
    assert not doc.set_parameters(rpn_num_samples=0)
    assert doc.parameters.rpn_num_samples == 256 and "rpn_num_samples must be >= 1" in doc.messages[-1].text
    assert not doc.set_parameters(rpn_nms_thresh=2.0)
    assert doc.set_parameters(rpn_post_nms_top_n_test=5) and doc.trace_request().config_changes["rpn_post_nms_top_n_test"] == 5


def test_stale_traces_are_ignored(doc):
    request = doc.trace_request()
    doc.set_parameters(rpn_post_nms_top_n_test=5)  # a newer request supersedes it
    torch.manual_seed(0)
    trace = FasterRCNN(doc.model.config).eval().trace(request.image, request.target)
    assert not doc.set_trace(request.key, trace) and doc.trace is None


def test_click_selects_a_detection_else_a_feature_cell(doc):
    trace = traced(doc)
    doc.layers["detections"].set_option("score_threshold", 0.0)
    box = trace.detections.boxes[0].tolist()
    doc.click((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    assert doc.selected_detection is not None
    p = doc.provenance()
    assert p.anchor == int(trace.proposal_anchor_index[p.proposal]) and len(p.class_scores) == len(CLASSES) + 1
    assert p.box_vote_iou == doc.model.config.box_vote_iou
    doc.layers["detections"].set_visible(False)
    doc.click(5, 5)
    assert doc.selected_detection is None and doc.selected_cell == (0, 0)


def test_trace_matching_and_hover_text(doc):
    trace = traced(doc)
    assert doc.matching is not None and len(doc.matching.scores) == len(trace.detections)
    doc.layers["anchor_labels"].set_visible(True)
    positive = int(np.nonzero(doc.anchor_state.labels == 1)[0][0])
    x1, y1, x2, y2 = doc.anchor_state.anchors[positive]
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    anchor = doc.hovered_anchor(cx, cy)
    assert anchor is not None and doc.anchor_state.labels[anchor] == 1
    text = doc.describe_point(cx, cy)
    assert "positive anchor" in text and "IoU" in text and "dw" in text


def test_ranking_by_errors_puts_the_worst_first(doc):
    gt = np.array(BOXES, np.float32)
    labels = np.array([1, 2])

    def result(boxes, scores, dlabels):
        det = type("D", (), {})()
        det.scores = torch.tensor(scores)
        return ImageResult(det, (1.0, 1.0), match_image(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores), np.array(dlabels), gt, labels))

    doc.set_results(doc.results_key, {
        0: result(BOXES, [0.9, 0.9], [1, 2]),  # perfect
        1: result([[0, 0, 5, 5]], [0.9], [1]),  # one false positive, both missed
    })
    doc.layers["detections"].set_option("score_threshold", 0.5)
    assert doc.ranked("missed") == [1, 0, 2]
    assert doc.ranked("false_positives") == [1, 0, 2]
    assert doc.ranked("ap") == [1, 0, 2]
    assert doc.ranked("order") == [0, 1, 2]
    assert not doc.set_results(doc.results_key - 1, {2: result(BOXES, [0.9, 0.9], [1, 2])})  # stale
    assert 2 not in doc.results


def test_class_mismatch_names_the_missing_classes():
    config = untrained_config(("cat", "dog"))
    assert class_mismatch(config, ()) is None
    assert class_mismatch(config, ("dog",)) is None
    assert "does not know red" in class_mismatch(config, ("red", "dog"))


def test_set_ground_truth_relabels_the_anchors_at_once(doc):
    events = []
    doc.changed.connect(events.append)
    before = doc.anchor_state
    doc.set_ground_truth(np.array([[60.0, 40.0, 64.0, 44.0]]), ["red"], np.array([False]))
    assert events == [frozenset({Change.ANCHORS})] and doc.anchor_state is not before
    np.testing.assert_allclose(doc.anchor_state.gt_boxes, [[60, 40, 64, 44]])
    assert doc.image.gt_names == ["red"] and doc.counts()["gt_without_positive"] == 1  # far smaller than any anchor
    doc.set_ground_truth(np.zeros((0, 4)), [], np.zeros(0, bool))
    assert doc.counts()["gt_boxes"] == 0 and doc.image.annotated


def test_a_trace_shown_from_outside_asks_the_worker_for_nothing(doc):
    torch.manual_seed(0)
    model = FasterRCNN(doc.model.config).train()
    pending = doc.trace_request()
    step_trace = model.trace(doc.image.tensor)
    requests = []
    doc.changed.connect(lambda aspects: requests.append(doc.trace_request()))
    assert doc.show_trace(1, step_trace, doc.image)
    assert requests == [None] and doc.trace is step_trace
    worker_trace = FasterRCNN(doc.model.config).eval().trace(pending.image, pending.target)
    assert not doc.set_trace(pending.key, worker_trace) and doc.trace is step_trace  # the older answer is dropped
    assert doc.set_parameters(rpn_post_nms_top_n_test=5) and doc.trace_request() is not None
    assert doc.set_index(0) and doc.trace_request() is not None


def test_parameters_take_detector_config_names_and_an_unknown_one_lists_the_valid_ones(doc):
    with pytest.raises(ValueError, match="unknown DetectorConfig field.*nms_iou.*valid: .*nms_thresh"):
        doc.set_parameters(nms_iou=0.5)
    with pytest.raises(ValueError, match="backbone cannot be changed in the viewer; adjustable: .*rpn_nms_thresh"):
        doc.set_parameters(backbone="vgg16")
    # the RPN's NMS and the detection NMS are two fields with their own names
    assert doc.set_parameters(rpn_nms_thresh=0.6, nms_thresh=0.4)
    assert doc.inference_changes()["rpn_nms_thresh"] == 0.6 and doc.inference_changes()["nms_thresh"] == 0.4

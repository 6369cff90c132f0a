"""frcnn_viewer.state.overlays: what each layer draws, as arrays (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from frcnn_core import FasterRCNN
from frcnn_viewer.state.document import Document
from frcnn_viewer.state.layer_registry import LAYER_SPECS
from frcnn_viewer.state.models import ModelInfo, untrained_config
from frcnn_viewer.state.overlays import build_overlay

from .fakes import memory_source


@pytest.fixture
def doc():
    document = Document()
    document.add_sources([memory_source(1)])
    document.set_model(ModelInfo(untrained_config(document.class_names)))
    document.set_index(0)
    torch.manual_seed(0)
    request = document.trace_request()
    document.set_trace(request.key, FasterRCNN(document.model.config).eval().trace(request.image, request.target))
    return document


def overlay(doc, name):
    return build_overlay(doc.layers[name], doc)


def test_every_layer_has_a_builder_and_dependencies(doc):
    assert [spec.name for spec in LAYER_SPECS] == [layer.name for layer in doc.layers]
    for layer in doc.layers:
        overlay(doc, layer.name)


def test_anchor_subsets_and_shape_filters(doc):
    state = doc.anchor_state
    layer = doc.layers["anchors"]
    layer.set_option("subset", "all")
    assert len(overlay(doc, "anchors").group("anchors").boxes) == len(state.anchors)
    layer.set_option("subset", "inside")
    assert len(overlay(doc, "anchors").group("anchors").boxes) == state.inside.sum()
    layer.set_option("hidden_scales", (doc.parameters.anchor_scales[0],))
    layer.set_option("hidden_ratios", (doc.parameters.anchor_ratios[0],))
    kept = state.inside & (state.geometry.scale_index() != 0) & (state.geometry.ratio_index() != 0)
    np.testing.assert_array_equal(overlay(doc, "anchors").group("anchors").boxes, state.anchors[kept])
    layer.set_option("subset", "cell")
    assert len(overlay(doc, "anchors").group("anchors").boxes) == 0  # no cell picked yet
    doc.select_cell(2, 3)
    drawn = overlay(doc, "anchors")
    assert drawn.group("cell") is not None and len(drawn.segments[0].segments) == sum(state.geometry.feature_size) + 2


def test_anchor_labels_sampled_or_candidates_with_links(doc):
    state = doc.anchor_state
    drawn = overlay(doc, "anchor_labels")
    assert len(drawn.group("positive").boxes) == (state.labels == 1).sum()
    assert len(drawn.group("negative").boxes) == (state.labels == 0).sum()
    assert drawn.group("ignored") is None
    assert len(drawn.segments[0].segments) == (state.labels == 1).sum()
    doc.layers["anchor_labels"].set_option("sampled", False)
    assert len(overlay(doc, "anchor_labels").group("negative").boxes) == (state.candidate_labels == 0).sum()


def test_proposals_top_k_and_stages(doc):
    layer = doc.layers["proposals"]
    layer.set_option("top_k", 10)
    assert overlay(doc, "proposals").num_boxes() == 10
    layer.set_option("stage", "pre_nms")
    layer.set_option("top_k", 10**6)
    assert overlay(doc, "proposals").num_boxes() == len(doc.trace.pre_nms_boxes)


def test_detections_threshold_states_and_missed_gt(doc):
    layer = doc.layers["detections"]
    layer.set_option("score_threshold", 0.0)
    drawn = overlay(doc, "detections")
    states = sum(len(drawn.group(k).boxes) for k in ("true_positive", "false_positive", "difficult"))
    assert states == len(doc.trace.detections)
    layer.set_option("score_threshold", 1.0)
    drawn = overlay(doc, "detections")
    assert len(drawn.group("missed").boxes) == 2 and drawn.num_boxes() == 2


def test_ground_truth_flags_boxes_without_a_positive_anchor(doc):
    doc.set_parameters(rpn_pos_iou=0.99)
    drawn = overlay(doc, "ground_truth")
    assert len(drawn.group("uncovered").boxes) == len(doc.anchor_state.gt_without_positive()) == 2
    assert all("no positive anchor" in label.text for label in drawn.labels)


def test_objectness_heatmap_covers_the_feature_grid(doc):
    heat = overlay(doc, "objectness").heatmap
    assert heat.rgba.shape == (*doc.trace.feature_size, 4)
    np.testing.assert_allclose(heat.rgba[..., 3] / 255, doc.trace.objectness_map().numpy(), atol=1 / 255 + 1e-6)

"""Every layer on a torchvision Faster R-CNN's multi-level trace (Qt-free): the level choice of
the anchors, anchor-labels and objectness layers, cells per level, provenance to the level,
and the parameters such a model takes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from frcnn_core import FeatureLevel
from frcnn_core.models.torchvision_frcnn import TorchvisionFasterRCNN
from frcnn_viewer.state.changes import Change
from frcnn_viewer.state.document import Document
from frcnn_viewer.state.levels import ALL_LEVELS, finest_grid, level_choices
from frcnn_viewer.state.models import ModelInfo
from frcnn_viewer.state.overlays import build_overlay

from .fakes import memory_source

ARCH = "fasterrcnn_mobilenet_v3_large_320_fpn"


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return TorchvisionFasterRCNN.build(ARCH, 2, ("red", "blue"), min_size=128, max_size=160).eval()


def trace_for(doc: Document, model: TorchvisionFasterRCNN) -> None:
    """Answer the document's trace request as the inference worker does."""
    request = doc.trace_request()
    model.reconfigure(**request.config_changes)
    assert doc.set_trace(request.key, model.trace(request.image, request.target, generator=torch.Generator().manual_seed(0)))


@pytest.fixture
def doc(model):
    document = Document()
    document.add_sources([memory_source(1)])
    document.set_model(ModelInfo(model.config, "tv.pth", model.arch.value, (), model.fixed_fields))
    document.set_index(0)
    assert document.anchor_state is None and document.level_grids() == []  # its anchors come with its trace
    trace_for(document, model)
    return document


def overlay(doc, name):
    return build_overlay(doc.layers[name], doc)


def test_the_levels_are_the_traces_and_every_layer_draws(doc):
    trace = doc.trace
    assert doc.feature_levels() == trace.levels and [lv.name for lv in trace.levels] == ["0", "1", "pool"]
    assert [value for value, _ in level_choices(doc.feature_levels())] == [ALL_LEVELS, "0", "1", "pool"]
    for layer in doc.layers:
        overlay(doc, layer.name)
    assert doc.counts()["anchors"] == len(trace.anchors) and doc.counts()["proposals"] == len(trace.proposals)


def test_anchors_of_one_level_are_that_levels_rows(doc):
    trace, layer = doc.trace, doc.layers["anchors"]
    layer.set_option("subset", "all")
    assert len(overlay(doc, "anchors").group("anchors").boxes) == len(trace.anchors)
    for index, rows in enumerate(trace.level_slices()):
        layer.set_option("level", trace.levels[index].name)
        np.testing.assert_array_equal(overlay(doc, "anchors").group("anchors").boxes, trace.anchors[rows].numpy())
    layer.set_option("level", "P9")  # a level this model does not have: every level is drawn
    assert len(overlay(doc, "anchors").group("anchors").boxes) == len(trace.anchors)
    with pytest.raises(ValueError, match="option level must be a name"):
        layer.set_option("level", 2)


def test_hidden_scales_are_anchor_sides_over_the_levels_stride(doc):
    trace, layer = doc.trace, doc.layers["anchors"]
    layer.set_option("subset", "all")
    layer.set_option("level", "pool")  # stride 64: sizes 32..512 are scales 0.5..8
    layer.set_option("hidden_scales", (0.5, 8.0))
    boxes = overlay(doc, "anchors").group("anchors").boxes
    sides = np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])) * trace.scale[0]  # input pixels
    assert len(boxes) == trace.levels[2].num_anchors * 3 // 5
    assert np.unique(np.round(sides / 32) * 32).tolist() == [64, 128, 256]  # torchvision rounds its anchors


def test_a_picked_point_shows_the_cell_of_each_level(doc):
    trace, layer = doc.trace, doc.layers["anchors"]
    layer.set_option("subset", "cell")
    doc.click(70.0, 50.0)
    assert doc.selected_point == (70.0, 50.0)
    assert "cells 0 (" in doc.describe_point(70.0, 50.0) and " pool (" in doc.describe_point(70.0, 50.0)
    drawn = overlay(doc, "anchors")
    assert len(drawn.group("anchors").boxes) == sum(level.anchors_per_cell for level in trace.levels)
    assert len(drawn.group("cell").boxes) == 3 and not drawn.segments  # a grid only for one level
    layer.set_option("level", "pool")
    drawn = overlay(doc, "anchors")
    pool = doc.level_grids()[2]
    cell = pool.geometry.cell_at(70.0, 50.0)
    rows = pool.rows.start + pool.geometry.cell_anchor_indices(*cell)
    np.testing.assert_array_equal(drawn.group("anchors").boxes, trace.anchors[rows].numpy())
    assert len(drawn.segments[0].segments) == sum(pool.level.feature_size) + 2


def test_anchor_labels_are_torchvisions_per_level(doc):
    trace, layer = doc.trace, doc.layers["anchor_labels"]
    assert doc.anchor_state is not None  # the image has GT: the trace's own labels
    for name, rows in zip(["0", "1", "pool"], trace.level_slices()):
        layer.set_option("level", name)
        drawn = overlay(doc, "anchor_labels")
        assert len(drawn.group("positive").boxes) == int((trace.anchor_labels[rows] == 1).sum())
        assert len(drawn.group("negative").boxes) == int((trace.anchor_labels[rows] == 0).sum())
    layer.set_option("level", ALL_LEVELS)
    assert len(overlay(doc, "anchor_labels").group("positive").boxes) == int((trace.anchor_labels == 1).sum()) > 0


def test_objectness_of_one_level_or_the_highest_of_all_on_the_finest_grid(doc):
    trace, layer = doc.trace, doc.layers["objectness"]
    layer.set_option("level", "pool")
    heat = overlay(doc, "objectness").heatmap
    expected = np.round(trace.objectness_map(2).numpy() * 255).astype(np.uint8)
    np.testing.assert_array_equal(heat.rgba[..., 3], expected)
    assert heat.rect[2] == pytest.approx(trace.levels[2].feature_size[1] * 64 / trace.scale[0])
    layer.set_option("level", ALL_LEVELS)
    heat = overlay(doc, "objectness").heatmap
    maps = [trace.objectness_map(i).numpy() for i in range(3)]
    assert heat.rgba.shape[:2] == maps[0].shape
    pool_cell = maps[2][0, 0]  # covers the finest grid's cells (0..1, 0..1)
    assert heat.rgba[0, 0, 3] == np.round(max(maps[0][0, 0], maps[1][0, 0], pool_cell) * 255)


def test_finest_grid_takes_the_highest_value_of_the_covering_cells():
    fine = FeatureLevel("a", 4, (4, 4), (16.0,), (1.0,), 16)
    coarse = FeatureLevel("b", 8, (2, 2), (32.0,), (1.0,), 4)
    values, stride = finest_grid([fine, coarse], [np.zeros((4, 4)), np.array([[0.0, 1.0], [0.5, 0.0]])])
    assert stride == 4
    np.testing.assert_array_equal(values, [[0, 0, 1, 1], [0, 0, 1, 1], [0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0]])


def test_resnet_fpn_levels_are_offered_as_p2_to_p6():
    levels = [FeatureLevel(name, 2 ** (k + 2), (1, 1), (32.0,), (1.0,), 3) for k, name in enumerate(["0", "1", "2", "3", "pool"])]
    titles = [title for _, title in level_choices(levels)]
    assert titles == ["All levels", "P2 ('0', stride 4)", "P3 ('1', stride 8)", "P4 ('2', stride 16)", "P5 ('3', stride 32)", "P6 ('pool', stride 64)"]


def test_provenance_follows_a_detection_to_its_anchors_level(doc):
    trace = doc.trace
    assert len(trace.detections)
    for index in range(min(len(trace.detections), 20)):
        p = doc.provenance(index)
        level = int(trace.level_of_anchor(torch.tensor([p.anchor]))[0])
        assert p.anchor_level == trace.levels[level].name
        assert p.anchor_box == trace.anchors[p.anchor].tolist()
        local = p.anchor - trace.level_slices()[level].start
        info = trace.levels[level]
        assert p.anchor_cell == divmod(local // info.anchors_per_cell, info.feature_size[1])
        assert p.anchor_shape[0] * info.stride in info.sizes and p.anchor_shape[1] in info.aspect_ratios


def test_its_settings_are_changed_by_running_it_again(doc, model):
    assert "anchor_scales" not in doc.adjustable_fields() and "rpn_pos_iou" in doc.adjustable_fields()
    with pytest.raises(ValueError, match="anchor_scales cannot be changed"):
        doc.set_parameters(anchor_scales=(1.0,))
    seen = []
    doc.changed.connect(seen.append)
    assert doc.set_parameters(rpn_pos_iou=0.6, rpn_post_nms_top_n_test=20)
    assert Change.PROPOSALS in seen[-1]
    changes = doc.trace_request().config_changes
    assert changes["rpn_pos_iou"] == 0.6 and changes["rpn_post_nms_top_n_test"] == 20 and changes["min_size"] == 128
    trace_for(doc, model)
    assert len(doc.trace.proposals) <= 20 and model.rpn.proposal_matcher.high_threshold == 0.6


def test_a_gt_edit_asks_for_its_labels_again(doc):
    seen = []
    doc.changed.connect(seen.append)
    key = doc.trace_request()
    doc.set_ground_truth(doc.image.gt_boxes[:1], doc.image.gt_names[:1], doc.image.difficult[:1])
    assert Change.PROPOSALS in seen[-1]
    request = doc.trace_request()
    assert request is not None and request.target["boxes"].shape[0] == 1 and (key is None or request.key > key.key)

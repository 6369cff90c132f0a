"""frcnn_core.anchors.assignment: labelling without a model gives exactly what the model's trace gives."""

import numpy as np
import pytest
import torch

from frcnn_core import POSITIVE, DetectorConfig, FasterRCNN, assign_anchors, cpu_config, model_geometry

GT = np.array([[10.0, 20.0, 80.0, 90.0], [100.0, 50.0, 200.0, 150.0]], np.float32)


@pytest.mark.parametrize("allowed_border", [0.0, 1e4])
def test_same_anchors_and_labels_as_the_models_trace(allowed_border):
    config = cpu_config(2, ("a", "b"), rpn_allowed_border=allowed_border)
    torch.manual_seed(0)
    target = {"boxes": torch.from_numpy(GT), "labels": torch.tensor([1, 2])}
    trace = FasterRCNN(config).eval().trace(torch.rand(3, 200, 300), target, generator=torch.Generator().manual_seed(5))
    state = assign_anchors((200, 300), GT, config, torch.Generator().manual_seed(5))
    assert state.geometry == trace.geometry
    np.testing.assert_allclose(state.anchors, trace.anchors.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(state.inside, trace.inside.numpy())
    np.testing.assert_array_equal(state.candidate_labels, trace.anchor_candidate_labels.numpy())
    np.testing.assert_array_equal(state.labels, trace.anchor_labels.numpy())  # the same sample, too
    np.testing.assert_allclose(state.max_iou, trace.anchor_max_iou.numpy(), atol=1e-6)
    assert state.gt_without_positive() == trace.gt_without_positive() == trace.anchor_assignment().gt_without_positive()
    assert state.counts() == trace.anchor_assignment().counts()
    assert state.geometry.cell_at(150, 100) == trace.cell_at(150, 100)
    cell = state.geometry.cell_at(150, 100)
    np.testing.assert_array_equal(state.geometry.cell_anchor_indices(*cell), trace.cell_anchor_indices(*cell).numpy())


@pytest.mark.parametrize("backbone, size", [("small", (200, 300)), ("small", (97, 131)), ("resnet18", (70, 90))])
def test_the_grid_is_the_one_the_trunk_produces(backbone, size):
    config = cpu_config(1, backbone=backbone, min_size=64, max_size=200)
    trace = FasterRCNN(config).eval().trace(torch.rand(3, *size))
    assert model_geometry(size, config).feature_size == trace.feature_size


def test_gt_without_positive_uses_the_configured_threshold():
    config = cpu_config(2, ("a", "b"), rpn_pos_iou=0.99, rpn_neg_iou=0.3)
    trace = FasterRCNN(config).eval().trace(torch.rand(3, 200, 300), {"boxes": torch.from_numpy(GT), "labels": torch.tensor([1, 2])})
    assert trace.rpn_pos_iou == 0.99 and trace.gt_without_positive() == [0, 1]
    assert trace.gt_without_positive(min_iou=0.0) == []


def test_seed_paper_geometry_has_22500_anchors():
    counts = assign_anchors((800, 800), GT * 4, DetectorConfig()).counts()
    assert counts["anchors"] == 50 * 50 * 9
    assert counts["positive"] + counts["negative"] == 256


def test_changing_a_threshold_changes_the_counts_and_sampling_is_reproducible():
    base = cpu_config(2)
    low = assign_anchors((200, 300), GT, base.replace(rpn_pos_iou=0.4)).counts()
    high = assign_anchors((200, 300), GT, base).counts()
    assert low["candidate_positive"] > high["candidate_positive"]
    first = assign_anchors((200, 300), GT, base, torch.Generator().manual_seed(1))
    np.testing.assert_array_equal(first.labels, assign_anchors((200, 300), GT, base, torch.Generator().manual_seed(1)).labels)


def test_no_gt_makes_every_inside_anchor_a_negative_candidate():
    state = assign_anchors((120, 160), None, cpu_config(1))
    assert (state.candidate_labels[state.inside] == 0).all() and state.counts()["candidate_positive"] == 0


def test_positive_at_finds_the_positive_anchor_under_a_point():
    state = assign_anchors((200, 300), GT, cpu_config(2))
    positive = int(np.nonzero(state.labels == POSITIVE)[0][0])
    x1, y1, x2, y2 = state.anchors[positive]
    found = state.positive_at((x1 + x2) / 2, (y1 + y2) / 2)
    assert found is not None and state.labels[found] == POSITIVE
    assert state.positive_at(-50, -50) is None


def test_bad_parameters_are_refused_with_the_values():
    with pytest.raises(ValueError, match="0.5 / 0.2"):
        DetectorConfig(rpn_pos_iou=0.2, rpn_neg_iou=0.5)
    with pytest.raises(ValueError, match="positive"):
        DetectorConfig(anchor_scales=(8.0, -1.0))
    with pytest.raises(ValueError, match="rpn_num_samples must be >= 1"):
        DetectorConfig(rpn_num_samples=0)

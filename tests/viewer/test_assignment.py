"""frcnn_viewer.assignment: relabelling without a model gives what the model's trace gives."""

import numpy as np
import pytest
import torch

from frcnn_core import FasterRCNN, cpu_config
from frcnn_viewer.assignment import AnchorParams, assign_anchors

GT = np.array([[10.0, 20.0, 80.0, 90.0], [100.0, 50.0, 200.0, 150.0]], np.float32)


@pytest.mark.parametrize("allowed_border", [0.0, 1e4])
def test_same_anchors_and_candidate_labels_as_the_models_trace(allowed_border):
    config = cpu_config(2, ("a", "b"), rpn_allowed_border=allowed_border)
    torch.manual_seed(0)
    trace = FasterRCNN(config).eval().trace(torch.rand(3, 200, 300), {"boxes": torch.from_numpy(GT), "labels": torch.tensor([1, 2])})
    state = assign_anchors((200, 300), GT, AnchorParams.from_config(config))
    assert state.feature_size == trace.feature_size
    np.testing.assert_allclose(state.anchors, trace.anchors.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(state.inside, trace.inside.numpy())
    np.testing.assert_array_equal(state.candidate_labels, trace.anchor_candidate_labels.numpy())
    np.testing.assert_allclose(state.max_iou, trace.anchor_max_iou.numpy(), atol=1e-6)
    assert state.gt_without_positive() == trace.gt_without_positive()
    assert state.counts()["positive"] == int((trace.anchor_labels == 1).sum())
    assert state.cell_at(150, 100) == trace.cell_at(150, 100)
    cell = state.cell_at(150, 100)
    np.testing.assert_array_equal(state.cell_anchor_indices(*cell), trace.cell_anchor_indices(*cell).numpy())


def test_seed_paper_geometry_has_22500_anchors():
    counts = assign_anchors((800, 800), GT * 4, AnchorParams()).counts()
    assert counts["anchors"] == 50 * 50 * 9
    assert counts["positive"] + counts["negative"] == 256


def test_changing_a_threshold_changes_the_counts_and_sampling_is_reproducible():
    base = AnchorParams.from_config(cpu_config(2))
    low = assign_anchors((200, 300), GT, base.replace(pos_iou=0.4)).counts()
    high = assign_anchors((200, 300), GT, base).counts()
    assert low["candidate_positive"] > high["candidate_positive"]
    again = assign_anchors((200, 300), GT, base)
    np.testing.assert_array_equal(again.labels, assign_anchors((200, 300), GT, base).labels)


def test_no_gt_makes_every_inside_anchor_a_negative_candidate():
    state = assign_anchors((120, 160), None, AnchorParams.from_config(cpu_config(1)))
    assert (state.candidate_labels[state.inside] == 0).all() and state.counts()["candidate_positive"] == 0


def test_bad_parameters_are_refused_with_the_values():
    with pytest.raises(ValueError, match="got 0.5 / 0.2"):
        AnchorParams(pos_iou=0.2, neg_iou=0.5)
    with pytest.raises(ValueError, match="positive"):
        AnchorParams(scales=(8.0, -1.0))

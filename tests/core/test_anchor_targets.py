"""Anchor target creator against the seed's worked example and its invariants."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from frcnn_core import assign_anchor_targets, grid_anchors
from frcnn_core.boxes import pairwise_iou, yxyx_to_xyxy

SEED_BOXES = yxyx_to_xyxy(torch.tensor([[20.0, 30.0, 400.0, 500.0], [300.0, 400.0, 500.0, 600.0]]))


def test_seed_worked_example():
    anchors = grid_anchors((50, 50))
    t = assign_anchor_targets(anchors, SEED_BOXES, (800, 800), generator=torch.Generator().manual_seed(0))
    assert anchors.shape[0] == 22500
    assert int(t.inside.sum()) == 8940
    best = pairwise_iou(anchors[t.inside], SEED_BOXES).max(dim=0).values
    torch.testing.assert_close(best, torch.tensor([0.6813, 0.6104]), atol=1e-4, rtol=0)
    # 18 anchors tie for the two best IoUs (seed: gt_argmax_ious has 18 entries)
    assert int((t.candidate_labels == 1).sum()) == 18
    assert t.num_positive == 18
    assert t.num_negative == 256 - 18  # the seed's bug would keep 256 * 18 negatives
    assert int((t.labels[~t.inside] != -1).sum()) == 0


def test_allowed_border_lets_straddling_anchors_take_part():
    anchors = grid_anchors((50, 50))
    corner = torch.tensor([[0.0, 0.0, 90.0, 90.0]])  # squarest anchors that fit sit off the corner
    seed_rule = assign_anchor_targets(anchors, corner, (800, 800), num_samples=22500, pos_fraction=1.0)
    everyone = assign_anchor_targets(anchors, corner, (800, 800), num_samples=22500, pos_fraction=1.0, allowed_border=1e4)
    assert bool(everyone.inside.all()) and int(seed_rule.inside.sum()) == 8940
    assert everyone.max_iou.max() > seed_rule.max_iou.max()
    straddling_positive = (everyone.labels == 1) & ~seed_rule.inside
    assert bool(straddling_positive.any())
    assert int((seed_rule.labels[~seed_rule.inside] != -1).sum()) == 0


def test_each_gt_gets_its_k_best_anchors_as_positives():
    anchors = grid_anchors((50, 50))
    boxes = torch.tensor([[103.0, 97.0, 260.0, 230.0], [105.0, 300.0, 250.0, 380.0]])  # best IoUs < 0.7
    one = assign_anchor_targets(anchors, boxes, (800, 800), num_samples=22500, pos_fraction=1.0)
    four = assign_anchor_targets(anchors, boxes, (800, 800), num_samples=22500, pos_fraction=1.0, positives_per_gt=4)
    iou = pairwise_iou(anchors, boxes)
    for g in range(2):
        assert int(((four.labels == 1) & (iou[:, g] >= iou[:, g].topk(4).values[-1])).sum()) >= 4
    assert bool((four.labels[one.labels == 1] == 1).all()) and four.num_positive > one.num_positive
    seed_rule = assign_anchor_targets(anchors, SEED_BOXES, (800, 800), positives_per_gt=1)
    assert int((seed_rule.candidate_labels == 1).sum()) == 18


def test_regression_targets_point_at_matched_gt():
    from frcnn_core import decode_boxes

    anchors = grid_anchors((50, 50))
    t = assign_anchor_targets(anchors, SEED_BOXES, (800, 800))
    pos = t.labels == 1
    decoded = decode_boxes(anchors[pos], t.deltas[pos])
    torch.testing.assert_close(decoded, SEED_BOXES[t.matched_gt[pos]], atol=1e-3, rtol=0)


def test_no_gt_boxes_gives_only_negatives():
    anchors = grid_anchors((20, 20))
    t = assign_anchor_targets(anchors, torch.zeros((0, 4)), (320, 320))
    assert t.num_positive == 0
    assert t.num_negative == 256
    assert torch.isfinite(t.deltas).all()


def test_degenerate_gt_box_is_finite_and_unmatched():
    anchors = grid_anchors((20, 20))
    gt = torch.tensor([[50.0, 50.0, 50.0, 120.0], [100.0, 100.0, 200.0, 200.0]])
    t = assign_anchor_targets(anchors, gt, (320, 320))
    assert torch.isfinite(t.deltas).all() and torch.isfinite(t.max_iou).all()
    assert not (t.matched_gt[t.candidate_labels == 1] == 0).any()


def test_sampling_is_deterministic_with_generator():
    anchors = grid_anchors((50, 50))
    a = assign_anchor_targets(anchors, SEED_BOXES, (800, 800), num_samples=64, generator=torch.Generator().manual_seed(3))
    b = assign_anchor_targets(anchors, SEED_BOXES, (800, 800), num_samples=64, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.labels, b.labels)


box = st.tuples(st.floats(0, 300), st.floats(0, 300), st.floats(1, 200), st.floats(1, 200)).map(
    lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]]
)


@settings(max_examples=40, deadline=None)
@given(boxes=st.lists(box, min_size=0, max_size=6), num_samples=st.integers(1, 300), fraction=st.floats(0.05, 1.0))
def test_sampling_invariants(boxes, num_samples, fraction):
    anchors = grid_anchors((20, 20))
    gt = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    t = assign_anchor_targets(anchors, gt, (320, 320), num_samples=num_samples, pos_fraction=fraction)
    n_pos, n_neg = t.num_positive, t.num_negative
    candidates_pos = int((t.candidate_labels == 1).sum())
    candidates_neg = int((t.candidate_labels == 0).sum())
    assert n_pos == min(candidates_pos, int(num_samples * fraction))
    assert n_neg == min(candidates_neg, num_samples - n_pos)
    # sampled labels are a subset of the candidates; outside anchors are never labelled
    assert ((t.labels == 1) <= (t.candidate_labels == 1)).all()
    assert ((t.labels == 0) <= (t.candidate_labels == 0)).all()
    assert (t.candidate_labels[~t.inside] == -1).all()
    # negatives have IoU < 0.3 with every GT; positives >= 0.7 or best for some GT
    assert (t.max_iou[t.candidate_labels == 0] < 0.3).all()
    assert torch.isfinite(t.deltas).all()


def test_the_configured_border_rule_decides_whether_a_straddling_anchor_takes_part():
    from frcnn_core import DetectorConfig
    from frcnn_core.anchors.targets import IGNORED, NEGATIVE, POSITIVE, assign_anchor_targets_for

    # one anchor reaching 20 px past the left edge over a GT box it overlaps with IoU 0.75, one inside far away
    anchors = torch.tensor([[-20.0, 10.0, 60.0, 90.0], [70.0, 70.0, 120.0, 120.0]])
    gt = torch.tensor([[0.0, 10.0, 60.0, 90.0]])
    seed_rule = assign_anchor_targets_for(DetectorConfig(rpn_allowed_border=0.0), anchors, gt, (128, 128))
    reaching = assign_anchor_targets_for(DetectorConfig(rpn_allowed_border=20.0), anchors, gt, (128, 128))
    every_anchor = assign_anchor_targets_for(DetectorConfig(rpn_allowed_border=1e5), anchors, gt, (128, 128))
    assert seed_rule.inside.tolist() == [False, True] and seed_rule.labels[0] == IGNORED
    assert seed_rule.labels[1] == NEGATIVE  # the box then has no positive anchor at all: it does not overlap the other
    for targets in (reaching, every_anchor):
        assert targets.inside.tolist() == [True, True] and targets.labels[0] == POSITIVE
        assert abs(float(targets.max_iou[0]) - 0.75) < 1e-6
    assert not assign_anchor_targets_for(DetectorConfig(rpn_allowed_border=19.0), anchors, gt, (128, 128)).inside[0]

"""Proposal target creator: sampling quotas, labels and normalised targets."""

import math

import torch
from torchvision.ops import box_iou

from frcnn_core import assign_proposal_targets, decode_boxes
from frcnn_core.roi.targets import JITTER, ROI_SOURCE_GT, ROI_SOURCE_JITTERED_GT, jitter_boxes


def test_quota_labels_and_targets():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(500, 2, generator=g) * 300
    proposals = torch.cat([xy, xy + 20 + torch.rand(500, 2, generator=g) * 80], 1)
    gt = torch.tensor([[50.0, 50.0, 150.0, 150.0], [200.0, 100.0, 260.0, 240.0]])
    labels = torch.tensor([3, 1])
    s = assign_proposal_targets(proposals, gt, labels, 128, 0.25, generator=g)
    fg = s.labels > 0
    assert s.boxes.shape[0] == 128
    assert 2 <= int(fg.sum()) <= 32  # the two GT boxes are always foreground candidates
    assert (s.max_iou[fg] >= 0.5).all() and (s.max_iou[~fg] < 0.5).all()
    assert set(s.labels[fg].tolist()) <= {1, 3}
    torch.testing.assert_close(decode_boxes(s.boxes[fg], s.deltas[fg], (10, 10, 5, 5)), gt[s.matched_gt[fg]], atol=1e-3, rtol=0)
    assert (s.deltas[~fg] == 0).all()
    assert ((s.source == ROI_SOURCE_GT) <= fg).all()


def test_no_gt_all_background():
    proposals = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 50.0, 50.0]])
    s = assign_proposal_targets(proposals, torch.zeros((0, 4)), torch.zeros(0, dtype=torch.long))
    assert (s.labels == 0).all() and s.boxes.shape[0] == 2


def test_degenerate_gt_is_finite():
    proposals = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    s = assign_proposal_targets(proposals, torch.tensor([[4.0, 4.0, 4.0, 9.0]]), torch.tensor([1]))
    assert torch.isfinite(s.deltas).all() and torch.isfinite(s.max_iou).all()


def test_jittered_copies_of_each_gt_box_join_the_rois_inside_the_image():
    gt = torch.tensor([[10.0, 20.0, 110.0, 70.0], [150.0, 150.0, 200.0, 256.0]])
    copies = jitter_boxes(gt, 50, torch.Generator().manual_seed(1))
    assert copies.shape == (100, 4)
    original = gt.repeat(50, 1)
    size = original[:, 2:] - original[:, :2]
    centre_shift = ((copies[:, :2] + copies[:, 2:]) - (original[:, :2] + original[:, 2:])) / 2
    scale = (copies[:, 2:] - copies[:, :2]) / size
    assert (centre_shift.abs() <= size * JITTER + 1e-4).all() and centre_shift.abs().max() > 0
    assert ((scale >= math.exp(-2 * JITTER) - 1e-5) & (scale <= math.exp(2 * JITTER) + 1e-5)).all()
    assert box_iou(copies, original).diagonal().min() > 0.6  # 0.65 at the extremes

    proposals = torch.tensor([[0.0, 0.0, 30.0, 30.0]])
    s = assign_proposal_targets(proposals, gt, torch.tensor([2, 1]), 128, 1.0, generator=torch.Generator().manual_seed(0), jittered_copies=3, image_size=(256, 240))
    assert (s.source == ROI_SOURCE_GT).sum() == 2 and (s.source == ROI_SOURCE_JITTERED_GT).sum() == 6
    jittered = s.boxes[s.source == ROI_SOURCE_JITTERED_GT]
    assert (jittered >= 0).all() and (jittered[:, [0, 2]] <= 240).all() and (jittered[:, [1, 3]] <= 256).all()
    fg = s.labels > 0
    torch.testing.assert_close(decode_boxes(s.boxes[fg], s.deltas[fg], (10, 10, 5, 5)), gt[s.matched_gt[fg]], atol=1e-3, rtol=0)
    # without copies nothing is drawn from the generator: seed-preset training is unchanged
    g = torch.Generator().manual_seed(5)
    assign_proposal_targets(proposals, gt, torch.tensor([2, 1]), generator=g)
    assert torch.equal(g.get_state(), torch.Generator().manual_seed(5).get_state())

"""Proposal layer recomputed step by step with torchvision ops."""

import torch
from torchvision.ops import box_iou, clip_boxes_to_image, nms, remove_small_boxes

from frcnn_core import decode_boxes, grid_anchors, propose


def random_rpn_outputs(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, generator=g) * 3, torch.randn(n, 4, generator=g) * 0.3


def test_matches_torchvision_recomputation():
    anchors = grid_anchors((38, 50))
    objectness, deltas = random_rpn_outputs(anchors.shape[0])
    size = (600, 800)
    found = propose(anchors, objectness, deltas, size, 6000, 300, 0.7, 16)
    boxes, scores = found.boxes, found.scores

    ref = clip_boxes_to_image(decode_boxes(anchors, deltas), size)
    keep = remove_small_boxes(ref, 16)
    ref, ref_scores = ref[keep], objectness[keep].sigmoid()
    order = ref_scores.argsort(descending=True)[:6000]
    ref, ref_scores = ref[order], ref_scores[order]
    kept = nms(ref, ref_scores, 0.7)[:300]
    torch.testing.assert_close(boxes, ref[kept])
    torch.testing.assert_close(scores, ref_scores[kept])


def test_invariants():
    anchors = grid_anchors((20, 30))
    objectness, deltas = random_rpn_outputs(anchors.shape[0], 1)
    p = propose(anchors, objectness, deltas, (320, 480), 2000, 100, 0.7, 8)
    assert p.boxes.shape[0] <= 100 and p.pre_nms_boxes.shape[0] <= 2000
    assert (p.boxes[:, 0] >= 0).all() and (p.boxes[:, 2] <= 480).all() and (p.boxes[:, 3] <= 320).all()
    assert ((p.boxes[:, 2] - p.boxes[:, 0]) >= 8).all()
    assert (p.scores[:-1] >= p.scores[1:]).all()
    iou = box_iou(p.boxes, p.boxes).fill_diagonal_(0)
    assert iou.max() <= 0.7 + 1e-6
    # provenance: each proposal decodes from its anchor
    redo = clip_boxes_to_image(decode_boxes(anchors[p.anchor_index], deltas[p.anchor_index]), (320, 480))
    torch.testing.assert_close(redo, p.boxes)


def test_a_score_threshold_drops_low_objectness_before_nms():
    anchors = grid_anchors((20, 30))
    objectness, deltas = random_rpn_outputs(anchors.shape[0], 2)
    everything = propose(anchors, objectness, deltas, (320, 480), 2000, 100, 0.7, 8)
    confident = propose(anchors, objectness, deltas, (320, 480), 2000, 100, 0.7, 8, score_thresh=0.9)
    above = everything.pre_nms_scores >= 0.9
    assert 0 < above.sum() < len(above)
    torch.testing.assert_close(confident.pre_nms_boxes, everything.pre_nms_boxes[above])
    kept = nms(confident.pre_nms_boxes, confident.pre_nms_scores, 0.7)[:100]
    torch.testing.assert_close(confident.boxes, confident.pre_nms_boxes[kept])

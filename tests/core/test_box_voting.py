"""Box voting: each kept detection moves to the score-weighted mean of the same class's boxes
overlapping it, checked against a plain loop written from Detectron's ``box_voting``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou, clip_boxes_to_image

from frcnn_core.boxes import decode_boxes
from frcnn_core.config import DetectorConfig
from frcnn_core.roi.box_voting import vote_boxes
from frcnn_core.roi.postprocess import postprocess_detections


def detectron_box_voting(kept, kept_labels, boxes, scores, labels, thresh):
    """Detectron's ``box_voting`` (scoring method ``ID``): one kept box at a time, in numpy."""
    out = kept.copy()
    iou = box_iou(torch.from_numpy(kept), torch.from_numpy(boxes)).numpy()
    for k in range(len(kept)):
        voters = np.where((iou[k] >= thresh) & (labels == kept_labels[k]))[0]
        weights = scores[voters]
        out[k] = (boxes[voters] * weights[:, None]).sum(0) / weights.sum()
    return out


def test_a_kept_box_moves_to_the_weighted_mean_of_its_class_voters_only():
    kept = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [2.0, 0.0, 12.0, 10.0], [1.0, 0.0, 11.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([0.9, 0.3, 0.6, 0.8])
    labels = torch.tensor([1, 1, 2, 1])  # the third overlaps but is another class; the fourth is far
    voted = vote_boxes(kept, torch.tensor([1]), boxes, scores, labels, iou=0.6)  # IoU of the second: 80 / 120
    torch.testing.assert_close(voted, torch.tensor([[0.5, 0.0, 10.5, 10.0]]))
    # at IoU 0.8 only the box itself votes: it stays
    torch.testing.assert_close(vote_boxes(kept, torch.tensor([1]), boxes, scores, labels, iou=0.8), kept)
    assert vote_boxes(torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), boxes, scores, labels, 0.8).shape == (0, 4)


def test_postprocess_votes_as_detectron_and_keeps_scores_labels_and_order():
    generator = torch.Generator().manual_seed(0)
    centres = torch.rand(3, 2, generator=generator) * 80 + 10  # three objects, many RoIs on each
    proposals = torch.cat([torch.cat([c - 10, c + 10]) + torch.randn(4, generator=generator) * 2 for c in centres.repeat(20, 1)]).reshape(-1, 4)
    logits = torch.randn(proposals.shape[0], 3, generator=generator) * 2
    deltas = torch.randn(proposals.shape[0], 12, generator=generator) * 0.5
    args = (proposals, logits, deltas, (100, 100), (10.0, 10.0, 5.0, 5.0), 0.05, 0.3, 100)
    plain = postprocess_detections(*args)
    voted = postprocess_detections(*args, vote_iou=0.7)
    assert len(plain) == len(voted) > 3
    for name in ("scores", "labels", "class_scores", "proposal_index", "deltas"):
        torch.testing.assert_close(voted[name], plain[name])
    assert not torch.allclose(voted.boxes, plain.boxes)  # the RoIs overlap: some boxes moved
    # the candidates Detectron votes with: every class box above the score threshold, before NMS
    probs = torch.softmax(logits, 1)
    all_boxes = clip_boxes_to_image(decode_boxes(proposals, deltas, (10.0, 10.0, 5.0, 5.0)).reshape(-1, 3, 4), (100, 100))[:, 1:].reshape(-1, 4)
    all_scores, all_labels = probs[:, 1:].reshape(-1), torch.tensor([1, 2]).repeat(proposals.shape[0])
    above = all_scores > 0.05
    expected = detectron_box_voting(plain.boxes.numpy(), plain.labels.numpy(), all_boxes[above].numpy(), all_scores[above].numpy(),
                                    all_labels[above].numpy(), 0.7)
    np.testing.assert_allclose(voted.boxes.numpy(), expected, rtol=0, atol=1e-4)


def test_box_voting_is_an_inference_knob_off_by_default_and_checked():
    assert DetectorConfig().box_vote_iou == 0.0
    with pytest.raises(ValueError, match="box_vote_iou"):
        DetectorConfig(box_vote_iou=1.5)

"""frcnn_core.evaluation.metrics.match_image: the one VOC matching of eval, the viewer and the diagnosis."""

import numpy as np
import pytest
import torch

from frcnn_core.evaluation.metrics import ImageMatching, evaluate_voc, match_image

GT = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
GT_LABELS = np.array([1, 2])


def test_duplicates_wrong_class_and_misses():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 11], [20, 20, 30, 30], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    labels = np.array([1, 1, 1, 2])  # the third has the wrong class
    m = match_image(boxes, scores, labels, GT, GT_LABELS)
    assert m.true_positive.tolist() == [True, False, False, False]
    assert m.matched_gt.tolist() == [0, -1, -1, -1] and m.gt_matched.tolist() == [0, ImageMatching.NONE]
    assert m.false_positive().tolist() == [False, True, True, True]
    assert m.missed() == [1]
    assert m.summary(0.85) == {"true_positives": 1, "false_positives": 0, "missed": 1}
    assert m.iou.shape == (4, 2) and m.iou[2, 1] == pytest.approx(1.0)  # IoU with every GT, any class


def test_score_threshold_changes_what_is_missed():
    m = match_image(GT, np.array([0.9, 0.3]), GT_LABELS, GT, GT_LABELS)
    assert m.missed(0.0) == [] and m.missed(0.5) == [1]
    assert m.found(0.5).tolist() == [True, False]
    assert m.average_precision() == 1.0


def test_float32_scores_pass_their_own_threshold():
    m = match_image(GT, torch.tensor([0.9, 0.3]), GT_LABELS, GT, GT_LABELS)
    assert m.summary(0.9)["true_positives"] == 1  # float32 0.9 is below float64 0.9


def test_difficult_gt_is_neither_found_nor_missed():
    m = match_image(GT[:1], np.array([0.9]), np.array([1]), GT, GT_LABELS, difficult=np.array([True, False]))
    assert m.ignored.tolist() == [True] and not m.false_positive().any()
    assert m.missed() == [1]


def test_average_precision_of_a_ranked_list():
    # class 1: two GT; ranked hits TP, FP, TP -> precision 1 at recall .5, 2/3 at recall 1
    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], np.float32)
    boxes = np.array([[0, 0, 10, 10], [40, 0, 50, 10], [20, 0, 30, 10]], np.float32)
    m = match_image(boxes, np.array([0.9, 0.8, 0.7]), np.array([1, 1, 1]), gt, np.array([1, 1]))
    assert np.isclose(m.average_precision(), 0.5 * 1 + 0.5 * 2 / 3)
    assert match_image(np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros((0, 4)), np.zeros(0)).average_precision() is None


def test_the_devkit_rule_a_taken_best_box_makes_a_false_positive():
    # two GT boxes 4 px apart; the second detection's best box is the first GT (taken),
    # and although it overlaps the free second GT by more than 0.5 it is not offered that one
    gt = np.array([[0, 0, 20, 20], [4, 0, 24, 20]], np.float32)
    boxes = np.array([[0, 0, 20, 20], [1, 0, 21, 20]], np.float32)
    m = match_image(boxes, np.array([0.9, 0.8]), np.array([1, 1]), gt, np.array([1, 1]))
    assert m.iou[1, 1] >= 0.5
    assert m.true_positive.tolist() == [True, False] and m.missed() == [1]
    assert evaluate_voc([{"boxes": boxes, "scores": [0.9, 0.8], "labels": [1, 1]}], [{"boxes": gt, "labels": [1, 1]}], 1)["recall"][1][-1] == 0.5


def test_matches_above_a_threshold_do_not_depend_on_detections_below_it():
    rng = np.random.default_rng(0)
    for _ in range(50):
        gt = np.concatenate([xy := rng.uniform(0, 50, (6, 2)), xy + rng.uniform(5, 30, (6, 2))], 1)
        gt_labels = rng.integers(1, 3, 6)
        boxes = gt[rng.integers(0, 6, 20)] + rng.normal(0, 3, (20, 4))
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        scores, labels = rng.random(20), rng.integers(1, 3, 20)
        everything = match_image(boxes, scores, labels, gt, gt_labels)
        for t in (0.2, 0.5, 0.8):
            kept = scores >= t
            alone = match_image(boxes[kept], scores[kept], labels[kept], gt, gt_labels)
            assert (alone.true_positive == everything.true_positive[kept]).all()
            assert alone.missed() == everything.missed(t)


def test_evaluate_voc_counts_the_true_positives_of_match_image():
    rng = np.random.default_rng(1)
    detections, targets, matched = [], [], 0
    for _ in range(10):
        gt = np.concatenate([xy := rng.uniform(0, 80, (5, 2)), xy + rng.uniform(5, 30, (5, 2))], 1)
        gt_labels, difficult = rng.integers(1, 4, 5), rng.random(5) < 0.2
        boxes = gt[rng.integers(0, 5, 12)] + rng.normal(0, 3, (12, 4))
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        scores, labels = rng.random(12), rng.integers(1, 4, 12)
        detections.append({"boxes": boxes, "scores": scores, "labels": labels})
        targets.append({"boxes": gt, "labels": gt_labels, "difficult": difficult})
        matched += int(match_image(boxes, scores, labels, gt, gt_labels, difficult).true_positive.sum())
    voc = evaluate_voc(detections, targets, 3)
    assert matched > 0
    assert sum(round(voc["recall"][k][-1] * voc["num_gt"][k]) for k in (1, 2, 3) if voc["num_detections"][k]) == matched

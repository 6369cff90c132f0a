"""frcnn_viewer.state.matching: VOC-rule true/false positives, missed GT and per-image AP."""

import numpy as np

from frcnn_viewer.state.matching import match_detections

GT = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
GT_LABELS = np.array([1, 2])


def test_duplicates_wrong_class_and_misses():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 11], [20, 20, 30, 30], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    labels = np.array([1, 1, 1, 2])  # the third has the wrong class
    m = match_detections(boxes, scores, labels, GT, GT_LABELS)
    assert m.true_positive.tolist() == [True, False, False, False]
    assert m.false_positive().tolist() == [False, True, True, True]
    assert m.missed() == [1]
    assert m.summary(0.85) == {"true_positives": 1, "false_positives": 0, "missed": 1}


def test_score_threshold_changes_what_is_missed():
    m = match_detections(GT, np.array([0.9, 0.3]), GT_LABELS, GT, GT_LABELS)
    assert m.missed(0.0) == [] and m.missed(0.5) == [1]
    assert m.average_precision() == 1.0


def test_difficult_gt_is_neither_found_nor_missed():
    m = match_detections(GT[:1], np.array([0.9]), np.array([1]), GT, GT_LABELS, difficult=np.array([True, False]))
    assert m.ignored.tolist() == [True] and not m.false_positive().any()
    assert m.missed() == [1]


def test_average_precision_of_a_ranked_list():
    # class 1: two GT; ranked hits TP, FP, TP -> precision 1 at recall .5, 2/3 at recall 1
    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], np.float32)
    boxes = np.array([[0, 0, 10, 10], [40, 0, 50, 10], [20, 0, 30, 10]], np.float32)
    m = match_detections(boxes, np.array([0.9, 0.8, 0.7]), np.array([1, 1, 1]), gt, np.array([1, 1]))
    assert np.isclose(m.average_precision(), 0.5 * 1 + 0.5 * 2 / 3)
    assert match_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros((0, 4)), np.zeros(0)).average_precision() is None

"""frcnn_core.evaluation.tide against the tidecv package: the same error types, counts, mAP and dAP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tide_reference import random_errors, tidecv_figures

from frcnn_core.evaluation.metrics import detection_arrays, match_image, target_arrays
from frcnn_core.evaluation.tide import TIDE_ERRORS, TideError, TideOracle, tide_errors, tide_image

BOX = [0.0, 0.0, 100.0, 100.0]
EXACT = 1e-9  # the issue asks for 0.5 AP points (0.005); the rewrite gives tidecv's own numbers


def shifted(box, dx: float) -> list[float]:
    return [box[0] + dx, box[1], box[2] + dx, box[3]]


def image(gt, detections):
    """``(detections, target)`` of one image from ``[(box, label)]`` and ``[(box, score, label)]``."""
    det = {
        "boxes": np.array([d[0] for d in detections], np.float64).reshape(-1, 4),
        "scores": np.array([d[1] for d in detections], np.float32),
        "labels": np.array([d[2] for d in detections], np.int64),
    }
    return det, {"boxes": np.array([g[0] for g in gt], np.float64).reshape(-1, 4), "labels": np.array([g[1] for g in gt], np.int64)}


def forced_errors():
    """One error of each type, each ranked above a true positive of its class so that fixing it pays."""
    images = [
        image([(BOX, 1)], [(BOX, 0.9, 1), (shifted(BOX, 5), 0.8, 1)]),  # a true positive, a duplicate
        image([(BOX, 1)], [(BOX, 0.95, 2)]),  # classification: fixed, a class-1 true positive
        image([(BOX, 1)], [(shifted(BOX, 50), 0.85, 1)]),  # localization (IoU 1/3)
        image([(BOX, 2)], [(shifted(BOX, 50), 0.7, 1)]),  # both (IoU 1/3 with a box of another class); its box missed
        image([(BOX, 2)], [([200.0, 200.0, 250.0, 250.0], 0.99, 2)]),  # background; its box missed
        image([(BOX, 2)], [(BOX, 0.6, 2)]),
        image([(BOX, 1)], [(BOX, 0.5, 1)]),
    ]
    return [d for d, _ in images], [t for _, t in images]


def assert_equal_to_tidecv(detections, targets):
    ours, theirs = tide_errors(detections, targets), tidecv_figures(detections, targets)
    assert ours.map == pytest.approx(theirs.map, abs=EXACT)
    assert {e.value: v for e, v in ours.dap.items()} == pytest.approx(theirs.dap, abs=EXACT)
    assert {e.value: n for e, n in ours.counts.items()} == theirs.counts
    return ours


def test_each_forced_error_costs_what_tidecv_says():
    detections, targets = forced_errors()
    ours = assert_equal_to_tidecv(detections, targets)
    assert ours.counts == {**dict.fromkeys(TIDE_ERRORS, 1), TideError.MISSED: 2}
    assert all(value > 0 for value in ours.dap.values())
    # by hand, TIDE's AP (the monotone precision read at recall 0, 0.01, ..., 1):
    # class 1, 4 boxes, ranked TP FP FP FP TP: precision 1 up to recall 0.25 (26 points), 0.4 up to 0.5 (25)
    # class 2, 3 boxes, ranked FP FP TP: precision 1/3 up to recall 1/3 (34 points)
    assert ours.map == pytest.approx(((26 + 25 * 0.4) / 101 + 34 / 3 / 101) / 2)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("difficult_rate", "coarse_scores"), [(0.0, False), (0.25, False), (0.0, True)])
def test_random_errors_equal_tidecv(seed, difficult_rate, coarse_scores):
    """Sets with every error type mixed: difficult boxes (TIDE's ignore regions) and tied scores included."""
    detections, targets = random_errors(seed, difficult_rate=difficult_rate, coarse_scores=coarse_scores)
    ours = assert_equal_to_tidecv(detections, targets)
    assert all(ours.counts[error] > 0 for error in TIDE_ERRORS)


def test_the_missed_oracle_on_every_false_negative_is_tidecvs_false_neg():
    detections, targets = random_errors(7, difficult_rate=0.2)
    oracle = TideOracle([tide_image(*detection_arrays(d), *target_arrays(t)) for d, t in zip(detections, targets)])
    assert oracle.false_negative.sum() > oracle.gt_missed.sum() > 0  # some false negatives a class/box fix recovers
    assert oracle.map_without(oracle.false_negative) == pytest.approx(max(tidecv_figures(detections, targets).false_negatives_dap, 0), abs=EXACT)
    assert oracle.map_without(np.zeros_like(oracle.false_negative)) == 0.0


def test_tides_matching_gives_a_detection_the_next_free_box():
    # two boxes of one class; both detections' best box is the right one: VOC calls the second a
    # duplicate, TIDE gives it the left box (IoU 0.6)
    left, right = [0.0, 0.0, 100.0, 100.0], [25.0, 0.0, 125.0, 100.0]
    det, target = image([(left, 1), (right, 1)], [(right, 0.9, 1), ([20.0, 0.0, 120.0, 100.0], 0.8, 1)])
    voc = match_image(det["boxes"], det["scores"], det["labels"], target["boxes"], target["labels"])
    tide = tide_image(det["boxes"], det["scores"], det["labels"], target["boxes"], target["labels"])
    assert voc.true_positive.tolist() == [True, False]
    assert tide.true_positive.tolist() == [True, True] and tide.gt_used.tolist() == [True, True]


def test_a_detection_mostly_inside_a_difficult_box_of_its_class_is_ignored():
    # TIDE's ignore region: more than half of the detection's area inside the difficult box
    target = {"boxes": np.array([BOX, [300.0, 0.0, 400.0, 100.0]]), "labels": np.array([1, 1]), "difficult": np.array([True, False])}
    inside = [0.0, 0.0, 40.0, 40.0]  # IoU 0.16 with the box, all of it inside
    tide = tide_image([inside, inside, [300.0, 0.0, 400.0, 100.0]], [0.9, 0.8, 0.7], [1, 2, 1], target["boxes"], target["labels"], target["difficult"])
    assert tide.ignored.tolist() == [True, False, False]  # the class-2 detection is not its class
    assert tide.difficult.tolist() == [True, False] and tide.gt_used.tolist() == [False, True]


def test_nothing_at_all():
    summary = tide_errors([{"boxes": np.zeros((0, 4)), "scores": [], "labels": []}], [{"boxes": np.zeros((0, 4)), "labels": []}])
    assert math.isnan(summary.map) and set(summary.dap.values()) == {0.0}


def test_a_class_with_detections_and_no_box_counts_zero_in_the_mean():
    det, target = image([(BOX, 1)], [(BOX, 0.9, 1), ([200.0, 200.0, 250.0, 250.0], 0.8, 2)])
    summary = tide_errors([det], [target])
    assert summary.map == pytest.approx(0.5)  # class 1: AP 1, class 2: AP 0
    assert summary.dap[TideError.BACKGROUND] == pytest.approx(0.5)  # fixed: class 2 has nothing left, leaves the mean
    assert_equal_to_tidecv([det], [target])

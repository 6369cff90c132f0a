"""VOC AP by hand, VOC matching rules, and agreement with pycocotools."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from frcnn_core.evaluation.metrics import evaluate_coco, evaluate_voc, voc_ap

GT3 = [[0, 0, 10, 10], [50, 0, 60, 10], [0, 50, 10, 60]]  # far apart: each detection overlaps one box at most


def _det(boxes, scores, labels=None):
    labels = [1] * len(scores) if labels is None else labels
    return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), "scores": torch.tensor(scores, dtype=torch.float32), "labels": torch.tensor(labels)}


def _gt(boxes, labels=None, difficult=None, size=(100, 100)):
    labels = [1] * len(boxes) if labels is None else labels
    difficult = [False] * len(boxes) if difficult is None else difficult
    return {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), "labels": torch.tensor(labels), "difficult": torch.tensor(difficult), "size": size}


# TP, FP, TP, FP against 3 ground-truth boxes: recall 1/3, 1/3, 2/3, 2/3; precision 1, 1/2, 2/3, 1/2.
HAND_DETECTIONS = _det([[0, 0, 10, 10], [80, 80, 90, 90], [50, 0, 60, 10], [80, 30, 90, 40]], [0.9, 0.8, 0.7, 0.6])


def test_voc_ap_by_hand():
    recall, precision = np.array([1, 1, 2, 2]) / 3, np.array([1, 1 / 2, 2 / 3, 1 / 2])
    # area: recall 0..1/3 at precision 1, then 1/3..2/3 at the best later precision 2/3
    assert voc_ap(recall, precision) == pytest.approx(1 / 3 + (1 / 3) * (2 / 3))
    # 11-point: t = 0, .1, .2, .3 -> 1; t = .4, .5, .6 -> 2/3; t >= .7 -> 0
    assert voc_ap(recall, precision, use_11_point=True) == pytest.approx((4 + 3 * 2 / 3) / 11)
    assert voc_ap([], []) == 0.0
    assert voc_ap([0.5, 1.0], [1.0, 1.0]) == pytest.approx(1.0) and voc_ap([0.5, 1.0], [1.0, 1.0], True) == pytest.approx(1.0)


def test_evaluate_voc_on_the_hand_case():
    result = evaluate_voc([HAND_DETECTIONS], [_gt(GT3)], num_classes=1)
    assert result["per_class_ap"][1] == pytest.approx(5 / 9) and result["map"] == pytest.approx(5 / 9)
    assert result["recall"][1] == pytest.approx(np.array([1, 1, 2, 2]) / 3)
    assert result["precision"][1] == pytest.approx([1, 1 / 2, 2 / 3, 1 / 2])
    assert result["scores"][1] == pytest.approx([0.9, 0.8, 0.7, 0.6])
    assert result["num_gt"][1] == 3 and result["num_detections"][1] == 4
    eleven = evaluate_voc([HAND_DETECTIONS], [_gt(GT3)], num_classes=1, use_11_point=True)
    assert eleven["map"] == pytest.approx(6 / 11)


def test_duplicates_are_false_positives_and_score_order_decides():
    gt = _gt(GT3[:2])
    # the duplicate (0.8) comes before the second hit: recall .5, .5, 1; precision 1, .5, 2/3
    dets = _det([[0, 0, 10, 10], [1, 0, 10, 10], [50, 0, 60, 10]], [0.9, 0.8, 0.7])
    assert evaluate_voc([dets], [gt], 1)["map"] == pytest.approx(0.5 + 0.5 * 2 / 3)
    reordered = _det([[1, 0, 10, 10], [0, 0, 10, 10], [50, 0, 60, 10]], [0.8, 0.9, 0.7])
    assert evaluate_voc([reordered], [gt], 1)["map"] == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_difficult_boxes_are_neither_counted_nor_penalised():
    gt = _gt(GT3[:2], difficult=[False, True])
    dets = _det([[50, 0, 60, 10], [0, 0, 10, 10]], [0.9, 0.8])  # the best score hits the difficult box
    result = evaluate_voc([dets], [gt], 1)
    assert result["map"] == pytest.approx(1.0)
    assert result["num_gt"][1] == 1 and result["num_detections"][1] == 1
    missed = evaluate_voc([_det([[50, 0, 60, 10]], [0.9])], [gt], 1)
    assert missed["map"] == 0.0  # finding only the difficult box recalls nothing


def test_iou_threshold_is_inclusive_and_classes_are_separate():
    gt = _gt([[0, 0, 10, 10]])
    half = _det([[0, 0, 10, 20]], [0.9])  # IoU exactly 0.5
    assert evaluate_voc([half], [gt], 1)["map"] == pytest.approx(1.0)
    assert evaluate_voc([half], [gt], 1, iou_threshold=0.51)["map"] == 0.0
    wrong_class = _det([[0, 0, 10, 10]], [0.9], labels=[2])
    result = evaluate_voc([wrong_class], [gt], 2)
    assert result["per_class_ap"] == {1: 0.0, 2: None}  # class 2 has no ground truth
    assert result["map"] == 0.0  # and is left out of the mean
    assert math.isnan(evaluate_voc([wrong_class], [_gt([])], 2)["map"])


def test_evaluate_voc_accepts_arrays_and_checks_lengths():
    dets = {"boxes": np.array([[0, 0, 10, 10]]), "scores": np.array([0.5]), "labels": np.array([1])}
    assert evaluate_voc([dets], [{"boxes": [[0, 0, 10, 10]], "labels": [1]}], 1)["map"] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        evaluate_voc([dets], [], 1)


def _separated_scene(rng, num_images=40, num_classes=3):
    """Ground truth in separate 100-px cells, and detections that each overlap at most one box:
    hits (some loose enough to fail IoU 0.5), duplicates and background false positives."""
    detections, targets = [], []
    for _ in range(num_images):
        cells = rng.permutation(16)
        gt_boxes, gt_labels = [], []
        for cell in cells[: rng.integers(1, 6)]:
            x, y = (cell % 4) * 100 + rng.uniform(5, 30), (cell // 4) * 100 + rng.uniform(5, 30)
            w, h = rng.uniform(20, 60), rng.uniform(20, 60)
            gt_boxes.append([x, y, x + w, y + h])
            gt_labels.append(int(rng.integers(1, num_classes + 1)))
        boxes, labels, scores = [], [], []
        for box, label in zip(gt_boxes, gt_labels):
            for _ in range(rng.choice([0, 1, 1, 1, 2])):
                spread = rng.choice([0.05, 0.3])  # tight hits, and loose ones that often fail IoU 0.5
                cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
                w, h = (box[2] - box[0]) * np.exp(rng.normal(0, spread)), (box[3] - box[1]) * np.exp(rng.normal(0, spread))
                cx, cy = cx + rng.normal(0, spread) * w, cy + rng.normal(0, spread) * h
                boxes.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
                scores.append(rng.uniform(0.3, 1.0) if spread < 0.1 else rng.uniform(0.0, 0.8))
                labels.append(label if rng.random() < 0.9 else int(rng.integers(1, num_classes + 1)))
        for cell in cells[10 : 10 + rng.integers(0, 4)]:  # empty cells
            x, y = (cell % 4) * 100 + 10, (cell // 4) * 100 + 10
            boxes.append([x, y, x + 40, y + 40])
            labels.append(int(rng.integers(1, num_classes + 1)))
            scores.append(rng.uniform(0.0, 0.7))
        detections.append(_det(boxes, scores, labels))
        targets.append(_gt(gt_boxes, gt_labels, size=(400, 400)))
    return detections, targets


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_area_ap_agrees_with_pycocotools_ap50(seed):
    """Both match the same way here (no box overlaps two ground-truth boxes, distinct scores,
    no difficult boxes), so both integrate the same monotone precision envelope f(r):
    ours exactly, pycocotools as the mean of f at r = 0, 0.01, ..., 1. For a non-increasing
    f in [0, 1], that 101-point mean and the integral differ by at most 1/100."""
    detections, targets = _separated_scene(np.random.default_rng(seed))
    voc = evaluate_voc(detections, targets, 3)
    coco = evaluate_coco(detections, targets, ["a", "b", "c"])
    for k in (1, 2, 3):
        assert 0.1 < voc["per_class_ap"][k] < 0.99  # a non-trivial curve
        assert abs(voc["per_class_ap"][k] - coco["per_class_ap50"][k]) <= 0.01 + 1e-9


def test_coco_ap50_on_the_hand_case_is_the_101_point_mean():
    coco = evaluate_coco([HAND_DETECTIONS], [_gt(GT3)], ["thing"])
    # f(r) = 1 for r <= 1/3 (34 of the 101 points), 2/3 up to 2/3 (33 points), then 0
    assert coco["per_class_ap50"][1] == pytest.approx((34 + 33 * 2 / 3) / 101)
    assert coco["ap50"] == pytest.approx(coco["per_class_ap50"][1])
    assert coco["ap"] <= coco["ap50"] and len(coco["stats"]) == 12


def test_coco_perfect_detections_and_classes_without_ground_truth():
    gt = _gt(GT3, labels=[1, 1, 2])
    coco = evaluate_coco([_det(GT3, [0.9, 0.8, 0.7], [1, 1, 2])], [gt], ["a", "b", "c"])
    assert coco["ap"] == pytest.approx(1.0) and coco["per_class_ap"] == {1: pytest.approx(1.0), 2: pytest.approx(1.0), 3: None}


def test_coco_with_no_detections_is_zero():
    coco = evaluate_coco([_det([], [])], [_gt(GT3)], ["a", "b"])
    assert coco["ap"] == 0.0 and coco["ap50"] == 0.0
    assert coco["per_class_ap"] == {1: 0.0, 2: None}
    nothing = evaluate_coco([_det([], [])], [_gt([])], ["a"])
    assert math.isnan(nothing["ap"]) and nothing["per_class_ap"] == {1: None}


def test_coco_difficult_boxes_are_ignored():
    gt = _gt(GT3[:2], difficult=[False, True])
    coco = evaluate_coco([_det([[50, 0, 60, 10], [0, 0, 10, 10]], [0.9, 0.8])], [gt], ["a"])
    assert coco["ap50"] == pytest.approx(1.0)


def test_coco_evaluation_prints_nothing(capsys):
    evaluate_coco([HAND_DETECTIONS], [_gt(GT3)], ["thing"])
    assert capsys.readouterr().out == ""

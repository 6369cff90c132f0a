"""frcnn_core.evaluation.confusion.confusion_matrix by hand: rows truth, columns prediction, 0 background."""

import numpy as np
import torch

from frcnn_core.evaluation.confusion import confusion_matrix
from frcnn_core.evaluation.metrics import evaluate_voc


def _det(rows):
    return {"boxes": torch.tensor([r[0] for r in rows], dtype=torch.float32).reshape(-1, 4), "scores": torch.tensor([r[1] for r in rows]), "labels": torch.tensor([r[2] for r in rows])}


A, B, C, D = [0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10]
TARGET = {"boxes": torch.tensor([A, B, C, D], dtype=torch.float32), "labels": torch.tensor([1, 2, 1, 2]), "difficult": torch.tensor([False, False, True, False])}


def test_each_outcome_lands_in_its_cell():
    dets = _det([
        (A, 0.9, 1),  # right class -> [1, 1]
        (B, 0.8, 1),  # square called a circle -> [2, 1]
        (C, 0.9, 1),  # on a difficult box -> nowhere
        ([80, 0, 90, 10], 0.7, 2),  # on nothing -> [0, 2]
        ([0, 0, 10, 11], 0.6, 1),  # a second box on A -> unpaired -> [0, 1]
        ([60, 0, 70, 10], 0.3, 2),  # below the score threshold: D stays missed -> [2, 0]
    ])
    matrix = confusion_matrix([dets], [TARGET], 2)
    expected = np.array([[0, 1, 1], [0, 1, 0], [1, 1, 0]])
    assert (matrix == expected).all()
    assert (confusion_matrix([dets], [TARGET], 2, score_threshold=0.25) == [[0, 1, 1], [0, 1, 0], [0, 1, 1]]).all()


def test_pairs_go_by_decreasing_iou_whatever_the_class():
    # the 0.9-score detection overlaps A by 0.82 and the 0.8 one overlaps A exactly: the exact one takes A
    gt = {"boxes": torch.tensor([A], dtype=torch.float32), "labels": torch.tensor([1])}
    dets = _det([([1, 0, 10, 10], 0.9, 2), (A, 0.8, 1)])
    assert (confusion_matrix([dets], [gt], 2) == [[0, 0, 1], [0, 1, 0], [0, 0, 0]]).all()


def test_perfect_detections_fill_the_diagonal_like_voc_true_positives():
    dets = _det([(A, 0.9, 1), (B, 0.9, 2), (D, 0.9, 2)])
    target = {**TARGET, "difficult": torch.zeros(4, dtype=torch.bool)}
    matrix = confusion_matrix([dets, _det([])], [target, target], 2)
    assert np.diag(matrix).tolist() == [0, 1, 2] and matrix[1, 0] == 2 + 1 and matrix[2, 0] == 2
    voc = evaluate_voc([dets, _det([])], [target, target], 2)
    assert voc["recall"][1][-1] * voc["num_gt"][1] == matrix[1, 1]

"""How many box edits turn a start (accepted suggestions, or nothing) into the true boxes.

Plain Python, no Qt; the measure of ``benchmarks/bench_labelling.py``. The start boxes and
the true boxes are paired greedily by decreasing IoU (any class; each box in one pair at
most; pairs need IoU ``>= near_iou``), then each pair costs:

- IoU ``>= right_iou`` and the same class: nothing (right as it is);
- IoU ``>= right_iou``, another class: one relabel;
- ``near_iou <= IoU < right_iou``: one move (drag the box into place), plus a relabel when
  the class is wrong;

a start box left unpaired is one delete, a true box left unpaired one draw. Boxes are
``(x1, y1, x2, y2)`` in the same pixels on both sides; IoU is
:func:`frcnn_core.boxes.pairwise_iou` (torchvision's ``box_iou``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from frcnn_core.boxes import pairwise_iou

RIGHT_IOU = 0.7
NEAR_IOU = 0.5


@dataclass(frozen=True)
class EditCount:
    """Box edits needed: draws, moves, relabels, deletes; ``right`` start boxes kept as they are."""

    draws: int = 0
    moves: int = 0
    relabels: int = 0
    deletes: int = 0
    right: int = 0

    @property
    def total(self) -> int:
        return self.draws + self.moves + self.relabels + self.deletes

    def __add__(self, other: EditCount) -> EditCount:
        return EditCount(*(a + b for a, b in zip(self._values(), other._values())))

    def _values(self) -> tuple[int, ...]:
        return (self.draws, self.moves, self.relabels, self.deletes, self.right)


def greedy_pairs(iou: np.ndarray, least: float) -> list[tuple[int, int]]:
    """``(row, column)`` pairs of ``iou`` ``[S, T]`` taken in decreasing IoU, each row and column
    at most once, IoU ``>= least``."""
    rows, cols = np.nonzero(iou >= least)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_rows, used_cols, pairs = set(), set(), []
    for r, c in zip(rows[order].tolist(), cols[order].tolist()):
        if r not in used_rows and c not in used_cols:
            used_rows.add(r)
            used_cols.add(c)
            pairs.append((r, c))
    return pairs


def edits_to_reach(start_boxes: np.ndarray, start_names: Sequence[str], true_boxes: np.ndarray, true_names: Sequence[str],
                   right_iou: float = RIGHT_IOU, near_iou: float = NEAR_IOU) -> EditCount:
    """The edits that turn ``start_boxes`` ``[S, 4]`` (``start_names``) into ``true_boxes``
    ``[T, 4]`` (``true_names``), by the rule of the module docstring."""
    start = np.asarray(start_boxes, dtype=np.float64).reshape(-1, 4)
    true = np.asarray(true_boxes, dtype=np.float64).reshape(-1, 4)
    if not len(start) or not len(true):
        return EditCount(draws=len(true), deletes=len(start))
    iou = pairwise_iou(torch.from_numpy(start), torch.from_numpy(true)).numpy()
    moves = relabels = right = 0
    pairs = greedy_pairs(iou, near_iou)
    for s, t in pairs:
        same = start_names[s] == true_names[t]
        placed = iou[s, t] >= right_iou
        right += same and placed
        moves += not placed
        relabels += not same
    return EditCount(draws=len(true) - len(pairs), moves=moves, relabels=relabels, deletes=len(start) - len(pairs), right=right)

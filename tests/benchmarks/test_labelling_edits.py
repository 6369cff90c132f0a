"""The labelling benchmark's measure: how many box edits turn a start into the true boxes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from labelling_edits import EditCount, edits_to_reach  # noqa: E402


def test_edits_count_moves_relabels_deletes_and_draws():
    true = np.array([[0, 0, 100, 100], [200, 0, 300, 100], [400, 0, 500, 100], [600, 0, 700, 100]], dtype=float)
    names = ["cat", "cat", "dog", "dog"]
    start = np.array([
        [0, 0, 100, 100],  # right
        [200, 0, 280, 100],  # IoU 0.8, wrong class: relabel
        [400, 0, 470, 100],  # IoU 0.7 exactly: right
        [600, 0, 660, 100],  # IoU 0.6: move
        [900, 0, 950, 50],  # extra: delete
    ], dtype=float)
    count = edits_to_reach(start, ["cat", "dog", "dog", "dog", "cat"], true, names)
    assert count == EditCount(draws=0, moves=1, relabels=1, deletes=1, right=2)
    assert count.total == 3
    assert edits_to_reach(start[:1], ["cat"], true, names) == EditCount(draws=3, right=1)
    assert edits_to_reach(np.zeros((0, 4)), [], true, names) == EditCount(draws=4)
    assert edits_to_reach(start[:1], ["dog"], np.zeros((0, 4)), []) == EditCount(deletes=1)

"""Anchors: the seed's worked numbers and the layout the RPN expects."""

import itertools
import math

import numpy as np
import torch

from frcnn_core import anchor_base, grid_anchors
from frcnn_core.anchors.grid import anchor_cell_index, inside_image


def seed_anchor_base(stride=16, ratios=(0.5, 1, 2), scales=(8, 16, 32)):
    """The seed's loop, converted to xyxy: reference values for anchor_base."""
    out = []
    for r in ratios:
        for s in scales:
            h = stride * s * math.sqrt(r)
            w = stride * s * math.sqrt(1.0 / r)
            c = stride / 2.0
            out.append([c - w / 2, c - h / 2, c + w / 2, c + h / 2])
    return torch.tensor(out, dtype=torch.float32)


def test_anchor_base_matches_seed_loop():
    torch.testing.assert_close(anchor_base(), seed_anchor_base())
    torch.testing.assert_close(anchor_base(8, (2, 4), (1.0, 3.0)), seed_anchor_base(8, (1.0, 3.0), (2, 4)))


def test_grid_has_seed_count_and_row_major_cell_order():
    anchors = grid_anchors((50, 50))
    assert anchors.shape == (22500, 4)
    base = seed_anchor_base()
    # anchor ((y * Wf + x) * A + a) is the base anchor a shifted to cell (y, x)
    for y, x in [(0, 0), (0, 1), (1, 0), (7, 31), (49, 49)]:
        first = (y * 50 + x) * 9
        torch.testing.assert_close(anchors[first : first + 9], base + torch.tensor([16.0 * x, 16.0 * y] * 2))


def test_grid_matches_rpn_layout():
    """A conv output permuted to [H, W, A] flattens in the anchors' order."""
    hf, wf, a = 3, 5, 9
    conv_out = torch.arange(a * hf * wf).reshape(1, a, hf, wf)
    flat = conv_out.permute(0, 2, 3, 1).reshape(-1)
    anchors = grid_anchors((hf, wf))
    for idx in [0, 8, 9, 44, 100, hf * wf * a - 1]:
        cy, cx, k = (int(v) for v in anchor_cell_index(torch.tensor(idx), wf, a))
        assert int(flat[idx]) == conv_out[0, k, cy, cx]
        centre = (anchors[idx, :2] + anchors[idx, 2:]) / 2
        torch.testing.assert_close(centre, torch.tensor([16.0 * cx + 8, 16.0 * cy + 8]))


def test_non_square_and_custom_settings():
    anchors = grid_anchors((3, 7), stride=8, scales=(2, 4), ratios=(1.0,))
    assert anchors.shape == (3 * 7 * 2, 4)
    widths = anchors[:, 2] - anchors[:, 0]
    assert set(widths.unique().tolist()) == {16.0, 32.0}


def test_seed_inside_count():
    assert int(inside_image(grid_anchors((50, 50)), (800, 800)).sum()) == 8940


def test_matches_seed_numpy_loops_as_a_set():
    """Same boxes as the seed's (x-major) loops, only reordered."""
    fe = 6
    ctr = [(y * 16 + 8, x * 16 + 8) for x in range(fe) for y in range(fe)]
    seed = []
    for cy, cx in ctr:
        for r, s in itertools.product((0.5, 1, 2), (8, 16, 32)):
            h, w = 16 * s * np.sqrt(r), 16 * s * np.sqrt(1 / r)
            seed.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    ours = grid_anchors((fe, fe)).double().numpy()
    seed = np.array(seed)
    key = lambda a: np.lexsort(np.round(a, 3).T[::-1])  # noqa: E731
    np.testing.assert_allclose(ours[key(ours)], seed[key(seed)], atol=1e-3)

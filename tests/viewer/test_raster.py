"""frcnn_viewer.state.raster: outline masks agree with a box-by-box reference."""

import numpy as np
import pytest

from frcnn_viewer.state.raster import colour_mask, outline_mask, premultiplied_argb


def reference_mask(boxes, width, height, line_width=1):
    """Draw each outline pixel by pixel (slow, obviously right)."""
    mask = np.zeros((height, width), bool)
    for x1, y1, x2, y2 in boxes:
        x1, x2 = sorted((int(np.floor(x1)), int(np.floor(x2))))
        y1, y2 = sorted((int(np.floor(y1)), int(np.floor(y2))))
        for o in range(line_width):
            for y in (y1 + o, y2 - o):
                if 0 <= y < height:
                    mask[y, max(x1, 0):max(min(x2, width - 1) + 1, 0)] = True
            for x in (x1 + o, x2 - o):
                if 0 <= x < width:
                    mask[max(y1, 0):max(min(y2, height - 1) + 1, 0), x] = True
    return mask


@pytest.mark.parametrize("line_width", [1, 2])
def test_matches_reference_with_clipping_and_reversed_corners(line_width):
    rng = np.random.default_rng(0)
    boxes = rng.uniform(-30, 90, size=(200, 4))  # many boxes cross the borders or have x2 < x1
    np.testing.assert_array_equal(outline_mask(boxes, 64, 48, line_width), reference_mask(boxes, 64, 48, line_width))


def test_single_box_edges_land_on_floor_pixels():
    mask = outline_mask(np.array([[2.0, 1.0, 5.5, 4.0]]), 8, 6)
    assert mask[1, 2:6].all() and mask[4, 2:6].all()  # top and bottom rows, x 2..5
    assert mask[1:5, 2].all() and mask[1:5, 5].all()  # left and right columns
    assert mask.sum() == 4 + 4 + 2 + 2
    assert not mask[2:4, 3:5].any()  # hollow


def test_empty_and_non_finite_boxes_draw_nothing():
    assert not outline_mask(np.zeros((0, 4)), 10, 10).any()
    assert not outline_mask(np.array([[np.nan, 0, 5, 5], [1e30, -1e30, 2e30, 3e30]]), 10, 10).any()


def test_colour_is_premultiplied_argb():
    assert premultiplied_argb((255, 0, 0, 255)) == 0xFFFF0000
    assert premultiplied_argb((255, 255, 255, 128)) == (128 << 24) | (128 << 16) | (128 << 8) | 128
    pixels = colour_mask(np.array([[True, False]]), (0, 255, 0, 255))
    assert pixels.tolist() == [[0xFF00FF00, 0]]

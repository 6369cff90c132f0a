"""Label placement (Qt-free): no two placed labels overlap, each sits at a corner of its box, on
screen, first come first served; checked against a plain-Python greedy reference."""

from __future__ import annotations

import numpy as np

from frcnn_viewer.state.label_placement import ELLIPSIS, candidate_rects, elide, place_labels

SCREEN = (0.0, 0.0, 640.0, 480.0)


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def reference(boxes, anchors, sizes, screen):
    """The same greedy rule written label by label, spot by spot."""
    out, taken = [], []
    for box, anchor, size in zip(boxes, anchors, sizes):
        x1, y1, x2, y2 = box
        w, h = size
        corners = [(x1, y1), (x2, y1), (x1, y2), (x2, y2)]
        first = min(range(4), key=lambda k: (corners[k][0] - anchor[0]) ** 2 + (corners[k][1] - anchor[1]) ** 2)
        spots = []
        for k in [first] + [k for k in range(4) if k != first]:
            left = x1 if k in (0, 2) else x2 - w
            outside, inside = (y1 - h, y1) if k < 2 else (y2, y2 - h)
            spots += [(left, outside, left + w, outside + h), (left, inside, left + w, inside + h)]
        chosen = next((s for s in spots if s[0] >= screen[0] and s[1] >= screen[1] and s[2] <= screen[2] and s[3] <= screen[3]
                       and not any(overlaps(s, t) for t in taken)), None)
        out.append(chosen if chosen is not None else (np.nan,) * 4)
        if chosen is not None:
            taken.append(chosen)
    return np.array(out, dtype=float).reshape(-1, 4)


def random_scene(n: int, seed: int):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 560, size=(n, 2)) * (1, 0.75)
    wh = rng.uniform(20, 120, size=(n, 2))
    boxes = np.concatenate((xy, xy + wh), axis=1)
    anchors = boxes[:, :2].copy()
    anchors[::3] = boxes[::3][:, [0, 3]]  # a third anchored bottom-left, like "missed"
    sizes = np.stack((rng.uniform(30, 110, n), np.full(n, 14.0)), axis=1)
    return boxes, anchors, sizes


def test_two_labels_of_one_box_both_fit_without_overlap():
    box = np.array([[100.0, 100.0, 200.0, 180.0]] * 2)
    placed = place_labels(box, box[:, :2], np.array([[90.0, 14.0], [120.0, 14.0]]), SCREEN)
    np.testing.assert_array_equal(placed[0], [100, 86, 190, 100])  # above the top-left corner
    np.testing.assert_array_equal(placed[1], [100, 100, 220, 114])  # just inside it
    assert not overlaps(placed[0], placed[1])


def test_a_box_at_the_top_edge_gets_its_label_inside_and_bottom_anchors_go_below():
    boxes = np.array([[10.0, 0.0, 90.0, 60.0], [200.0, 200.0, 260.0, 260.0]])
    anchors = np.array([[10.0, 0.0], [200.0, 260.0]])
    placed = place_labels(boxes, anchors, np.array([[40.0, 14.0], [40.0, 14.0]]), SCREEN)
    np.testing.assert_array_equal(placed[0], [10, 0, 50, 14])
    np.testing.assert_array_equal(placed[1], [200, 260, 240, 274])


def test_crowded_labels_never_overlap_sit_at_a_corner_and_stay_on_screen():
    boxes, anchors, sizes = random_scene(300, seed=3)
    placed = place_labels(boxes, anchors, sizes, SCREEN)
    kept = ~np.isnan(placed[:, 0])
    assert 0 < kept.sum() < len(boxes)  # crowded: some dropped (shown on hover), many kept
    rects = placed[kept]
    pairwise = ((rects[:, None, 0] < rects[None, :, 2]) & (rects[None, :, 0] < rects[:, None, 2])
                & (rects[:, None, 1] < rects[None, :, 3]) & (rects[None, :, 1] < rects[:, None, 3]))
    assert not pairwise[~np.eye(len(rects), dtype=bool)].any()
    assert (rects[:, 0] >= 0).all() and (rects[:, 2] <= 640).all() and (rects[:, 1] >= 0).all() and (rects[:, 3] <= 480).all()
    spots = candidate_rects(boxes[kept], anchors[kept], sizes[kept])
    assert (np.abs(spots - rects[:, None, :]).max(axis=2) == 0).any(axis=1).all()


def test_matches_the_plain_python_greedy_rule():
    for seed in range(5):
        boxes, anchors, sizes = random_scene(60, seed)
        np.testing.assert_array_equal(place_labels(boxes, anchors, sizes, SCREEN), reference(boxes, anchors, sizes, SCREEN))


def test_no_labels_and_long_names():
    assert place_labels(np.zeros((0, 4)), np.zeros((0, 2)), np.zeros((0, 2)), SCREEN).shape == (0, 4)
    assert elide("person") == "person"
    long = elide("a-very-long-class-name-from-open-images", 18)
    assert len(long) == 18 and long.endswith(ELLIPSIS) and long.startswith("a-very-long-class")

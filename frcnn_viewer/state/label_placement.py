"""Where box labels go on screen so that they do not cover each other (no Qt).

A label belongs to a box. :func:`place_labels` tries, label by label in priority order, the
corners of its box (just outside the box first, so the object stays visible, then just
inside), starting with the corner nearest the label's anchor point, and keeps the first
spot that is on screen and free of the labels placed before it; a label with no free spot
is dropped (the viewer shows it when the mouse is over its box). Everything is in display
pixels, with the label sizes measured by the caller's font.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

RGB = tuple[int, int, int]
ELLIPSIS = "…"
MAX_NAME_CHARS = 18

# The corners of a box, in the order tried after the preferred one.
CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")


class TextLabel(NamedTuple):
    """A label of a box: ``(x, y)`` its anchor (a corner of ``box`` for a box's label), ``box``
    ``(x1, y1, x2, y2)`` the labelled box in image pixels (``None``: a label at a point)."""

    x: float
    y: float
    text: str
    colour: RGB
    box: tuple[float, float, float, float] | None = None


def elide(name: str, limit: int = MAX_NAME_CHARS) -> str:
    """``name`` cut to ``limit`` characters, its end replaced by an ellipsis when cut."""
    return name if len(name) <= limit else name[: limit - 1] + ELLIPSIS


def candidate_rects(boxes: np.ndarray, anchors: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The spots each label may take: ``[N, 8, 4]`` ``(x1, y1, x2, y2)`` display pixels.

    Args:
        boxes: ``[N, 4]`` the labelled boxes in display pixels.
        anchors: ``[N, 2]`` each label's anchor point; the corner nearest to it is tried first.
        sizes: ``[N, 2]`` each label's ``(width, height)``.

    The order per label: preferred corner outside, inside, then the other corners alike
    (:data:`CORNERS` order). Outside a top corner means above the box; outside a bottom one, below.
    """
    x1, y1, x2, y2 = (boxes[:, k : k + 1] for k in range(4))
    w, h = sizes[:, 0:1], sizes[:, 1:2]
    # per corner: left edge x of the label, and its top y outside / inside the box
    left = np.concatenate((x1, x2 - w, x1, x2 - w), axis=1)  # [N, 4]
    top_out = np.concatenate((y1 - h, y1 - h, y2, y2), axis=1)
    top_in = np.concatenate((y1, y1, y2 - h, y2 - h), axis=1)
    corner_x = np.concatenate((x1, x2, x1, x2), axis=1)
    corner_y = np.concatenate((y1, y1, y2, y2), axis=1)
    nearest = np.argmin((corner_x - anchors[:, 0:1]) ** 2 + (corner_y - anchors[:, 1:2]) ** 2, axis=1)
    # the preferred corner first, the others in their usual order
    order = np.argsort(np.arange(4)[None, :] != nearest[:, None], axis=1, kind="stable")  # [N, 4]
    rows = np.arange(len(boxes))[:, None]
    left, top_out, top_in = left[rows, order], top_out[rows, order], top_in[rows, order]
    lefts = np.repeat(left, 2, axis=1)  # outside, inside for each corner
    tops = np.stack((top_out, top_in), axis=2).reshape(len(boxes), 8)
    return np.stack((lefts, tops, lefts + np.repeat(w, 8, axis=1), tops + np.repeat(h, 8, axis=1)), axis=2)


def place_labels(boxes: np.ndarray, anchors: np.ndarray, sizes: np.ndarray, screen: tuple[float, float, float, float]) -> np.ndarray:
    """Place labels greedily, first come first served: ``[N, 4]`` rectangles, NaN for a label
    dropped (no free spot on screen).

    Args:
        boxes, anchors, sizes: as for :func:`candidate_rects` (labels in priority order).
        screen: ``(x1, y1, x2, y2)`` the visible area; a spot must lie inside it.
    """
    n = len(boxes)
    placed = np.full((n, 4), np.nan)
    if n == 0:
        return placed
    candidates = candidate_rects(np.asarray(boxes, float), np.asarray(anchors, float), np.asarray(sizes, float))
    sx1, sy1, sx2, sy2 = screen
    on_screen = (candidates[..., 0] >= sx1) & (candidates[..., 1] >= sy1) & (candidates[..., 2] <= sx2) & (candidates[..., 3] <= sy2)
    taken = np.empty((0, 4))
    for i in np.flatnonzero(on_screen.any(axis=1)):
        spots = candidates[i][on_screen[i]]  # [K, 4]
        if len(taken):
            overlap = ((spots[:, None, 0] < taken[None, :, 2]) & (taken[None, :, 0] < spots[:, None, 2])
                       & (spots[:, None, 1] < taken[None, :, 3]) & (taken[None, :, 1] < spots[:, None, 3])).any(axis=1)
            free = np.flatnonzero(~overlap)
        else:
            free = np.arange(len(spots))
        if len(free):
            placed[i] = spots[free[0]]
            taken = np.concatenate((taken, placed[i : i + 1]))
    return placed

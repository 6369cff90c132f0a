"""Box arithmetic for drawing, moving and resizing, kept inside the image and never empty.

Boxes are ``(x1, y1, x2, y2)`` floats in one image's pixels (displayed or file) with
``0 <= x1 < x2 <= width`` and ``0 <= y1 < y2 <= height``; every function here returns
boxes that keep this and are at least ``min_size`` wide and high. Plain Python, no Qt.
"""

from __future__ import annotations

from collections.abc import Sequence

Box = tuple[float, float, float, float]

# A handle is a corner or an edge of a box; dragging it moves these sides (x1, y1, x2, y2).
HANDLE_SIDES: dict[str, tuple[bool, bool, bool, bool]] = {
    "top_left": (True, True, False, False),
    "top_right": (False, True, True, False),
    "bottom_right": (False, False, True, True),
    "bottom_left": (True, False, False, True),
    "top": (False, True, False, False),
    "right": (False, False, True, False),
    "bottom": (False, False, False, True),
    "left": (True, False, False, False),
}
CORNERS = ("top_left", "top_right", "bottom_right", "bottom_left")


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def span(p: tuple[float, float], q: tuple[float, float], width: float, height: float, min_size: float) -> Box | None:
    """The box with corners ``p`` and ``q`` (any order), clipped to the image; ``None`` when
    it is thinner than ``min_size`` (a click, or a drag along one line)."""
    x1, x2 = sorted((_clamp(p[0], 0.0, width), _clamp(q[0], 0.0, width)))
    y1, y2 = sorted((_clamp(p[1], 0.0, height), _clamp(q[1], 0.0, height)))
    if x2 - x1 < min_size or y2 - y1 < min_size:
        return None
    return (x1, y1, x2, y2)


def contains(box: Sequence[float], x: float, y: float) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def box_at(boxes: Sequence[Sequence[float]], x: float, y: float) -> int | None:
    """The smallest box containing ``(x, y)`` (so a box inside another stays reachable)."""
    hits = [i for i, b in enumerate(boxes) if contains(b, x, y)]
    if not hits:
        return None
    return min(hits, key=lambda i: (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1]))


def handle_at(box: Sequence[float], x: float, y: float, tolerance: float) -> str | None:
    """The handle of ``box`` within ``tolerance`` of ``(x, y)``: a corner, else an edge (anywhere
    along it), else ``None``."""
    x1, y1, x2, y2 = box
    near_x = {"left": abs(x - x1) <= tolerance, "right": abs(x - x2) <= tolerance}
    near_y = {"top": abs(y - y1) <= tolerance, "bottom": abs(y - y2) <= tolerance}
    for corner in CORNERS:
        vertical, horizontal = corner.split("_")
        if near_y[vertical] and near_x[horizontal]:
            return corner
    within_x = x1 - tolerance <= x <= x2 + tolerance
    within_y = y1 - tolerance <= y <= y2 + tolerance
    for edge in ("top", "bottom"):
        if near_y[edge] and within_x:
            return edge
    for edge in ("left", "right"):
        if near_x[edge] and within_y:
            return edge
    return None


def moved(box: Sequence[float], dx: float, dy: float, width: float, height: float) -> Box:
    """``box`` shifted by ``(dx, dy)``, stopped at the image border (its size never changes)."""
    x1, y1, x2, y2 = box
    dx = _clamp(dx, -x1, width - x2)
    dy = _clamp(dy, -y1, height - y2)
    return (x1 + dx, y1 + dy, x2 + dx, y2 + dy)


def resized(box: Sequence[float], handle: str, x: float, y: float, width: float, height: float, min_size: float) -> Box:
    """``box`` with the sides of ``handle`` moved to ``(x, y)``, inside the image; a side stops
    ``min_size`` before the opposite one rather than crossing it."""
    x1, y1, x2, y2 = box
    move_x1, move_y1, move_x2, move_y2 = HANDLE_SIDES[handle]
    if move_x1:
        x1 = _clamp(x, 0.0, x2 - min_size)
    if move_x2:
        x2 = _clamp(x, x1 + min_size, width)
    if move_y1:
        y1 = _clamp(y, 0.0, y2 - min_size)
    if move_y2:
        y2 = _clamp(y, y1 + min_size, height)
    return (x1, y1, x2, y2)


def fitted(box: Sequence[float], width: float, height: float, min_size: float) -> Box | None:
    """``box`` (e.g. typed in by the user) ordered and clipped to the image; ``None`` when less
    than ``min_size`` of it is left in either direction."""
    return span((box[0], box[1]), (box[2], box[3]), width, height, min_size)

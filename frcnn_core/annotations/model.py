"""The in-memory annotation of one image, shared by every file format.

Boxes are ``(x1, y1, x2, y2)`` in continuous float pixel coordinates with the origin
at the image's top-left corner: pixel ``i`` covers ``[i, i + 1)``, so a box around a
whole ``W x H`` image is ``(0, 0, W, H)``. Readers convert into this convention and
writers out of it (VOC's 1-based inclusive integers, COCO's ``[x, y, w, h]``, YOLO's
normalised centres); nothing else in the project sees a file's own convention.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

Box = tuple[float, float, float, float]

# Readers clip boxes that stick out of the image by at most this many pixels without a
# warning: annotation tools routinely put the far edge one pixel past the border.
CLIP_TOLERANCE = 1.0


class AnnotationError(ValueError):
    """An annotation file or record is malformed; the message names the file and the value."""


@dataclass
class BoxAnnotation:
    """One labelled box.

    Attributes:
        label: the class name.
        box: ``(x1, y1, x2, y2)`` continuous pixels (see the module docstring).
        difficult: hard to recognise; training and evaluation ignore it (VOC's flag).
        truncated: the object extends beyond the box (VOC's flag).
        pose: VOC's free-text view, ``"Unspecified"`` unless a tool set it.
    """

    label: str
    box: Box
    difficult: bool = False
    truncated: bool = False
    pose: str = "Unspecified"


@dataclass
class ImageAnnotation:
    """The boxes of one image and the image's metadata as labelImg records it.

    Attributes:
        filename: the image's file name (COCO's ``file_name`` may include folders).
        width, height, depth: the image size in pixels and its number of channels.
        boxes: the labelled boxes, in file order.
        verified: labelImg's "verified" mark (``verified="yes"`` on the VOC root).
        folder, path, database, segmented: VOC metadata, kept for round trips.
        warnings: problems a reader tolerated (a clipped box, a skipped object in
            non-strict mode), one message each naming the file and the record.
            Never written, and ignored when comparing annotations.
    """

    filename: str
    width: int
    height: int
    depth: int = 3
    boxes: list[BoxAnnotation] = field(default_factory=list)
    verified: bool = False
    folder: str = ""
    path: str = ""
    database: str = "Unknown"
    segmented: int = 0
    warnings: list[str] = field(default_factory=list, compare=False, repr=False)

    def labels(self) -> list[str]:
        """The class name of each box, in box order."""
        return [b.label for b in self.boxes]

    def clipped_boxes(self) -> list[BoxAnnotation]:
        """The boxes clipped to the image, for writers.

        Raises:
            AnnotationError: a box has no area inside the image (or is not finite);
                the message names the image and the box.
        """
        result = []
        for i, b in enumerate(self.boxes, start=1):
            clipped = clip_box(b.box, self.width, self.height)
            if clipped is None:
                raise AnnotationError(
                    f"{self.filename}: box #{i} ({b.label!r}) {format_box(b.box)} "
                    f"has no area inside the {self.width}x{self.height} image"
                )
            result.append(replace(b, box=clipped))
        return result


def clip_box(box: Iterable[float], width: int, height: int) -> Box | None:
    """Clip ``(x1, y1, x2, y2)`` to the image ``[0, width] x [0, height]``.

    Returns:
        The clipped box as a tuple of floats, or ``None`` when a coordinate is not
        finite or nothing of positive area is left (inverted and zero-size boxes
        included).
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        return None
    x1, x2 = min(max(x1, 0.0), width), min(max(x2, 0.0), width)
    y1, y2 = min(max(y1, 0.0), height), min(max(y2, 0.0), height)
    if x2 <= x1 or y2 <= y1:
        return None
    return (x1, y1, x2, y2)


def fit_box(box: Box, width: int, height: int, where: str) -> tuple[Box, str | None]:
    """Clip a box read from a file into its image, for readers.

    Args:
        box: ``(x1, y1, x2, y2)`` continuous pixels, already converted from the file.
        where: the file and the record, prefixed to messages.

    Returns:
        ``(clipped, warning)``: ``warning`` is ``None`` unless the box stuck out of the
        image by more than :data:`CLIP_TOLERANCE` pixels.

    Raises:
        AnnotationError: nothing of positive area is left (inverted, zero-size, not
            finite or wholly outside the image).
    """
    clipped = clip_box(box, width, height)
    if clipped is None:
        raise AnnotationError(f"{where}: box {format_box(box)} has no area inside the {width}x{height} image")
    if max(abs(a - b) for a, b in zip(box, clipped)) > CLIP_TOLERANCE:
        return clipped, f"{where}: box {format_box(box)} extends outside the {width}x{height} image; clipped to {format_box(clipped)}"
    return clipped, None


def format_box(box: Iterable[float]) -> str:
    """``[x1, y1, x2, y2]`` compactly, for messages."""
    return "[" + ", ".join(f"{v:g}" for v in box) + "]"


def class_names_of(annotations: Iterable[ImageAnnotation]) -> list[str]:
    """The distinct labels used by ``annotations``, sorted (a default class list for exports)."""
    return sorted({label for a in annotations for label in a.labels()})

"""An image's displayed pixels and its file's pixels, mapped in one place.

The canvas shows a huge image reduced (:attr:`LoadedImage.display_scale
<frcnn_viewer.state.sources.LoadedImage.display_scale>`); the document's GT, the anchors and the
box editor work in displayed pixels, while annotation boxes are kept and saved in the
file's pixels. Plain Python, no Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...state.sources import LoadedImage

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PixelMapping:
    """``displayed = file * scale`` for one image; boxes are ``(x1, y1, x2, y2)`` continuous
    pixels on both sides.

    Attributes:
        scale: ``(sx, sy)`` displayed pixels per file pixel.
        file_size: ``(H, W)`` of the image file.
    """

    scale: tuple[float, float] = (1.0, 1.0)
    file_size: tuple[int, int] = (0, 0)

    @classmethod
    def of(cls, image: LoadedImage) -> PixelMapping:
        return cls(tuple(float(s) for s in image.display_scale), tuple(int(v) for v in image.original_size))

    @property
    def _factors(self) -> np.ndarray:
        sx, sy = self.scale
        return np.array((sx, sy, sx, sy), dtype=np.float64)

    def to_display(self, boxes: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """``[N, 4]`` file-pixel boxes as ``[N, 4]`` float64 displayed-pixel boxes."""
        return np.asarray(boxes, dtype=np.float64).reshape(-1, 4) * self._factors

    def to_file(self, boxes: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """``[N, 4]`` displayed-pixel boxes as ``[N, 4]`` float64 file-pixel boxes (not clipped)."""
        return np.asarray(boxes, dtype=np.float64).reshape(-1, 4) / self._factors

    def file_box(self, box: Sequence[float]) -> Box:
        """One displayed-pixel box in file pixels, clipped to the file image."""
        height, width = self.file_size
        x1, y1, x2, y2 = (float(v) for v in self.to_file(box)[0])
        return (max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height)))

    def file_length(self, displayed: float) -> float:
        """The file pixels that ``displayed`` pixels span at least (in both directions)."""
        return displayed / max(self.scale)

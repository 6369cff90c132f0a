"""Draw detections onto an image file (for ``frcnn detect --render``)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw
from torch import Tensor

from ..config import DetectorConfig
from ..roi.postprocess import Detections
from .atomic import atomic_write_bytes

PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230))


def render_detections(image: Tensor, detections: Detections, config: DetectorConfig, path: str | Path) -> Path:
    """Write ``image`` (``[3, H, W]`` 0..1) with labelled boxes (original pixels) as a PNG, atomically."""
    array = (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).contiguous().numpy()
    canvas = Image.fromarray(array)
    draw = ImageDraw.Draw(canvas)
    for box, score, label in zip(detections.boxes.tolist(), detections.scores.tolist(), detections.labels.tolist()):
        colour = PALETTE[(label - 1) % len(PALETTE)]
        draw.rectangle(box, outline=colour, width=2)
        draw.text((box[0] + 3, box[1] + 2), f"{config.label_name(label)} {score:.2f}", fill=colour)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())
    return path

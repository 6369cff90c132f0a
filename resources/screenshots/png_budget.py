"""Keep committed screenshots small: a PNG over the byte budget is re-saved with a 256-colour palette."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

MAX_BYTES = 300_000


def shrink_png(path: Path, max_bytes: int = MAX_BYTES) -> None:
    """Quantise ``path`` in place when it is larger than ``max_bytes``, then report its size."""
    if path.stat().st_size > max_bytes:
        with Image.open(path) as image:
            image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path}: {path.stat().st_size // 1024} KB")

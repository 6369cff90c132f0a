"""Reading image files: a cheap index-time check, and decoding to 8-bit RGB.

:func:`probe_image` is what loaders run when they index a set. It reads the header
(format and size) and the last bytes of the file: a JPEG must end with its EOI marker
and a PNG with its ``IEND`` chunk, which catches files cut short by an interrupted
copy or download without decoding them. Only a file that fails that tail test is
decoded in full to decide. Other formats (BMP, TIFF, WebP) are checked by header
only; if their data turn out to be corrupt, :func:`read_rgb` raises
:class:`DatasetError` for that image when it is used.

Pixels are the file's stored pixels: EXIF orientation is not applied, because
annotation tools (labelImg, COCO) give boxes in stored pixels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import DatasetError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

# How a complete file of each format ends (trailing NUL padding is tolerated).
_ENDINGS = {"JPEG": b"\xff\xd9", "PNG": b"IEND\xaeB`\x82"}
_TAIL_BYTES = 64


def is_image_file(path: Path) -> bool:
    """Whether ``path`` has one of :data:`IMAGE_EXTENSIONS` (case-insensitive)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _ends_completely(path: Path, image_format: str) -> bool:
    ending = _ENDINGS.get(image_format)
    if ending is None:
        return True
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - _TAIL_BYTES))
        return f.read().rstrip(b"\x00").endswith(ending)


def probe_image(path: str | os.PathLike) -> tuple[int, int]:
    """``(H, W)`` of an image file, checked as described in the module docstring.

    Raises:
        DatasetError: missing, not an image, or truncated; the message names the file.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            width, height = im.size
            if not _ends_completely(path, im.format or ""):
                im.load()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except Image.DecompressionBombError as exc:
        raise DatasetError(f"{path}: too large to open: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # PIL's errors for unreadable or cut files
        raise DatasetError(f"{path}: not a readable image: {exc}") from None
    if width < 1 or height < 1:
        raise DatasetError(f"{path}: empty image ({width}x{height})")
    return height, width


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to ``[H, W, 3]`` uint8 RGB (see :func:`to_rgb8`).

    Raises:
        DatasetError: the file cannot be decoded; the message names it.
    """
    try:
        with Image.open(path) as im:
            im.load()
            return to_rgb8(im)
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot decode: {exc}") from None


def _gray_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Scale (never clip) single-channel integer or float pixels to 0..255.

    16-bit modes (``I;16*``) and ``I`` (how PIL opens 16-bit PNGs) span 0..65535;
    ``F`` spans 0..1 when its values fit, otherwise its own min..max.
    """
    values = values.astype(np.float64)
    if mode == "F":
        low, high = float(values.min()), float(values.max())
        if low < 0.0 or high > 1.0:
            values = (values - low) / (high - low) if high > low else np.zeros_like(values)
        return np.round(values * 255.0).astype(np.uint8)
    return np.round(np.clip(values, 0, 65535) * (255.0 / 65535.0)).astype(np.uint8)


def to_rgb8(im: Image.Image) -> np.ndarray:
    """``[H, W, 3]`` uint8 RGB from any PIL mode.

    Grayscale is replicated into three channels, palette images are expanded,
    alpha is dropped, CMYK is converted, and high-bit-depth grayscale is scaled
    (not clipped) to 8 bits.
    """
    if im.mode == "RGB":
        return np.asarray(im, dtype=np.uint8).copy()
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        gray = _gray_to_uint8(np.asarray(im), im.mode)
        return np.repeat(gray[:, :, None], 3, axis=2)
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()

"""Small image and annotation files for the data-loader tests (written into ``tmp_path``), and
a tiny in-memory dataset for the trainer tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image


def write_image(path: Path, width: int = 64, height: int = 48, colour=(200, 40, 10), seed: int | None = None) -> Path:
    """An RGB image file of one colour (or noise when ``seed`` is given); format from the suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if seed is None:
        pixels = np.empty((height, width, 3), np.uint8)
        pixels[:] = colour
    else:
        pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut a file to ``keep`` of its length, like an interrupted copy."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def write_garbage(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not an image at all" * 10)
    return path


def voc_xml(filename: str, width: int, height: int, objects: list[tuple]) -> str:
    """A labelImg-style VOC annotation; ``objects`` are ``(name, xmin, ymin, xmax, ymax[, difficult])``
    in VOC's 1-based inclusive pixels."""
    parts = [
        "<annotation>",
        "<folder>images</folder>",
        f"<filename>{filename}</filename>",
        f"<size><width>{width}</width><height>{height}</height><depth>3</depth></size>",
    ]
    for name, xmin, ymin, xmax, ymax, *flags in objects:
        difficult = flags[0] if flags else 0
        parts.append(
            f"<object><name>{name}</name><difficult>{difficult}</difficult>"
            f"<bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox></object>"
        )
    parts.append("</annotation>")
    return "\n".join(parts)


class TinyBoxes:
    """Four 96x96 images, each with one bright rectangle of class 1 or 2."""

    class_names = ("bright", "dark")

    def __len__(self):
        return 4

    def __getitem__(self, i):
        image = torch.full((3, 96, 96), 0.5)
        x = 10 + 15 * i
        image[:, 20:60, x : x + 30] = 1.0 if i % 2 == 0 else 0.0
        target = {"boxes": torch.tensor([[float(x), 20.0, x + 30.0, 60.0]]), "labels": torch.tensor([1 + i % 2]), "difficult": torch.tensor([False])}
        return image, target

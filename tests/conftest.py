"""Fixtures shared by the core's and the viewer's tests."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from frcnn_core.annotations import export_coco
from frcnn_core.annotations.model import BoxAnnotation, ImageAnnotation


def write_large_objects(folder, count: int = 6):
    """A COCO set of ``count`` images 256x256 in ``folder``, each one object filling 70-90 % of
    it: the cpu preset's largest anchor (104 px) reaches IoU 0.5 with none of them."""
    rng = np.random.default_rng(0)
    annotations = []
    for i in range(count):
        side = int(rng.integers(180, 230))
        x, y = int(rng.integers(0, 256 - side)), int(rng.integers(0, 256 - side))
        pixels = np.full((256, 256, 3), 40, np.uint8)
        pixels[y : y + side, x : x + side] = (200, 80, 60)
        Image.fromarray(pixels).save(folder / f"img{i}.png")
        annotations.append(ImageAnnotation(f"img{i}.png", 256, 256, boxes=[BoxAnnotation("block", (x, y, x + side, y + side))]))
    return export_coco(annotations, ["block"], folder / "instances.json")


@pytest.fixture(scope="module")
def large_objects(tmp_path_factory):
    """:func:`write_large_objects` in a folder of the module's."""
    return write_large_objects(tmp_path_factory.mktemp("large"))


@pytest.fixture(scope="module")
def state_dict_file(tmp_path_factory):
    """``torch.save(model.state_dict(), path)`` of a random-init two-class torchvision
    ``fasterrcnn_mobilenet_v3_large_320_fpn``: a user's torchvision file, small enough for tests."""
    import torch

    from frcnn_core.models.torchvision_frcnn import build_torchvision_detector

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tv") / "mobilenet.pth"
    torch.save(build_torchvision_detector("fasterrcnn_mobilenet_v3_large_320_fpn", 2).state_dict(), path)
    return path

import pytest
import torch

from frcnn_core import cpu_config


@pytest.fixture
def two_box_image():
    """A 128x128 image with a red (class 1) and a blue (class 2) rectangle, and its target."""
    image = torch.full((3, 128, 128), 0.2)
    image[0, 20:60, 15:70] = 0.9
    image[2, 70:115, 60:120] = 0.9
    target = {"boxes": torch.tensor([[15.0, 20.0, 70.0, 60.0], [60.0, 70.0, 120.0, 115.0]]), "labels": torch.tensor([1, 2])}
    return image, target


@pytest.fixture
def tiny_config():
    return cpu_config(2, ("red", "blue"), min_size=128, max_size=128)

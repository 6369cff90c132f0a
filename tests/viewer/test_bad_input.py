"""Bad input gets a clear message in the window and the app keeps running with nothing lost."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.models.checkpoint import save_checkpoint

from .conftest import draw_image


def texts(window, level=None) -> str:
    return "\n".join(m.text for m in window.document.messages if level is None or m.level == level)


def test_missing_path_and_non_image_file_are_reported(window, tmp_path, image_file):
    window.open_paths([image_file])
    shown = window.document.image
    fake = tmp_path / "notes.png"
    fake.write_text("this is not an image")
    window.open_paths([tmp_path / "nowhere.jpg"])
    assert "nowhere.jpg: no such file" in texts(window)
    window.open_paths([fake])
    assert "notes.png" in texts(window, "error") or "notes.png" in texts(window, "warning")
    assert window.document.image is shown  # still showing the good image
    assert window.isVisible()


def test_grayscale_rgba_and_16_bit_images_are_shown_as_rgb_with_a_note(window, tmp_path):
    rgb = draw_image()
    paths = {
        "gray.png": Image.fromarray(rgb[..., 0]),
        "rgba.png": Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])),
        "deep.png": Image.fromarray(rgb[..., 1].astype(np.uint16) * 257),
    }
    for name, image in paths.items():
        image.save(tmp_path / name)
    for name, note in (("gray.png", "grayscale"), ("rgba.png", "alpha"), ("deep.png", "16-bit")):
        assert window.open_paths([tmp_path / name]) == 1
        image = window.document.image
        assert image.entry.name == name
        assert image.pixels.dtype == np.uint8 and image.pixels.shape == (120, 160, 3)
        assert note in texts(window, "warning"), name
        assert window.document.trace is not None


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # raised by PIL while indexing: wanted here
def test_huge_image_is_downscaled_for_display_and_exported_in_original_pixels(window, tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (10_000, 10_000), 90).save(path)
    assert window.open_paths([path]) == 1
    image = window.document.image
    assert max(image.size) == 4096 and image.original_size == (10_000, 10_000)
    assert "downscaled" in texts(window, "warning")
    rows = window.export_detections(tmp_path / "huge.json")
    assert rows is not None
    import json

    boxes = [r["bbox"] for r in json.loads(rows.read_text())]
    assert boxes and max(b[0] + b[2] for b in boxes) > 4096  # scaled back to the 10 000 px file


def test_a_garbage_checkpoint_is_refused_and_the_model_kept(window, tmp_path, coco_file):
    window.open_paths([coco_file])
    model_before = window.document.model
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    assert not window.load_checkpoint(garbage)
    assert "garbage.pt" in window.document.messages[-1].text
    assert window.document.model is model_before and window.banner.isVisible()
    assert window.document.trace is not None


def test_a_fitting_checkpoint_replaces_the_untrained_model(window, tmp_path, coco_file):
    window.open_paths([coco_file])
    torch.manual_seed(1)
    path = save_checkpoint(tmp_path / "fits.pt", FasterRCNN(cpu_config(2, ("red", "blue"), min_size=128, max_size=256)))
    assert window.load_checkpoint(path)
    assert window.document.model.checkpoint == str(path)
    assert not window.banner.isVisible()
    assert window.document.parameters.min_size == 128  # the panel follows the checkpoint's config
    assert window.document.trace.input_size[0] == 128


def test_bad_anchor_parameters_leave_the_labels_alone(window, coco_file):
    window.open_paths([coco_file])
    before = window.counts()
    assert not window.set_parameters(rpn_neg_iou=0.9)
    assert "not applied" in texts(window, "error")
    assert window.counts() == before

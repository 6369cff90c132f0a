"""ImageFolderDataset and image decoding: every PIL mode to 8-bit RGB, bad files reported."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from data_files import truncate, write_garbage, write_image
from PIL import Image

from frcnn_core.data import DatasetError, ImageFolderDataset, read_rgb


def test_folder_lists_image_files_sorted_with_empty_targets(tmp_path):
    write_image(tmp_path / "b.png", 20, 10)
    write_image(tmp_path / "a.JPG", 30, 15)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub").mkdir()
    write_image(tmp_path / "sub" / "deeper.png")
    ds = ImageFolderDataset(tmp_path)
    assert [ds.info(i)["path"] for i in range(len(ds))] == [str(tmp_path / "a.JPG"), str(tmp_path / "b.png")]
    assert ds.class_names == () and ds.category_ids == () and ds.image_ids == [0, 1] and ds.problems == []
    image, target = ds[1]
    assert image.shape == (3, 10, 20)
    assert target["boxes"].shape == (0, 4) and target["labels"].dtype == torch.int64 and target["size"] == (10, 20)


def test_files_and_folders_mix_and_duplicates_are_listed_once(tmp_path):
    one = write_image(tmp_path / "one.png")
    write_image(tmp_path / "dir" / "two.png")
    ds = ImageFolderDataset([one, tmp_path / "dir", str(one)])
    assert len(ds) == 2
    assert len(ImageFolderDataset(str(one))) == 1


def test_unreadable_truncated_and_missing_files_are_reported(tmp_path):
    write_image(tmp_path / "good.png")
    truncate(write_image(tmp_path / "cut.jpg", 64, 64, seed=0), 0.5)
    truncate(write_image(tmp_path / "cut.png", 64, 64, seed=0), 0.7)
    write_garbage(tmp_path / "junk.jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    ds = ImageFolderDataset([tmp_path, tmp_path / "missing.png"])
    assert len(ds) == 1 and ds.info(0)["path"].endswith("good.png")
    assert len(ds.problems) == 5
    for name in ("cut.jpg", "cut.png", "junk.jpg", "empty.png", "missing.png"):
        assert sum(name in p for p in ds.problems) == 1, name


def test_jpeg_with_trailing_padding_is_accepted(tmp_path):
    path = write_image(tmp_path / "padded.jpg", seed=3)
    path.write_bytes(path.read_bytes() + b"\x00" * 100)
    assert len(ImageFolderDataset(path)) == 1


def test_info_does_not_decode(tmp_path):
    path = write_image(tmp_path / "a.png", 12, 8)
    ds = ImageFolderDataset(tmp_path)
    path.unlink()
    assert ds.info(0)["size"] == (8, 12)
    with pytest.raises(DatasetError, match="a.png"):
        ds[0]


def _saved(tmp_path, image: Image.Image, name: str = "x.png"):
    path = tmp_path / name
    image.save(path)
    return read_rgb(path)


def test_grayscale_is_replicated(tmp_path):
    rgb = _saved(tmp_path, Image.fromarray(np.array([[0, 100], [200, 255]], np.uint8), "L"))
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert rgb[:, :, 0].tolist() == [[0, 100], [200, 255]] and (rgb[:, :, 0] == rgb[:, :, 2]).all()


def test_sixteen_bit_grayscale_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 100], [32768, 65535]], np.uint16)
    for name in ("x.png", "x.tif"):
        rgb = _saved(tmp_path, Image.fromarray(values), name)
        assert rgb[:, :, 1].tolist() == [[0, 100], [128, 255]], name


def test_rgba_drops_alpha_and_palette_expands(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = (10, 20, 30)
    rgba[0, 0, 3] = 255
    assert (_saved(tmp_path, Image.fromarray(rgba, "RGBA"))[1, 1] == (10, 20, 30)).all()
    palette = Image.fromarray(np.array([[0, 1]], np.uint8), "P")
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    assert _saved(tmp_path, palette, "p.png").tolist() == [[[255, 0, 0], [0, 0, 255]]]


def test_one_bit_and_float_images(tmp_path):
    assert _saved(tmp_path, Image.fromarray(np.array([[255, 0]], np.uint8)).convert("1"))[0, :, 0].tolist() == [255, 0]
    floats = Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32), "F")
    assert _saved(tmp_path, floats, "f.tif")[0, :, 0].tolist() == [0, 128, 255]


def test_tensor_is_float_in_unit_range(tmp_path):
    write_image(tmp_path / "a.png", 4, 3, colour=(255, 128, 0))
    image, _ = ImageFolderDataset(tmp_path)[0]
    assert image.dtype == torch.float32 and image.shape == (3, 3, 4)
    assert torch.allclose(image[:, 0, 0], torch.tensor([1.0, 128 / 255, 0.0]))

"""CompositeDataset: photo crops pasted on photos, deterministic, with exact boxes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from frcnn_core.data import CompositeDataset, DatasetError
from frcnn_core.data.composite import BACKGROUND_PHOTOS, CROP_KINDS, PHOTO_DIR, outline_mask
from frcnn_core.data.synthetic import mask_box


def test_same_seed_gives_identical_items_and_splits_differ():
    a, b = CompositeDataset(num_images=4, seed=2), CompositeDataset(num_images=4, seed=2)
    b[3]
    for i in range(4):
        assert torch.equal(a[i][0], b[i][0]) and torch.equal(a[i][1]["boxes"], b[i][1]["boxes"])
    val = CompositeDataset(num_images=4, seed=2, split="val")
    assert all(not torch.equal(a[i][0], val[i][0]) for i in range(4))


def test_contract_classes_and_boxes():
    ds = CompositeDataset(num_images=20, seed=0)
    assert ds.class_names == ("cat", "cup", "rocket", "face", "patch") and ds.category_ids == (1, 2, 3, 4, 5)
    assert ds.problems == [] and ds.image_ids == list(range(20))
    image, target = ds[0]
    assert image.shape == (3, 256, 256) and image.dtype == torch.float32
    assert torch.equal(target["boxes"], ds.info(0)["target"]["boxes"])
    for i in range(len(ds)):
        scene = ds.scene(i)
        boxes = scene.record.boxes
        assert 1 <= len(boxes) <= 5
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 256).all() and (boxes[:, 3] <= 256).all()
        for paste, box in zip(scene.objects, boxes.tolist()):
            mask = outline_mask(CROP_KINDS[paste.label - 1], paste.x, paste.y, paste.width, paste.height, ds.image_size)
            assert mask_box(mask) == tuple(box)  # the box is the pasted extent
            assert box[2] - box[0] >= 4 and box[3] - box[1] >= 4


def test_pasted_pixels_are_the_crop_inside_its_box():
    ds = CompositeDataset(num_images=3, seed=9)
    for i in range(3):
        image = ds[i][0].permute(1, 2, 0).numpy() * 255
        paste = ds.scene(i).objects[-1]  # drawn last, so fully visible
        kind = CROP_KINDS[paste.label - 1]
        with Image.open(PHOTO_DIR / kind.photo) as photo:
            crop = photo.convert("RGB").crop(kind.rect).resize((paste.width, paste.height), Image.BICUBIC)
        expected = np.asarray(crop.transpose(Image.FLIP_LEFT_RIGHT) if paste.flip else crop, np.float64) * paste.gain
        mask = outline_mask(kind, paste.x, paste.y, paste.width, paste.height, ds.image_size)
        region = mask[paste.y : paste.y + paste.height, paste.x : paste.x + paste.width]
        shown = image[paste.y : paste.y + paste.height, paste.x : paste.x + paste.width]
        assert np.abs(shown[region] - np.clip(expected[region], 0, 255)).mean() < 6  # pixel noise only


def test_photos_are_bundled_small_and_licensed():
    names = {kind.photo for kind in CROP_KINDS} | set(BACKGROUND_PHOTOS)
    total = sum((PHOTO_DIR / name).stat().st_size for name in PHOTO_DIR.iterdir() if name.suffix == ".jpg")
    assert total < 1.5e6
    licence = (PHOTO_DIR / "LICENSE.md").read_text()
    for name in sorted(p.name for p in PHOTO_DIR.glob("*.jpg")):
        assert name in licence
    assert names <= {p.name for p in PHOTO_DIR.glob("*.jpg")}


def test_missing_photos_raise_naming_the_folder(tmp_path):
    with pytest.raises(DatasetError, match=str(tmp_path)):
        CompositeDataset(num_images=1, photo_dir=tmp_path)


def test_varied_classes_and_backgrounds():
    ds = CompositeDataset(num_images=30, seed=1)
    labels = np.concatenate([ds.scene(i).record.labels for i in range(30)])
    assert set(labels.tolist()) == {1, 2, 3, 4, 5}
    assert len({ds.scene(i).background.photo for i in range(30)}) == len(BACKGROUND_PHOTOS)


def test_max_objects_sets_how_many_crops_an_image_may_get():
    crowded = CompositeDataset(num_images=30, seed=1, image_size=(384, 512), max_objects=8)
    counts = [len(crowded.scene(i).record.boxes) for i in range(len(crowded))]
    assert max(counts) > 5 and max(counts) <= 8 and min(counts) >= 1
    assert max(len(CompositeDataset(num_images=30, seed=1).scene(i).record.boxes) for i in range(30)) <= 5
    with pytest.raises(ValueError, match="max_objects"):
        CompositeDataset(max_objects=0)

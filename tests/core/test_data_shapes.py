"""ShapesDataset: deterministic, disjoint splits, tight boxes, objects that stay visible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from frcnn_core.data import DatasetError, ShapesDataset
from frcnn_core.data.shapes import MAX_OBJECTS, SHAPE_CLASSES, shape_mask
from frcnn_core.data.synthetic import mask_box


def test_same_seed_gives_identical_items_in_any_order():
    first = ShapesDataset(num_images=6, seed=7)
    second = ShapesDataset(num_images=6, seed=7)
    later = second[5]  # generated before item 0 in this instance
    for index in (0, 5):
        image_a, target_a = first[index]
        image_b, target_b = second[index]
        assert torch.equal(image_a, image_b)
        assert torch.equal(target_a["boxes"], target_b["boxes"]) and torch.equal(target_a["labels"], target_b["labels"])
    assert torch.equal(later[0], first[5][0])
    assert torch.equal(first[2][0], first[2][0])


def test_splits_and_seeds_give_different_images():
    train = ShapesDataset(num_images=4, seed=0, split="train")
    val = ShapesDataset(num_images=4, seed=0, split="val")
    other = ShapesDataset(num_images=4, seed=1, split="train")
    for i in range(4):
        assert not torch.equal(train[i][0], val[i][0])
        assert not torch.equal(train[i][0], other[i][0])


def test_contract_and_default_sizes():
    ds = ShapesDataset(num_images=3)
    assert ds.class_names == SHAPE_CLASSES and ds.category_ids == (1, 2, 3, 4)
    assert ds.image_ids == [0, 1, 2] and ds.problems == []
    image, target = ds[0]
    assert image.shape == (3, 256, 256) and image.dtype == torch.float32 and 0 <= image.min() and image.max() <= 1
    info = ds.info(0)
    assert info["path"] == "" and info["size"] == (256, 256)
    assert torch.equal(info["target"]["boxes"], target["boxes"])
    assert len(ShapesDataset()) == 1000 and len(ShapesDataset(split="val")) == 200
    assert ShapesDataset(num_images=1, image_size=(128, 192))[0][0].shape == (3, 128, 192)
    with pytest.raises(IndexError):
        ds[3]


def test_objects_are_counted_sized_and_inside():
    ds = ShapesDataset(num_images=40, seed=3)
    counts = []
    for i in range(len(ds)):
        target = ds.info(i)["target"]
        boxes = target["boxes"]
        counts.append(len(boxes))
        assert 1 <= len(boxes) <= MAX_OBJECTS
        assert ((boxes[:, 0] >= 0) & (boxes[:, 1] >= 0) & (boxes[:, 2] <= 256) & (boxes[:, 3] <= 256)).all()
        sides = torch.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        assert (sides >= 18).all() and (sides <= 130).all()
        assert set(target["labels"].tolist()) <= {1, 2, 3, 4}
        assert not target["difficult"].any()
    assert len(set(counts)) >= 3  # a mix of busy and sparse images


def test_boxes_are_tight_around_the_drawn_shapes():
    ds = ShapesDataset(num_images=10, seed=5)
    for i in range(len(ds)):
        scene = ds.scene(i)
        image = (ds[i][0].permute(1, 2, 0).numpy() * 255).astype(np.float64)
        covered = np.zeros((256, 256), bool)
        for shape, box in zip(reversed(scene.objects), reversed(scene.record.boxes.tolist())):
            mask = shape_mask(shape.label, shape.cx, shape.cy, shape.size, ds.image_size)
            assert mask_box(mask) == tuple(box)
            visible = mask & ~covered
            covered |= mask
            assert visible.sum() >= 0.7 * mask.sum()  # occlusion is limited
            assert mask_box(visible) == tuple(box)  # the visible pixels still span the box
            assert np.abs(image[visible] - np.array(shape.colour)).mean() < 40  # and show the shape's colour


@pytest.mark.parametrize("kwargs", [{"split": "test"}, {"seed": -1}, {"num_images": -2}, {"image_size": (32, 256)}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(DatasetError):
        ShapesDataset(**kwargs)

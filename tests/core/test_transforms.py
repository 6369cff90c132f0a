"""Horizontal flip: boxes follow the pixels exactly."""

from __future__ import annotations

import torch

from frcnn_core.data import RandomHorizontalFlip, horizontal_flip


def _image_with_box(box, size=(20, 30)):
    image = torch.zeros(3, *size)
    x1, y1, x2, y2 = box
    image[:, y1:y2, x1:x2] = 1.0
    return image, {"boxes": torch.tensor([box], dtype=torch.float32), "labels": torch.tensor([1]), "difficult": torch.tensor([False])}


def _lit_box(image) -> list[float]:
    ys, xs = torch.nonzero(image[0] > 0.5, as_tuple=True)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def test_flipped_box_covers_the_flipped_pixels():
    image, target = _image_with_box([2, 3, 9, 15])
    flipped, moved = horizontal_flip(image, target)
    assert torch.equal(flipped, image.flip(-1))
    assert moved["boxes"].tolist() == [[30 - 9, 3, 30 - 2, 15]]
    assert moved["boxes"][0].tolist() == _lit_box(flipped)
    assert moved["labels"] is target["labels"] and target["boxes"].tolist() == [[2, 3, 9, 15]]


def test_flip_twice_is_identity_and_empty_boxes_work():
    image, target = _image_with_box([0, 0, 30, 20])
    again = horizontal_flip(*horizontal_flip(image, target))
    assert torch.equal(again[0], image) and torch.equal(again[1]["boxes"], target["boxes"])
    empty = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}
    assert horizontal_flip(image, empty)[1]["boxes"].shape == (0, 4)


def test_random_flip_probability_and_seeded_generator():
    image, target = _image_with_box([2, 3, 9, 15])
    assert torch.equal(RandomHorizontalFlip(0.0)(image, target)[0], image)
    assert torch.equal(RandomHorizontalFlip(1.0)(image, target)[0], image.flip(-1))

    def draws(seed):
        flip = RandomHorizontalFlip(0.5, torch.Generator().manual_seed(seed))
        return [bool(flip(image, target)[1]["boxes"][0, 0] != 2) for _ in range(40)]

    assert draws(3) == draws(3)
    assert 5 < sum(draws(3)) < 35

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


def test_zoom_in_crops_and_boxes_cover_the_same_pixels():
    from frcnn_core.data.transforms import zoom

    image, target = _image_with_box([12, 6, 20, 14], size=(20, 40))
    target = {**target, "boxes": torch.tensor([[12.0, 6, 20, 14], [0, 0, 3, 3]]), "labels": torch.tensor([1, 2]),
              "difficult": torch.tensor([False, True]), "size": torch.tensor([20, 40])}
    cropped, moved = zoom(image, target, 2.0, (1.0, 0.5))  # the right half, vertically centred: 10 x 20 from (20, 5)
    assert cropped.shape == (3, 10, 20)
    assert torch.equal(cropped, image[:, 5:15, 20:40])
    # the first box's centre (16, 10) lies outside the window (x >= 20): dropped with its label;
    # the second too; the per-image "size" is not a per-box entry
    assert moved["boxes"].shape == (0, 4) and moved["labels"].shape == (0,) and moved["size"].tolist() == [20, 40]
    cropped, moved = zoom(image, target, 2.0, (0.5, 0.5))  # from (10, 5)
    assert moved["boxes"].tolist() == [[2, 1, 10, 9]] and moved["labels"].tolist() == [1] and moved["difficult"].tolist() == [False]
    assert moved["boxes"][0].tolist() == _lit_box(cropped)


def test_zoom_in_clips_a_box_whose_centre_stays():
    from frcnn_core.data.transforms import zoom

    image, target = _image_with_box([2, 2, 18, 18], size=(20, 20))
    cropped, moved = zoom(image, target, 20 / 12, (1.0, 1.0))  # 12 x 12 from (8, 8)
    assert moved["boxes"].tolist() == [[0, 0, 10, 10]] and moved["boxes"][0].tolist() == _lit_box(cropped)


def test_zoom_out_puts_the_image_on_a_mean_canvas():
    from frcnn_core.data.transforms import zoom

    image, target = _image_with_box([2, 3, 9, 15])
    canvas, moved = zoom(image, target, 0.5, (1.0, 0.0))  # 40 x 60, the image at the top right
    assert canvas.shape == (3, 40, 60)
    assert torch.equal(canvas[:, 0:20, 30:60], image)
    assert torch.allclose(canvas[:, 30:, :30], image.mean(dim=(1, 2), keepdim=True).expand(3, 10, 30))
    assert moved["boxes"].tolist() == [[32, 3, 39, 15]] and moved["boxes"][0].tolist() == _lit_box(canvas)
    assert target["boxes"].tolist() == [[2, 3, 9, 15]]  # the input is not changed


def test_photometric_matches_torchvision_and_identity_factors_change_nothing():
    from torchvision.transforms.v2 import functional

    from frcnn_core.data.transforms import photometric

    image = torch.rand(3, 8, 9, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(photometric(image, 1.0, 1.0, 1.0), image)
    expected = functional.adjust_saturation(functional.adjust_contrast(functional.adjust_brightness(image, 1.2), 0.8), 1.3)
    assert torch.equal(photometric(image, 1.2, 0.8, 1.3), expected)


def test_augmentation_off_draws_as_the_plain_flip_and_bad_values_are_refused():
    import pytest

    from frcnn_core.data.transforms import Augmentation

    image, target = _image_with_box([2, 3, 9, 15])
    plain, augmented = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    flips = [bool(torch.rand((), generator=plain) < 0.5) for _ in range(20)]
    assert [Augmentation()(image, target, augmented)[2] for _ in range(20)] == flips
    jitter = Augmentation(color_jitter=0.3, zoom_range=(0.8, 1.25))
    first = jitter(image, target, torch.Generator().manual_seed(1))
    again = jitter(image, target, torch.Generator().manual_seed(1))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1]["boxes"], again[1]["boxes"])
    for bad in ({"zoom_range": (1.2, 0.8)}, {"zoom_range": (0.0, 1.0)}, {"color_jitter": 1.5}):
        with pytest.raises(ValueError):
            Augmentation(**bad)

"""Resize, normalise and pad a list of images into one network input tensor."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class ImageBatch:
    """Network input for a batch.

    Attributes:
        tensor: ``[B, 3, Hp, Wp]`` normalised images, zero-padded at the bottom/right
            to a common size that is a multiple of the stride.
        input_sizes: per image ``(h, w)`` after resizing, before padding.
        original_sizes: per image ``(H, W)`` as given.
    """

    tensor: Tensor
    input_sizes: list[tuple[int, int]]
    original_sizes: list[tuple[int, int]]

    def scale(self, i: int) -> tuple[float, float]:
        """``(sx, sy)``: input pixels per original pixel for image ``i``."""
        (h, w), (H, W) = self.input_sizes[i], self.original_sizes[i]
        return w / W, h / H


def resized_size(height: int, width: int, min_size: int, max_size: int) -> tuple[int, int]:
    """Size after scaling the shorter side to ``min_size`` unless the longer side would pass ``max_size``."""
    scale = min(min_size / min(height, width), max_size / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def batch_images(
    images: list[Tensor], min_size: int, max_size: int, mean: tuple[float, ...], std: tuple[float, ...], stride: int
) -> ImageBatch:
    """Resize each ``[3, H, W]`` 0..1 image, normalise with ``mean``/``std`` and pad to a multiple of ``stride``."""
    resized = []
    for image in images:
        h, w = resized_size(image.shape[1], image.shape[2], min_size, max_size)
        if (h, w) != tuple(image.shape[1:]):
            antialias = h < image.shape[1] and image.device.type in ("cpu", "cuda")
            image = F.interpolate(image[None].float(), size=(h, w), mode="bilinear", align_corners=False, antialias=antialias)[0]
        resized.append(image.float())
    pad_h = int(math.ceil(max(im.shape[1] for im in resized) / stride) * stride)
    pad_w = int(math.ceil(max(im.shape[2] for im in resized) / stride) * stride)
    device = images[0].device
    batch = torch.zeros((len(images), 3, pad_h, pad_w), device=device)
    mean_t = torch.tensor(mean, device=device).view(3, 1, 1)
    std_t = torch.tensor(std, device=device).view(3, 1, 1)
    for i, im in enumerate(resized):
        batch[i, :, : im.shape[1], : im.shape[2]] = (im - mean_t) / std_t
    return ImageBatch(batch, [tuple(im.shape[1:]) for im in resized], [tuple(im.shape[1:]) for im in images])

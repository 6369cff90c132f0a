"""The matrix-product RoIAlign equals torchvision.ops.roi_align, forward and backward."""

import pytest
import torch
from torchvision.ops import roi_align

from frcnn_core.roi.align import separable_roi_align
from frcnn_core.roi.head import FastRCNNHead


def _boxes(generator: torch.Generator, count: int, size: float) -> torch.Tensor:
    """Boxes in input pixels: some inside, some crossing the border, some tiny, some huge."""
    corners = torch.rand(count, 2, generator=generator) * size * 1.4 - size * 0.2
    extents = torch.rand(count, 2, generator=generator) ** 2 * size * 1.2
    boxes = torch.cat([corners, corners + extents], dim=1)
    boxes[0] = torch.tensor([0.0, 0.0, size, size])  # the whole image
    boxes[1] = torch.tensor([size - 3.0, size - 3.0, size - 1.0, size - 1.0])  # at the far edge
    boxes[2] = torch.tensor([-30.0, -30.0, -20.0, -18.0])  # entirely outside
    return boxes


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sampling_ratio", [1, 2, 3])
def test_matches_torchvision_forward_and_backward(aligned, sampling_ratio):
    generator = torch.Generator().manual_seed(sampling_ratio + 10 * aligned)
    features = torch.randn(2, 5, 9, 11, generator=generator, dtype=torch.float64)
    rois = [_boxes(generator, 40, 150.0).double(), _boxes(generator, 25, 150.0).double()]
    ours_input = features.clone().requires_grad_(True)
    theirs_input = features.clone().requires_grad_(True)

    ours = separable_roi_align(ours_input, rois, 7, 1 / 16, sampling_ratio, aligned)
    theirs = roi_align(theirs_input, rois, 7, 1 / 16, sampling_ratio, aligned)
    upstream = torch.randn(theirs.shape, generator=generator, dtype=torch.float64)
    (ours * upstream).sum().backward()
    (theirs * upstream).sum().backward()

    assert ours.shape == theirs.shape == (65, 5, 7, 7)
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(ours_input.grad, theirs_input.grad, rtol=1e-6, atol=1e-6)


def test_channels_last_float32_and_an_image_without_boxes():
    generator = torch.Generator().manual_seed(3)
    features = torch.randn(2, 8, 16, 16, generator=generator).to(memory_format=torch.channels_last)
    rois = [torch.zeros(0, 4), _boxes(generator, 10, 256.0)]
    ours = separable_roi_align(features, rois, 7, 1 / 16, 2, True)
    theirs = roi_align(features, rois, 7, 1 / 16, 2, True)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_rejects_adaptive_sampling():
    with pytest.raises(ValueError, match="sampling_ratio"):
        separable_roi_align(torch.zeros(1, 1, 4, 4), [torch.zeros(1, 4)], 2, 1.0, sampling_ratio=0)


@pytest.mark.parametrize("cells", [16, 40])
def test_head_align_gives_torchvision_numbers_on_small_and_large_maps(cells):
    generator = torch.Generator().manual_seed(cells)
    head = FastRCNNHead(4, 3, stride=16, op="align")
    features = torch.randn(1, 4, cells, cells, generator=generator)
    rois = [_boxes(generator, 12, cells * 16.0)]
    expected = roi_align(features, rois, 7, 1 / 16, sampling_ratio=2, aligned=True)
    torch.testing.assert_close(head.pool(features, rois), expected, rtol=1e-4, atol=1e-5)

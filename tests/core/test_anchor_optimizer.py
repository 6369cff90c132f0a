"""The anchor optimiser and the training-start check."""

import pytest
import torch

from frcnn_core import cpu_config
from frcnn_core.anchors.check import anchor_coverage_check
from frcnn_core.anchors.coverage import AnchorLayout, GtBoxes, grid_coverage
from frcnn_core.anchors.optimizer import kmeans_shapes, optimize_anchors, shape_iou
from frcnn_core.data import ShapesDataset


class BoxesOnly:
    """A dataset of ``(H, W)`` images known only through ``info``: no pixels needed."""

    class_names = ("object",)

    def __init__(self, boxes: torch.Tensor, size=(256, 256), per_image: int = 1):
        self.boxes, self.size, self.per_image = boxes, size, per_image

    def __len__(self):
        return self.boxes.shape[0] // self.per_image

    def info(self, i):
        rows = self.boxes[i * self.per_image : (i + 1) * self.per_image]
        return {"size": self.size, "target": {"boxes": rows, "labels": torch.ones(rows.shape[0], dtype=torch.int64)}}


def large_boxes(n: int = 200, seed: int = 0, size: int = 256) -> torch.Tensor:
    """Objects filling 55-95 % of a square image's side, aspect 0.6-1.7."""
    g = torch.Generator().manual_seed(seed)
    side = size * (0.55 + 0.4 * torch.rand(n, generator=g))
    aspect = torch.exp((torch.rand(n, generator=g) - 0.5))
    w, h = (side * aspect.sqrt()).clamp(max=size - 1), (side / aspect.sqrt()).clamp(max=size - 1)
    x1, y1 = torch.rand(n, generator=g) * (size - w), torch.rand(n, generator=g) * (size - h)
    return torch.stack((x1, y1, x1 + w, y1 + h), dim=1)


def gt_of(boxes: torch.Tensor, size=(256, 256)) -> GtBoxes:
    n = boxes.shape[0]
    return GtBoxes(boxes, torch.tensor([size]).expand(n, 2), torch.arange(n))


def random_boxes(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    wh = torch.exp(torch.rand(n, 2, generator=g) * 4 + 2).clamp(max=250)
    xy = torch.rand(n, 2, generator=g) * (256 - wh)
    return torch.cat((xy, xy + wh), dim=1)


def assert_not_worse(search):
    start, result = search.start, search.result
    assert result.share_at_least(0.5) >= start.share_at_least(0.5)
    assert result.share_at_least(0.7) >= start.share_at_least(0.7)
    assert result.fitness() >= start.fitness()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_optimiser_never_returns_lower_coverage(seed):
    gt = gt_of(random_boxes(300, seed))
    layout = AnchorLayout.from_config(cpu_config(1))
    search = optimize_anchors(gt, layout, seed=seed, generations=60, max_boxes=100)  # a sample: the full-set guard must hold too
    assert_not_worse(search)
    torch.testing.assert_close(grid_coverage(gt, search.layout).best_iou, search.result.best_iou)
    assert search.improved == (search.layout != layout)


def test_optimiser_keeps_anchors_that_already_fit():
    """Every box is one of the anchors, at a cell centre: nothing can beat IoU 1."""
    layout = AnchorLayout((2.0, 4.0), (0.5, 2.0), 16, 256, 256)
    shapes = layout.shapes()
    centres = torch.tensor([[120.0, 120.0], [56.0, 72.0], [200.0, 136.0]])
    boxes = torch.cat([torch.cat((c - s / 2, c + s / 2)).unsqueeze(0) for c in centres for s in shapes])
    gt = gt_of(boxes)
    assert grid_coverage(gt, layout).share_at_least(0.99) == 1.0
    search = optimize_anchors(gt, layout, generations=40)
    assert not search.improved and search.layout == layout


def test_optimiser_fits_large_objects_with_the_same_anchor_count():
    gt = gt_of(large_boxes())
    layout = AnchorLayout.from_config(cpu_config(1))
    search = optimize_anchors(gt, layout, generations=100)
    assert search.start.share_at_least(0.5) < 0.4
    assert search.result.share_at_least(0.5) > 0.95 and search.result.share_at_least(0.7) > 0.8
    assert len(search.layout.anchor_scales) == 4 and len(search.layout.anchor_ratios) == 3
    assert (search.layout.min_size, search.layout.max_size) == (layout.min_size, layout.max_size)
    fewer = optimize_anchors(gt, layout, num_scales=2, num_ratios=1, generations=30)
    assert len(fewer.layout.anchor_scales) == 2 and len(fewer.layout.anchor_ratios) == 1


def test_kmeans_on_iou_distance_finds_the_shapes():
    g = torch.Generator().manual_seed(0)
    truth = torch.tensor([[20.0, 40.0], [60.0, 60.0], [200.0, 100.0]])
    wh = (truth.repeat(50, 1) * torch.exp(torch.randn(150, 2, generator=g) * 0.05))
    centroids = kmeans_shapes(wh, 3, torch.Generator().manual_seed(1))
    assert shape_iou(truth, centroids).diagonal().min() > 0.9


def test_check_fires_on_large_objects_with_the_cpu_preset():
    config = cpu_config(1)
    warning = anchor_coverage_check(BoxesOnly(large_boxes()), config)
    assert warning is not None and warning.coverage.share_at_least(0.5) < 0.9
    assert "--anchor-scales" in warning.message and "\n" not in warning.message
    fixed = warning.fixed_config(config)
    assert fixed.anchor_scales == warning.search.layout.anchor_scales and fixed.num_anchors_per_cell == config.num_anchors_per_cell
    assert anchor_coverage_check(BoxesOnly(large_boxes()), fixed) is None


@pytest.mark.slow
def test_check_stays_quiet_on_shapes():
    dataset = ShapesDataset(num_images=300, split="train")
    assert anchor_coverage_check(dataset, cpu_config(len(dataset.class_names))) is None

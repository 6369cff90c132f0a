"""Dataset-wide anchor coverage: the nearest-cell closed form against every anchor of the grid."""

import pytest
import torch
from torchvision.ops import box_iou

from frcnn_core import DetectorConfig, cpu_config
from frcnn_core.anchors.coverage import SIZE_BUCKETS, AnchorLayout, GtBoxes, InputBoxes, full_grid_best_iou, grid_coverage
from frcnn_core.anchors.grid import grid_anchors, inside_image
from frcnn_core.anchors.stats import dataset_coverage
from frcnn_core.data import ShapesDataset
from frcnn_core.models.image_batch import resized_size


def random_gt(n: int, seed: int) -> GtBoxes:
    """Boxes of every size (some degenerate, some touching the border) in 40 images of random sizes."""
    g = torch.Generator().manual_seed(seed)
    heights, widths = torch.randint(40, 900, (40,), generator=g), torch.randint(40, 900, (40,), generator=g)
    image = torch.randint(0, 40, (n,), generator=g)
    h, w = heights[image].float(), widths[image].float()
    x1, y1 = torch.rand(n, generator=g) * w, torch.rand(n, generator=g) * h
    x2 = x1 + torch.rand(n, generator=g) ** 2 * (w - x1)
    y2 = y1 + torch.rand(n, generator=g) ** 2 * (h - y1)
    x2[:10] = x1[:10]  # zero width
    x1[10:20], y1[10:20] = 0.0, 0.0
    return GtBoxes(torch.stack((x1, y1, x2, y2), dim=1), torch.stack((heights[image], widths[image]), dim=1), image)


@pytest.mark.parametrize("border", [0.0, 8.0, 200.0])
@pytest.mark.parametrize(
    "scales, ratios, min_size, max_size",
    [((8.0, 16.0, 32.0), (0.5, 1.0, 2.0), 800, 1333), ((1.5, 2.5, 4.0, 6.5), (0.5, 1.0, 2.0), 256, 512), ((3.3,), (0.37, 5.0), 128, 200), ((40.0,), (1.0,), 256, 512)],
)
def test_grid_coverage_equals_box_iou_over_the_whole_grid(scales, ratios, min_size, max_size, border):
    gt = random_gt(600, seed=len(scales) + int(border))
    layout = AnchorLayout(scales, ratios, 16, min_size, max_size, border)
    fast = grid_coverage(gt, layout)
    reference = full_grid_best_iou(gt, layout)
    torch.testing.assert_close(fast.best_iou, reference, atol=1e-5, rtol=0)
    # the best shape reaches the best IoU; no usable anchor at all only where the IoU is 0
    assert ((fast.best_shape == -1) == (fast.best_iou == 0)).all()


def test_reference_is_the_models_own_grid():
    """full_grid_best_iou, spelled out once more for one image with the model's own pieces."""
    gt = random_gt(50, seed=3)
    layout = AnchorLayout.from_config(cpu_config(1))
    rows = gt.image_index == gt.image_index[0]
    height, width = gt.image_sizes[rows][0].tolist()
    h, w = resized_size(height, width, layout.min_size, layout.max_size)
    anchors = grid_anchors((-(-h // 16), -(-w // 16)), 16, layout.anchor_scales, layout.anchor_ratios)
    anchors = anchors[inside_image(anchors, (h, w))]
    boxes = gt.boxes[rows] * torch.tensor([w / width, h / height, w / width, h / height])
    expected = torch.nan_to_num(box_iou(boxes, anchors), nan=0.0).max(dim=1).values
    torch.testing.assert_close(grid_coverage(gt.subset(rows), layout).best_iou, expected, atol=1e-5, rtol=0)


def test_shapes_dataset_coverage_and_summary():
    dataset = ShapesDataset(num_images=30, image_size=(200, 300), split="val")
    layout = AnchorLayout.from_config(cpu_config(4))
    gt = GtBoxes.from_dataset(dataset)
    report = grid_coverage(gt, layout)
    torch.testing.assert_close(report.best_iou, full_grid_best_iou(gt, layout), atol=1e-5, rtol=0)
    summary = report.summary()
    assert summary["gt_boxes"] == len(gt) > 30
    assert 0 <= summary["iou_0.7"] <= summary["iou_0.5"] <= 1
    assert summary["median_iou"] == pytest.approx(float(report.best_iou.median()))
    assert sum(summary["histogram"]["counts"]) == len(gt) and len(summary["histogram"]["bin_edges"]) == 21
    assert sum(b["gt_boxes"] for b in summary["by_size"].values()) == len(gt)
    assert [b[0] for b in SIZE_BUCKETS] == list(summary["by_size"])
    # the old entry point gives the same figures
    old = dataset_coverage(dataset, layout.min_size, layout.max_size, 16, layout.anchor_scales, layout.anchor_ratios, layout.rpn_allowed_border)
    assert old.best_iou == pytest.approx(report.best_iou.tolist())


def test_difficult_boxes_are_left_out_as_in_training():
    class OneImage:
        def __len__(self):
            return 1

        def info(self, i):
            boxes = torch.tensor([[10.0, 10.0, 100.0, 100.0], [0.0, 0.0, 5.0, 5.0]])
            return {"size": (200, 200), "target": {"boxes": boxes, "difficult": torch.tensor([False, True])}}

    assert len(GtBoxes.from_dataset(OneImage())) == 1
    assert len(GtBoxes.from_dataset(OneImage(), include_difficult=True)) == 2


def test_boxes_scale_with_the_input_size():
    gt = GtBoxes(torch.tensor([[0.0, 0.0, 400.0, 300.0]]), torch.tensor([[600, 800]]), torch.tensor([0]))
    resized = InputBoxes.resize(gt, 300, 1000, 16)
    assert resized.input_sizes.tolist() == [[300, 400]] and resized.feature_sizes.tolist() == [[19, 25]]
    torch.testing.assert_close(resized.boxes, torch.tensor([[0.0, 0.0, 200.0, 150.0]]))
    assert AnchorLayout.from_config(DetectorConfig()).min_size == 800

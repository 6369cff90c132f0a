"""FasterRCNN end to end: modes, batches, traces, bad input, overfitting."""

import pytest
import torch
from torchvision.ops import box_iou

from frcnn_core import LOSS_NAMES, DetectorConfig, FasterRCNN, cpu_config
from frcnn_core.roi.targets import ROI_SOURCE_JITTERED_GT


def test_train_mode_returns_four_finite_losses(two_box_image, tiny_config):
    image, target = two_box_image
    model = FasterRCNN(tiny_config).train()
    losses = model([image, torch.rand(3, 90, 150)], [target, {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}])
    assert set(LOSS_NAMES) <= set(losses)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()


def test_jittered_gt_copies_train_the_head_and_show_in_the_trace(two_box_image, tiny_config):
    image, target = two_box_image
    model = FasterRCNN(tiny_config.replace(roi_gt_jitter=3)).train()
    result = model.run([image], [target], want_trace=True, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(sum(result.losses.values()))
    source = result.trace.roi_source
    jittered = source == ROI_SOURCE_JITTERED_GT
    assert int(jittered.sum()) == 6 and (result.trace.roi_labels[jittered] > 0).float().mean() > 0.5
    with pytest.raises(ValueError, match="roi_gt_jitter"):
        tiny_config.replace(roi_gt_jitter=-1)


def test_eval_mode_batches_of_different_sizes(tiny_config):
    model = FasterRCNN(tiny_config).eval()
    out = model([torch.rand(3, 100, 60), torch.rand(3, 64, 200)])
    assert len(out) == 2
    for det, (h, w) in zip(out, [(100, 60), (64, 200)]):
        assert det.boxes.shape[1] == 4 and len(det) <= 100
        assert (det.boxes[:, 2] <= w + 1e-3).all() and (det.boxes[:, 3] <= h + 1e-3).all()
        assert ((det.labels >= 1) & (det.labels <= 2)).all()
        assert det["scores"] is det.scores


def test_degenerate_gt_gives_finite_losses(tiny_config):
    model = FasterRCNN(tiny_config).train()
    target = {"boxes": torch.tensor([[30.0, 30.0, 30.0, 90.0], [10.0, 10.0, 60.0, 10.0]]), "labels": torch.tensor([1, 2])}
    losses = model([torch.rand(3, 128, 128)], [target])
    assert all(torch.isfinite(v) for v in losses.values())


def test_deterministic_with_seed(two_box_image, tiny_config):
    image, target = two_box_image

    def one_step():
        torch.manual_seed(123)
        model = FasterRCNN(tiny_config).train()
        return {k: v.item() for k, v in model([image], [target]).items()}

    assert one_step() == one_step()


def test_trace_is_complete_and_in_original_pixels(two_box_image, tiny_config):
    image, target = two_box_image
    small = torch.nn.functional.interpolate(image[None], size=(64, 96))[0]  # resized x2 / x1.33 by the model
    target_small = {"boxes": target["boxes"] * torch.tensor([96 / 128, 0.5, 96 / 128, 0.5]), "labels": target["labels"]}
    model = FasterRCNN(tiny_config.replace(max_size=256)).eval()
    trace = model.trace(small, target_small)
    assert trace.image_size == (64, 96) and trace.input_size == (128, 192)
    n = trace.anchors.shape[0]
    assert n == trace.feature_size[0] * trace.feature_size[1] * trace.num_anchors_per_cell
    for name in ("inside", "objectness", "anchor_labels", "anchor_candidate_labels", "anchor_matched_gt", "anchor_max_iou"):
        assert getattr(trace, name).shape[0] == n, name
    # anchors in original pixels: cell (0, 0) centred at stride / 2 / scale
    centre = (trace.anchors[0, :2] + trace.anchors[0, 2:]) / 2
    torch.testing.assert_close(centre, torch.tensor([8 / 2.0, 8 / 2.0]))
    assert (trace.proposals[:, 2] <= 96 + 1e-3).all() and (trace.proposals[:, 3] <= 64 + 1e-3).all()
    assert (trace.roi_boxes[:, 3] <= 64 + 1e-3).all()
    torch.testing.assert_close(trace.gt_boxes, target_small["boxes"])
    assert set(trace.losses) == {*LOSS_NAMES, "total"}
    counts = trace.counts()
    assert counts["positive"] + counts["negative"] <= 256 and counts["fg_rois"] >= 2
    assert 0 <= counts["roi_accuracy"] <= 1
    assert trace.objectness_map().shape == trace.feature_size
    d = trace.detections
    assert d.class_scores.shape == (len(d), 3) and d.proposal_index.max() < trace.proposals.shape[0]
    assert all(not t.requires_grad and t.device.type == "cpu" for t in (trace.anchors, trace.proposals, d.boxes))


def test_trace_without_target_skips_target_stages(tiny_config):
    trace = FasterRCNN(tiny_config).eval().trace(torch.rand(3, 128, 128))
    assert trace.anchor_labels is None and trace.roi_boxes is None and trace.losses is None
    assert "positive" not in trace.counts()


def test_no_trace_work_unless_asked(two_box_image, tiny_config, monkeypatch):
    import frcnn_core.models.faster_rcnn as model_module

    calls = []
    monkeypatch.setattr(model_module, "build_trace", lambda *a, **k: calls.append(1))
    image, target = two_box_image
    model = FasterRCNN(tiny_config).train()
    model([image], [target])
    model.eval()([image])
    assert calls == []


@pytest.mark.parametrize(
    "image, target, message",
    [
        (torch.rand(128, 128, 3), None, "shape"),
        ((torch.rand(3, 32, 32) * 255).byte(), None, "float"),
        (torch.rand(3, 32, 32) * 255, None, "0..1"),
        (torch.full((3, 32, 32), float("nan")), None, "NaN"),
        (torch.rand(3, 64, 64), {"boxes": torch.tensor([[30.0, 5.0, 10.0, 20.0]]), "labels": torch.tensor([1])}, "x2 < x1"),
        (torch.rand(3, 64, 64), {"boxes": torch.tensor([[1.0, float("nan"), 10.0, 20.0]]), "labels": torch.tensor([1])}, "finite"),
        (torch.rand(3, 64, 64), {"boxes": torch.tensor([[1.0, 2.0, 10.0, 20.0]]), "labels": torch.tensor([3])}, "outside 1..2"),
        (torch.rand(3, 64, 64), {"boxes": torch.tensor([[1.0, 2.0, 10.0, 20.0]]), "labels": torch.tensor([0])}, "background"),
        (torch.rand(3, 64, 64), {"boxes": torch.rand(2, 4), "labels": torch.tensor([1])}, "matching"),
    ],
)
def test_bad_input_raises_value_error(image, target, message, tiny_config):
    model = FasterRCNN(tiny_config).train()
    with pytest.raises(ValueError, match=message):
        model([image], [target] if target is not None else [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}])


def test_invalid_config_is_rejected():
    with pytest.raises(ValueError, match="class_names"):
        DetectorConfig(num_classes=2, class_names=("a",))
    with pytest.raises(ValueError, match="roi_op"):
        cpu_config(2, roi_op="warp")
    assert DetectorConfig.from_json(cpu_config(3).to_json()) == cpu_config(3)


@pytest.mark.parametrize("backbone", ["resnet18", "vgg16"])
def test_other_backbones_run(backbone):
    cfg = cpu_config(2, backbone=backbone, min_size=64, max_size=64, head_hidden=64 if backbone == "resnet18" else 4096)
    model = FasterRCNN(cfg).train()
    target = {"boxes": torch.tensor([[10.0, 10.0, 40.0, 40.0]]), "labels": torch.tensor([1])}
    assert torch.isfinite(sum(model([torch.rand(3, 64, 64)], [target]).values()))


def test_roi_align_option(two_box_image, tiny_config):
    image, target = two_box_image
    model = FasterRCNN(tiny_config.replace(roi_op="align")).train()
    assert torch.isfinite(sum(model([image], [target]).values()))


@pytest.mark.slow
def test_overfits_one_image(two_box_image, tiny_config):
    """A couple of hundred CPU iterations make the model find both objects with the right class."""
    image, target = two_box_image
    torch.manual_seed(0)
    model = FasterRCNN(tiny_config).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    for _ in range(220):
        loss = sum(model([image], [target]).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    det = model.predict([image])[0]
    for box, label in zip(target["boxes"], target["labels"]):
        same = det.labels == label
        assert same.any(), f"class {int(label)} not detected"
        best = box_iou(box[None], det.boxes[same]).max()
        assert best >= 0.5, f"class {int(label)} best IoU {best:.2f}"
    # the top-scoring detections are the two objects
    assert set(det.labels[:2].tolist()) == {1, 2} and det.scores[1] > 0.5


def test_sampling_stats_count_per_image():
    from frcnn_core.anchors.targets import AnchorTargets
    from frcnn_core.models.faster_rcnn import sampling_stats

    def anchors(labels):
        labels = torch.tensor(labels)
        n = labels.numel()
        return AnchorTargets(labels, labels, torch.zeros(n, 4), torch.zeros(n, dtype=torch.long), torch.zeros(n), torch.ones(n, dtype=torch.bool))

    class Rois:
        def __init__(self, labels):
            self.labels = torch.tensor(labels)

    logits = torch.full((6, 3), -5.0)
    logits[torch.arange(6), torch.tensor([1, 0, 0, 2, 2, 0])] = 5.0  # predicted classes
    stats = sampling_stats([anchors([1, 1, 0, -1]), anchors([1, 0, 0, 0])], [Rois([1, 0, 0]), Rois([2, 1, 0])], logits)
    assert stats["positive_anchors"] == 1.5 and stats["negative_anchors"] == 2.0
    assert stats["fg_rois"] == 1.5 and stats["bg_rois"] == 1.5
    assert stats["roi_accuracy"] == pytest.approx(5 / 6) and stats["roi_fg_accuracy"] == pytest.approx(2 / 3)

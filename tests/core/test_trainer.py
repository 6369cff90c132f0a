"""Trainer: stepping, checkpoints, exact resume, NaN stop."""

import json
import math

import pytest
import torch
from data_files import TinyBoxes

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.models.checkpoint import load_checkpoint
from frcnn_core.train import METRICS_FILE, NonFiniteLossError, TrainConfig, Trainer


def make_trainer(tmp_path, iterations=6, **kw):
    torch.manual_seed(0)
    model = FasterRCNN(cpu_config(2, TinyBoxes.class_names, min_size=96, max_size=96))
    cfg = TrainConfig(iterations=iterations, batch_size=2, lr=0.01, warmup_iterations=2, checkpoint_every=3, **kw)
    return Trainer(model, TinyBoxes(), cfg, tmp_path, device="cpu")


def test_step_returns_losses_lr_stats_and_optional_trace(tmp_path):
    trainer = make_trainer(tmp_path)
    first = trainer.step()
    assert first.iteration == 1 and first.trace is None
    assert {"rpn_cls", "rpn_reg", "roi_cls", "roi_reg", "total"} <= set(first.losses)
    assert first.lr == pytest.approx(0.01 * 0.001)
    assert first.stats["positive_anchors"] > 0 and first.stats["fg_rois"] >= 1
    second = trainer.step(trace=True)
    assert second.iteration == 2 and second.trace is not None and second.trace.iteration == 2
    assert second.trace.anchor_labels is not None and second.trace.detections.boxes.shape[1] == 4
    assert second.trace_index == second.image_index and second.image_index in range(4)
    assert first.trace_index is None and first.image_index in range(4)


def test_each_step_reports_its_image_its_flip_and_the_checkpoint_it_wrote(tmp_path):
    trainer = make_trainer(tmp_path, iterations=8)
    steps = [trainer.step(trace=True) for _ in range(8)]
    assert {s.flipped for s in steps} == {True, False}  # p = 0.5 over 8 steps with this seed
    for step in steps:
        seen = step.trace.gt_boxes[0]
        x1, y1, x2, y2 = TinyBoxes()[step.image_index][1]["boxes"][0].tolist()
        expected = [96 - x2, y1, 96 - x1, y2] if step.flipped else [x1, y1, x2, y2]
        assert seen.tolist() == pytest.approx(expected)
    assert [s.iteration for s in steps if s.checkpoint is not None] == [3, 6, 8]  # checkpoint_every=3, and the end
    assert steps[5].checkpoint == tmp_path / "last.pt"


def test_a_traced_step_reports_the_augmented_image_and_boxes_it_trained_on(tmp_path):
    trainer = make_trainer(tmp_path, iterations=4, zoom_range=(0.5, 2.0), color_jitter=0.3)
    for _ in range(4):
        step = trainer.step(trace=True)
        assert step.seen is not None and step.seen.pixels.dim() == 3
        # the trace is of the seen image: its size, and its GT in its pixels
        assert step.trace.image_size == tuple(step.seen.pixels.shape[-2:])
        assert torch.equal(step.trace.gt_boxes, step.seen.boxes)
        assert step.seen.labels.tolist() == step.trace.gt_labels.tolist()
    assert trainer.step().seen is None


def test_run_writes_metrics_and_checkpoints(tmp_path):
    trainer = make_trainer(tmp_path)
    seen = []
    trainer.callbacks.append(lambda step: seen.append(step.iteration))
    trainer.run()
    assert seen == [1, 2, 3, 4, 5, 6] and trainer.done
    rows = [json.loads(line) for line in (tmp_path / METRICS_FILE).read_text().splitlines()]
    assert [r["iteration"] for r in rows] == seen and all(math.isfinite(r["total"]) for r in rows)
    model, payload = load_checkpoint(tmp_path / "last.pt")
    assert payload["trainer"]["iteration"] == 6 and model.config.class_names == TinyBoxes.class_names


def test_resume_continues_exactly(tmp_path):
    straight = make_trainer(tmp_path / "a")
    losses_straight = [straight.step().losses["total"] for _ in range(6)]

    first = make_trainer(tmp_path / "b")
    first.run(3)  # checkpoint_every=3 writes last.pt at iteration 3
    resumed = Trainer.resume(tmp_path / "b" / "last.pt", TinyBoxes(), tmp_path / "b", device="cpu")
    assert resumed.iteration == 3
    losses_resumed = [resumed.step().losses["total"] for _ in range(3)]
    assert losses_resumed == pytest.approx(losses_straight[3:], rel=1e-5)


def test_nan_loss_stops_and_keeps_last_checkpoint(tmp_path):
    trainer = make_trainer(tmp_path)
    trainer.run(3)
    before = (tmp_path / "last.pt").read_bytes()
    weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    with torch.no_grad():
        trainer.model.rpn.objectness.bias.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="iteration 4.*last good checkpoint"):
        trainer.step()
    assert trainer.iteration == 3
    assert (tmp_path / "last.pt").read_bytes() == before
    assert torch.equal(trainer.model.state_dict()["trunk.0.0.weight"], weights["trunk.0.0.weight"])


def test_request_stop_ends_run_after_the_step_in_progress(tmp_path):
    trainer = make_trainer(tmp_path)
    trainer.callbacks.append(lambda step: step.iteration == 2 and trainer.request_stop())
    last = trainer.run()
    assert last.iteration == 2 and trainer.iteration == 2 and not trainer.done
    assert trainer.run(1).iteration == 3  # a later run starts afresh

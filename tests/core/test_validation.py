"""Validation during training: the val records, best.pt, patience, and losses equal to training's."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from data_files import voc_xml

from frcnn_core import FasterRCNN, cpu_config, open_dataset
from frcnn_core.cli.main import main
from frcnn_core.data import open_validation_split
from frcnn_core.models.checkpoint import load_checkpoint, read_checkpoint
from frcnn_core.train import METRICS_FILE, TrainConfig, Trainer, best_validation
from frcnn_core.train.validation import is_better, validate

VAL_KEYS = {"iteration", "split", "rpn_cls", "rpn_reg", "roi_cls", "roi_reg", "total", "map50", "coco_ap"}


def write_voc_set(root: Path, train: int = 6, val: int = 4) -> Path:
    """A VOC folder of 96x72 images, one bright box each (class ``cell``), with train and val splits."""
    from PIL import Image

    (root / "Annotations").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    (root / "ImageSets" / "Main").mkdir(parents=True)
    rng = np.random.default_rng(0)
    ids = []
    for i in range(train + val):
        pixels = np.full((72, 96, 3), 60, np.uint8)
        x, y = int(rng.integers(4, 50)), int(rng.integers(4, 30))
        pixels[y : y + 36, x : x + 40] = 230
        name = f"img{i:02d}"
        Image.fromarray(pixels).save(root / "JPEGImages" / f"{name}.jpg")
        (root / "Annotations" / f"{name}.xml").write_text(voc_xml(f"{name}.jpg", 96, 72, [("cell", x, y, x + 40, y + 36)]))
        ids.append(name)
    (root / "ImageSets" / "Main" / "train.txt").write_text("\n".join(ids[:train]) + "\n")
    (root / "ImageSets" / "Main" / "val.txt").write_text("\n".join(ids[train:]) + "\n")
    return root


def small_model(class_names, seed=0):
    torch.manual_seed(seed)
    return FasterRCNN(cpu_config(len(class_names), tuple(class_names), min_size=96, max_size=128))


def records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / METRICS_FILE).read_text().splitlines()]


def test_validation_losses_in_eval_mode_equal_the_training_losses_with_sampling_fixed():
    data = open_dataset("shapes", split="val", num_images=2)
    model = small_model(data.class_names)
    with torch.no_grad():  # away from the initial weights, whose objectness is 0 everywhere (every sampling gives ln 2)
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    images = [data[i][0] for i in range(2)]
    targets = [{"boxes": data[i][1]["boxes"].float(), "labels": data[i][1]["labels"]} for i in range(2)]
    # BatchNorm normalises with batch statistics in train mode and running ones in eval mode;
    # with the trunk's statistics frozen in both, the passes differ only in the loss path
    model.train()
    model.trunk.eval()
    with torch.no_grad():
        trained = model.run(images, targets, generator=torch.Generator().manual_seed(5)).losses
    model.eval()
    validated = model.validation_pass(images, targets, torch.Generator().manual_seed(5))
    for name, value in trained.items():
        assert validated.losses[name].item() == pytest.approx(value.item(), rel=1e-5, abs=1e-7), name
    # and its detections are inference's (the test proposal counts)
    predicted = model(images)
    for got, want in zip(validated.detections, predicted):
        torch.testing.assert_close(got.boxes, want.boxes)
        torch.testing.assert_close(got.scores, want.scores)
    other = model.validation_pass(images, targets, torch.Generator().manual_seed(6)).losses
    assert other["roi_cls"].item() != pytest.approx(trained["roi_cls"].item(), rel=1e-4)  # the RoI sampling does matter


def test_the_default_frequency_is_ten_a_run_and_fewer_for_a_val_set_large_against_the_run():
    run = TrainConfig(iterations=1000, batch_size=4)
    # BCCD's val split: nine validations (112, ..., 896 and the end; ten took 15.9 % of the time)
    assert run.validation_interval_for(87) == 112
    assert run.validation_interval_for(200) == 250  # shapes': four (ten took 29 %)
    assert run.validation_interval_for(40) == 100  # ten, the most
    assert run.validation_interval_for(10**6) == 1000  # once, at the end
    assert TrainConfig(iterations=1000, batch_size=4, val_every=7).validation_interval_for(10**6) == 7
    assert TrainConfig(iterations=8).validation_interval_for(3) == 8


@pytest.mark.slow
def test_training_with_a_val_set_writes_val_records_and_keeps_the_best_checkpoint(tmp_path):
    root = write_voc_set(tmp_path / "voc")
    train, val = open_dataset(root, split="train"), open_dataset(root, split="val")
    cfg = TrainConfig(iterations=8, batch_size=2, lr=0.02, warmup_iterations=2, val_every=1)
    trainer = Trainer(small_model(train.class_names), train, cfg, tmp_path / "run", device="cpu", val_dataset=val)
    steps = [trainer.step() for _ in range(8)]
    val_rows = [r for r in records(tmp_path / "run") if r.get("split") == "val"]
    assert [r["iteration"] for r in val_rows] == list(range(1, 9))
    assert all(VAL_KEYS <= set(r) for r in val_rows)
    assert all(r["total"] == pytest.approx(sum(r[k] for k in ("rpn_cls", "rpn_reg", "roi_cls", "roi_reg"))) for r in val_rows)
    assert [s.validation.iteration for s in steps] == list(range(1, 9))
    best = best_validation(val_rows)
    assert best["map50"] == max(r["map50"] for r in val_rows)
    assert trainer.best_iteration == best["iteration"] and trainer.best_map50 == best["map50"] and trainer.best_coco_ap == best["coco_ap"]
    assert [r["best"] for r in val_rows] == [best_validation(val_rows[: i + 1]) is r for i, r in enumerate(val_rows)]
    payload = read_checkpoint(tmp_path / "run" / "best.pt")
    assert payload["trainer"]["iteration"] == best["iteration"] and payload["validation"]["map50"] == best["map50"]
    assert trainer.recommended_checkpoint == tmp_path / "run" / "best.pt"
    # the best checkpoint scores what the record says, as frcnn eval scores it
    model, _ = load_checkpoint(tmp_path / "run" / "best.pt")
    again = validate(model, val, torch.device("cpu"))
    assert again.map50 == pytest.approx(best["map50"]) and again.coco_ap == pytest.approx(best["coco_ap"])
    assert again.losses["total"] == pytest.approx(best["total"], rel=1e-5)


@pytest.mark.slow
def test_patience_stops_after_that_many_validations_without_a_higher_map(tmp_path):
    data = open_dataset("shapes", split="val", num_images=4)
    # a learning rate so small that the weights stay put: only BatchNorm's running statistics
    # move the scores, and they settle within a few validations
    cfg = TrainConfig(iterations=60, batch_size=2, lr=1e-12, warmup_iterations=1, val_every=2, patience=2)
    trainer = Trainer(small_model(data.class_names), data, cfg, tmp_path, device="cpu", val_dataset=data)
    trainer.run()
    rows = [r for r in records(tmp_path) if r.get("split") == "val"]
    since_best = [0 if best_validation(rows[: i + 1]) is row else None for i, row in enumerate(rows)]
    for i in range(1, len(rows)):
        since_best[i] = 0 if since_best[i] == 0 else since_best[i - 1] + 1
    assert since_best[-1] == 2 and 2 not in since_best[:-1]  # stopped at the first second validation without a better one
    assert trainer.stopped_early and trainer.done and trainer.iteration == rows[-1]["iteration"] < 60
    assert trainer.best_map50 == best_validation(rows)["map50"] and trainer.best_iteration == rows[-3]["iteration"]
    state = read_checkpoint(tmp_path / "last.pt")["trainer"]
    assert state["iteration"] == trainer.iteration and state["validation"]["stopped_early"]
    resumed = Trainer.resume(tmp_path / "last.pt", data, tmp_path, device="cpu", val_dataset=data)
    assert resumed.done and resumed.best_iteration == trainer.best_iteration and resumed.best_map50 == trainer.best_map50


def test_the_best_validation_is_the_highest_map_and_of_equal_ones_the_higher_coco_ap():
    rows = [{"iteration": i, "map50": m, "coco_ap": c} for i, (m, c) in enumerate([(0.5, 0.3), (0.5, 0.4), (0.5 + 1e-12, 0.35), (0.4, 0.9)], 1)]
    assert best_validation(rows)["iteration"] == 2  # 3 ties on mAP@0.5 (summing order) with a lower COCO AP; 4 is lower
    assert best_validation(rows + [{"iteration": 5, "map50": 0.6, "coco_ap": 0.1}])["iteration"] == 5
    assert best_validation(rows[:1] + [{"iteration": 2, "map50": 0.5, "coco_ap": 0.3}])["iteration"] == 1  # a full tie keeps the first
    assert best_validation([]) is None
    assert is_better(0.0, 0.0, None, None) and not is_better(0.5, 0.3, 0.5, 0.3) and is_better(0.5, 0.31, 0.5, 0.3)


def test_without_patience_a_run_goes_to_the_end(tmp_path):
    data = open_dataset("shapes", split="val", num_images=2)
    cfg = TrainConfig(iterations=6, batch_size=2, lr=1e-12, warmup_iterations=1, val_every=2)
    trainer = Trainer(small_model(data.class_names), data, cfg, tmp_path, device="cpu", val_dataset=data)
    trainer.run()
    assert trainer.iteration == 6 and not trainer.stopped_early


def test_the_val_split_is_used_only_when_the_set_has_one(tmp_path):
    root = write_voc_set(tmp_path / "voc", train=3, val=2)
    train = open_dataset(root, split="train")
    assert len(open_validation_split(root, None, train)) == 2
    (root / "ImageSets" / "Main" / "val.txt").unlink()  # VOC without val.txt reads every file: no held-out images
    assert open_validation_split(root, None, train) is None
    assert open_validation_split(root, None, open_dataset(root, split="trainval")) is None
    assert len(open_validation_split("shapes", None, None, num_images=3)) == 3


def test_frcnn_train_validates_and_names_the_checkpoint_to_use(tmp_path, capsys):
    root = write_voc_set(tmp_path / "voc")
    out = tmp_path / "run"
    code = main(["train", "--data", str(root), "--output", str(out), "--iterations", "6", "--val-every", "3", "--batch-size", "2",
                 "--image-size", "96", "--no-progress", "--no-autoanchor"])
    assert code == 0
    printed = capsys.readouterr().out
    rows = [r for r in records(out) if r.get("split") == "val"]
    assert [r["iteration"] for r in rows] == [3, 6]
    best = max(rows, key=lambda r: r["map50"])
    assert f"use {out / 'best.pt'}: the highest val mAP@0.5, {best['map50']:.4f} at iteration {best['iteration']}" in printed
    assert main(["eval", str(out / "best.pt"), "--data", str(root), "--json", str(tmp_path / "eval.json"), "--no-progress"]) == 0
    assert json.loads((tmp_path / "eval.json").read_text())["map50"] == pytest.approx(best["map50"])

"""Fine-tuning a detector from its file (``frcnn train --init``) and exporting a torchvision one
back to torchvision (``frcnn export-weights``), on tiny random-init MobileNetV3 FPN models."""

from __future__ import annotations

import json

import pytest
import torch
import torchvision
from data_files import TinyBoxes
from PIL import Image
from torchvision.ops.misc import FrozenBatchNorm2d

from frcnn_core import FasterRCNN, cpu_config, save_checkpoint
from frcnn_core.cli import main
from frcnn_core.files.torchvision_weights import export_torchvision_weights
from frcnn_core.models.checkpoint import CheckpointError, load_checkpoint
from frcnn_core.models.torchvision_frcnn import TorchvisionFasterRCNN
from frcnn_core.train import Trainer
from frcnn_core.train.fine_tune import (
    fit_classes,
    freeze_batch_norm,
    prepare_for_fine_tuning,
    start_fine_tuning,
    torchvision_recipe,
)

ARCH = "fasterrcnn_mobilenet_v3_large_320_fpn"
SMALL = {"min_size": 96, "max_size": 96}


def batch_of(data) -> tuple[list[torch.Tensor], list[dict]]:
    pairs = [data[i] for i in range(len(data))]
    return [image for image, _ in pairs], [{"boxes": t["boxes"], "labels": t["labels"]} for _, t in pairs]


def fixed_losses(model, images, targets) -> float:
    """The training loss of ``images`` with the anchor and RoI samples drawn from one fixed seed."""
    model.train()
    with torch.no_grad():
        losses = model.run(images, targets, generator=torch.Generator().manual_seed(0)).losses
    return float(sum(losses.values()))


def test_the_reference_recipe_scales_the_lr_to_the_batch_and_warms_up_within_an_epoch():
    recipe = torchvision_recipe(100, {"batch_size": 4, "iterations": 2600})
    assert recipe.lr == pytest.approx(0.02 * 4 / 16) and recipe.momentum == 0.9 and recipe.weight_decay == 1e-4
    assert recipe.warmup_iterations == 24 and recipe.warmup_factor == 1e-3  # min(1000, one epoch - 1)
    assert recipe.schedule == "step" and [round(f * 2600) for f in recipe.lr_steps] == [1600, 2200] and recipe.lr_gamma == 0.1
    assert recipe.grad_clip == 0
    assert torchvision_recipe(10_000, {"iterations": 5000}).warmup_iterations == 1000
    assert torchvision_recipe(100, {"lr": 0.5}).lr == 0.5  # the user's lr wins
    with pytest.raises(ValueError, match="nope"):
        torchvision_recipe(100, {"nope": 1})


def test_frozen_batch_norm_keeps_the_statistics_and_stops_learning_them():
    torch.manual_seed(0)
    block = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    block[1].running_mean.uniform_()
    block[1].running_var.uniform_(0.5, 2)
    block[1].weight.data.uniform_()
    x = torch.rand(2, 3, 8, 8)
    expected = block.eval()(x)
    assert freeze_batch_norm(block) == 1 and isinstance(block[1], FrozenBatchNorm2d)
    torch.testing.assert_close(block.train()(x), expected)  # train mode: the same statistics


def test_a_file_without_names_takes_the_datas_and_other_classes_get_a_new_predictor(state_dict_file):
    model, _ = load_checkpoint(state_dict_file, arch=ARCH)
    assert fit_classes(model, ("bright", "dark"), "f") and model.config.class_names == ("bright", "dark")
    head = model.roi_heads.box_head.state_dict()
    lines = fit_classes(model, ("a", "b", "c"), "f")
    assert "box predictor starts anew" in lines[0] and model.num_classes == 3 and model.config.class_names == ("a", "b", "c")
    assert all(torch.equal(v, model.roi_heads.box_head.state_dict()[k]) for k, v in head.items())  # the rest keeps its weights
    ours = FasterRCNN(cpu_config(2, ("bright", "dark")))
    with pytest.raises(CheckpointError, match=r"trained for the classes \(bright, dark\); the data has \(a\)"):
        fit_classes(ours, ("a",), "ours.pt")


@pytest.mark.slow
def test_a_few_fine_tuning_iterations_lower_the_loss_and_the_checkpoint_opens_everywhere(state_dict_file, tmp_path):
    data = TinyBoxes()
    torch.manual_seed(0)
    model, schedule, lines = start_fine_tuning(state_dict_file, data, ARCH, {"iterations": 8}, detector_changes=SMALL)
    assert isinstance(model, TorchvisionFasterRCNN) and model.config.min_size == 96
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.backbone.body.modules())  # the trunk's norm is frozen
    assert schedule.lr == pytest.approx(0.0025) and ARCH in lines[0] and "reference recipe" in lines[-1]
    images, targets = batch_of(data)
    before = fixed_losses(model, images, targets)
    trainer = Trainer(model, data, schedule, tmp_path, "cpu")
    steps = [trainer.step(trace=i == 7) for i in range(8)]
    assert fixed_losses(model, images, targets) < before
    assert steps[-1].trace is not None and len(steps[-1].trace.levels) == 3 and steps[-1].stats["positive_anchors"] > 0
    # the checkpoint it wrote opens as the same torchvision model, and resumes
    reopened, payload = load_checkpoint(steps[-1].checkpoint)
    assert isinstance(reopened, TorchvisionFasterRCNN) and reopened.arch.value == ARCH and "trainer" in payload
    assert reopened.config.class_names == ("bright", "dark") and reopened.config.min_size == 96
    model.eval(), reopened.eval()
    with torch.no_grad():
        mine, theirs = model(images[:1])[0], reopened(images[:1])[0]
    torch.testing.assert_close(theirs.boxes, mine.boxes)
    torch.testing.assert_close(theirs.scores, mine.scores)
    resumed = Trainer.resume(steps[-1].checkpoint, data, tmp_path, "cpu", iterations=9)
    assert resumed.iteration == 8 and resumed.step().iteration == 9


def test_export_weights_round_trips_into_torchvisions_builder(state_dict_file, tmp_path):
    model, _ = load_checkpoint(state_dict_file, arch=ARCH, class_names=("bright", "dark"))
    model.reconfigure(**SMALL)
    prepare_for_fine_tuning(model)  # as a fine-tuned model is saved: no BatchNorm counters in its trunk
    checkpoint = save_checkpoint(tmp_path / "fine.pt", model)
    output, exported = export_torchvision_weights(checkpoint, tmp_path / "out" / "weights.pth")
    builder = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=3, **SMALL)
    builder.load_state_dict(torch.load(output, weights_only=True))  # strict
    image = TinyBoxes()[1][0]
    builder.eval(), exported.eval()
    with torch.no_grad():
        expected, got = builder([image])[0], exported([image])[0]
    torch.testing.assert_close(got.boxes, expected["boxes"], atol=0.05, rtol=0)
    torch.testing.assert_close(got.scores, expected["scores"], atol=1e-3, rtol=0)
    assert (output.parent / "classes.txt").read_text() == "bright\ndark\n"


def test_export_weights_refuses_our_own_detector(tmp_path):
    path = save_checkpoint(tmp_path / "ours.pt", FasterRCNN(cpu_config(2, ("a", "b"))))
    with pytest.raises(CheckpointError, match="frcnn-viewer's own detector"):
        export_torchvision_weights(path, tmp_path / "x.pth")
    assert not (tmp_path / "x.pth").exists()


def write_coco(folder, data) -> str:
    """``data`` as PNG files and a COCO JSON file (a set with no split of its own: no evaluation)."""
    folder.mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in range(len(data)):
        image, target = data[i]
        Image.fromarray((image.permute(1, 2, 0).numpy() * 255).astype("uint8")).save(folder / f"{i}.png")
        images.append({"id": i + 1, "file_name": f"{i}.png", "width": 96, "height": 96})
        x1, y1, x2, y2 = target["boxes"][0].tolist()
        annotations.append({"id": i + 1, "image_id": i + 1, "category_id": int(target["labels"][0]), "bbox": [x1, y1, x2 - x1, y2 - y1],
                            "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    categories = [{"id": k + 1, "name": name} for k, name in enumerate(data.class_names)]
    path = folder / "train.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return str(path)


@pytest.mark.slow
def test_the_train_and_export_commands(state_dict_file, tmp_path, capsys):
    data = write_coco(tmp_path / "coco", TinyBoxes())
    run = tmp_path / "run"
    args = ["train", "--init", str(state_dict_file), "--arch", ARCH, "--data", data, "--output", str(run),
            "--iterations", "2", "--image-size", "96", "--device", "cpu", "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "reference recipe: SGD lr 0.0025" in out and "fasterrcnn_mobilenet_v3_large_320_fpn at 96 px" in out
    assert main(["export-weights", str(run / "last.pt"), str(tmp_path / "w.pth")]) == 0
    assert "num_classes=3" in capsys.readouterr().out
    assert main(["train", "--data", data, "--output", str(run), "--arch", ARCH, "--no-progress"]) == 1
    assert "--arch names the architecture of the file given with --init" in capsys.readouterr().err

"""``frcnn detect|eval|diagnose`` on a torchvision Faster R-CNN's file, unchanged but for ``--arch``/``--classes``."""

from __future__ import annotations

import argparse
import json

import pytest
import torch
import torchvision
from PIL import Image
from torchvision.ops import box_iou

from frcnn_core import TorchvisionArch
from frcnn_core.cli import main
from frcnn_core.data import ImageFolderDataset, ShapesDataset
from frcnn_core.models.torchvision_frcnn import build_torchvision_detector

ARCH = TorchvisionArch.MOBILENET_V3_LARGE_320_FPN.value


@pytest.fixture(scope="module")
def detector():
    """torchvision's MobileNetV3 320 detector for the 4 shapes classes, random weights with sharper heads."""
    torch.manual_seed(0)
    model = build_torchvision_detector(ARCH, len(ShapesDataset.CLASS_NAMES)).eval()
    with torch.no_grad():
        model.roi_heads.box_predictor.cls_score.weight.normal_(0, 0.3)
        model.rpn.head.cls_logits.weight.normal_(0, 0.3)
    return model


@pytest.fixture(scope="module")
def weights(detector, tmp_path_factory):
    path = tmp_path_factory.mktemp("tv") / "model.pth"
    torch.save(detector.state_dict(), path)
    return path


def test_diagnose_a_torchvision_state_dict(weights, tmp_path, capsys):
    out = tmp_path / "diagnosis.json"
    args = ["--data", "shapes", "--num-images", "2", "--iou", "0.3", "--score-threshold", "0.2", "--device", "cpu", "--no-progress"]
    assert main(["diagnose", str(weights), "--arch", ARCH, *args, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == f"architecture: {ARCH} (as chosen)"
    assert lines[1] == "class names: the categories of shapes in label order (circle, square, triangle, cross)"
    assert "ground truth" in text and "lost in NMS" in text
    report = json.loads(out.read_text())
    dataset = ShapesDataset(split="val", num_images=2)
    boxes = torch.cat([dataset[i][1]["boxes"] for i in range(2)])
    assert len(report["gt"]) == len(boxes) > 0
    assert report["summary"]["gt"]["anchor"] == sum(row["best_anchor_iou"] < 0.3 for row in report["gt"])


def test_detect_writes_what_torchvision_detects(detector, weights, tmp_path):
    pixels = (torch.rand(80, 100, 3, generator=torch.Generator().manual_seed(2)) * 255).to(torch.uint8).numpy()
    Image.fromarray(pixels).save(tmp_path / "a.png")
    out = tmp_path / "detections.json"
    assert main(["detect", str(weights), str(tmp_path / "a.png"), "-o", str(out), "--format", "rich", "--device", "cpu",
                 "--arch", "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights", "--classes", "o,s,t,x", "--no-progress"]) == 0
    written = json.loads(out.read_text())
    image, _ = ImageFolderDataset([str(tmp_path / "a.png")])[0]
    with torch.no_grad():
        expected = detector([image])[0]
    found = written["images"][0]["detections"]
    assert len(found) == len(expected["boxes"]) > 0
    boxes = torch.tensor([d["box"] for d in found])
    assert (boxes - expected["boxes"]).abs().max() <= 0.05
    assert [d["class_name"] for d in found] == [("o", "s", "t", "x")[k - 1] for k in expected["labels"].tolist()]
    assert torch.tensor([d["score"] for d in found]).sub(expected["scores"]).abs().max() <= 1e-3


def test_eval_a_reference_checkpoint(detector, tmp_path, capsys):
    path = tmp_path / "checkpoint.pth"
    torch.save({"model": detector.state_dict(), "optimizer": {}, "lr_scheduler": {}, "epoch": 3,
                "args": argparse.Namespace(model=ARCH)}, path)
    assert main(["eval", str(path), "--data", "shapes", "--num-images", "2", "--device", "cpu", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == f"architecture: {ARCH} (from the checkpoint's args.model)"
    assert "mAP@0.5" in text and "triangle" in text


def test_an_arch_that_does_not_fit_is_one_line_naming_keys(weights, capsys):
    assert main(["diagnose", str(weights), "--arch", "fasterrcnn_resnet50_fpn_v2", "--data", "shapes", "--num-images", "1", "--device", "cpu", "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith(f"frcnn: error: {weights} does not fit torchvision's fasterrcnn_resnet50_fpn_v2: missing backbone.body.conv1.weight")


def test_an_unknown_arch_is_refused_by_the_parser(weights, capsys):
    with pytest.raises(SystemExit):
        main(["eval", str(weights), "--arch", "yolov8", "--data", "shapes"])
    assert "unknown architecture 'yolov8'; choose one of fasterrcnn_resnet50_fpn" in capsys.readouterr().err


def test_a_dataset_with_other_classes_is_refused(tmp_path, capsys):
    path = tmp_path / "three.pth"
    torch.save(build_torchvision_detector(ARCH, 3).state_dict(), path)
    assert main(["eval", str(path), "--data", "shapes", "--num-images", "1", "--device", "cpu", "--no-progress"]) == 1
    assert capsys.readouterr().err == (
        "frcnn: error: the model has 3 classes but shapes has 4 categories (circle, square, triangle, cross): its labels are not the model's\n"
    )


def test_a_classification_state_dict_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    assert main(["detect", str(path), str(tmp_path), "-o", str(tmp_path / "x.json"), "--device", "cpu"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "has no Faster R-CNN heads" in error


def test_best_anchor_iou_of_the_report_is_over_every_level(detector, weights, tmp_path):
    out = tmp_path / "d.json"
    assert main(["diagnose", str(weights), "--arch", ARCH, "--data", "shapes", "--num-images", "1", "--device", "cpu", "--no-progress", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    image, target = ShapesDataset(split="val", num_images=1)[0]
    with torch.no_grad():
        images, _ = detector.transform([image])
        features = list(detector.backbone(images.tensors).values())
        anchors = detector.rpn.anchor_generator(images, features)[0]
    scale = torch.tensor([image.shape[2] / images.image_sizes[0][1], image.shape[1] / images.image_sizes[0][0]] * 2)
    best = box_iou(target["boxes"], anchors * scale).max(dim=1).values
    assert [row["best_anchor_iou"] for row in report["gt"]] == pytest.approx(best.tolist(), abs=1e-4)

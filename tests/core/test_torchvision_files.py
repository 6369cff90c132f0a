"""Opening a torchvision Faster R-CNN's file: both forms, the architecture from the keys, the class
names, and one clear line for every file that is not one."""

from __future__ import annotations

import argparse
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torchvision
from torchvision.ops import FrozenBatchNorm2d

from frcnn_core import CheckpointError, TorchvisionArch, TorchvisionFasterRCNN, load_checkpoint, save_checkpoint
from frcnn_core.models.torchvision_files import identify_architecture
from frcnn_core.models.torchvision_frcnn import build_torchvision_detector


@pytest.fixture(scope="module")
def mobilenet():
    """A random MobileNetV3 FPN detector of 3 classes with sharper random heads, and its state_dict."""
    torch.manual_seed(0)
    detector = build_torchvision_detector(TorchvisionArch.MOBILENET_V3_LARGE_FPN, 3).eval()
    with torch.no_grad():
        detector.roi_heads.box_predictor.cls_score.weight.normal_(0, 0.2)
    return detector, detector.state_dict()


@pytest.fixture(scope="module")
def image():
    return torch.rand(3, 90, 120, generator=torch.Generator().manual_seed(4))


def detections_of(model, image, min_size=96):
    """Detections at a small input size (the file does not hold the image size; both sides set it)."""
    if isinstance(model, TorchvisionFasterRCNN):
        model.reconfigure(min_size=min_size, max_size=min_size * 2)
        return model.eval()([image])[0].boxes
    model.transform.min_size, model.transform.max_size = (min_size,), min_size * 2
    with torch.no_grad():
        return model.eval()([image])[0]["boxes"]


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_a_bare_state_dict_opens_as_its_model(mobilenet, image, tmp_path):
    detector, state = mobilenet
    path = tmp_path / "model.pth"
    torch.save(state, path)
    model, payload = load_checkpoint(path)
    assert isinstance(model, TorchvisionFasterRCNN) and model.arch is TorchvisionArch.MOBILENET_V3_LARGE_FPN
    assert model.config.num_classes == 3 and model.config.class_names == ()
    info = payload["torchvision"]
    assert info.form == "state_dict" and set(payload) == {"model", "torchvision"}
    assert info.lines() == [
        "architecture: assumed fasterrcnn_mobilenet_v3_large_fpn; the weights of fasterrcnn_mobilenet_v3_large_320_fpn are the same, "
        "choose it with --arch fasterrcnn_mobilenet_v3_large_320_fpn",
        "class names: class 1..3 (give them with --classes a,b,c or a classes.txt beside the file)",
    ]
    assert torch.equal(detections_of(model, image), detections_of(detector, image))
    assert model.config.min_size == 96  # the builder's 800 until changed: the file does not say


def test_the_320_builder_is_chosen_by_name_or_weights_name(mobilenet, tmp_path):
    path = tmp_path / "model.pth"
    torch.save(mobilenet[1], path)
    for name in ("fasterrcnn_mobilenet_v3_large_320_fpn", "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights"):
        model, payload = load_checkpoint(path, arch=name)
        assert model.arch is TorchvisionArch.MOBILENET_V3_LARGE_320_FPN
        assert (model.config.min_size, model.config.rpn_pre_nms_top_n_test, model.config.rpn_score_thresh) == (320, 150, 0.05)
        assert payload["torchvision"].arch_note == "architecture: fasterrcnn_mobilenet_v3_large_320_fpn (as chosen)"


def test_the_reference_train_checkpoint_opens_with_its_args(mobilenet, tmp_path):
    detector, state = mobilenet
    optimizer = torch.optim.SGD(detector.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[16, 22], gamma=0.1)
    args = argparse.Namespace(model="fasterrcnn_mobilenet_v3_large_320_fpn", lr=0.02, epochs=26, data_path="/data/coco", weights=None)
    path = tmp_path / "checkpoint.pth"
    # what torchvision's references/detection/train.py saves, DataParallel's "module." prefix included
    torch.save({"model": OrderedDict(("module." + k, v) for k, v in state.items()), "optimizer": optimizer.state_dict(),
                "lr_scheduler": scheduler.state_dict(), "args": args, "epoch": 25}, path)
    model, payload = load_checkpoint(path)
    assert model.arch is TorchvisionArch.MOBILENET_V3_LARGE_320_FPN
    assert payload["epoch"] == 25 and payload["args"].lr == 0.02 and payload["torchvision"].form == "reference checkpoint"
    assert payload["torchvision"].arch_note == "architecture: fasterrcnn_mobilenet_v3_large_320_fpn (from the checkpoint's args.model)"
    loaded = model.state_dict()
    assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], v) for k, v in state.items())


@pytest.mark.slow
def test_resnet_trunks_are_told_apart_by_their_keys():
    for arch in (TorchvisionArch.RESNET50_FPN, TorchvisionArch.RESNET50_FPN_V2):
        state = build_torchvision_detector(arch, 2).state_dict()
        assert identify_architecture(state, "x.pth") == (arch, f"architecture: {arch.value} (from the weights' keys)")


def test_class_names_from_classes_txt_or_as_given(mobilenet, tmp_path):
    path = tmp_path / "model.pth"
    torch.save(mobilenet[1], path)
    (tmp_path / "classes.txt").write_text("__background__\ncat\ndog\n\nbird\n")
    model, payload = load_checkpoint(path)
    assert model.config.class_names == ("cat", "dog", "bird")
    assert payload["torchvision"].class_names_note == f"class names: from {tmp_path / 'classes.txt'} (cat, dog, bird)"
    model, _ = load_checkpoint(path, class_names=("a", "b", "c"))
    assert model.config.class_names == ("a", "b", "c")
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert one_line(exc) == f"{tmp_path / 'classes.txt'} names 2 classes but the model in model.pth has 3"
    with pytest.raises(CheckpointError, match="2 class names given for the 3 classes of"):
        load_checkpoint(path, class_names=("a", "b"))


def test_a_fine_tuned_trunk_keeps_its_frozen_batch_norm(mobilenet, image, tmp_path):
    detector, state = mobilenet
    frozen = OrderedDict((k, v) for k, v in state.items() if not (k.startswith("backbone.body.") and k.endswith("num_batches_tracked")))
    path = tmp_path / "finetuned.pth"
    torch.save(frozen, path)
    model, payload = load_checkpoint(path)
    assert payload["torchvision"].frozen_norm
    assert any(isinstance(m, FrozenBatchNorm2d) for m in model.backbone.body.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.backbone.body.modules())
    assert (detections_of(model, image) - detections_of(detector, image)).abs().max() < 0.05


def test_our_checkpoint_of_a_torchvision_model_keeps_its_settings(mobilenet, image, tmp_path):
    _, state = mobilenet
    model = TorchvisionFasterRCNN.build(TorchvisionArch.MOBILENET_V3_LARGE_FPN, 3, ("a", "b", "c"))
    model.load_state_dict(state)
    model.reconfigure(min_size=96, max_size=192, score_thresh=0.3, rpn_post_nms_top_n_test=200)
    path = save_checkpoint(tmp_path / "ours.pt", model)
    loaded, payload = load_checkpoint(path)
    assert isinstance(loaded, TorchvisionFasterRCNN) and loaded.config == model.config and "torchvision" not in payload
    assert torch.equal(loaded.eval()([image])[0].boxes, model.eval()([image])[0].boxes)
    with pytest.raises(CheckpointError, match="is an frcnn-viewer checkpoint of a fasterrcnn_mobilenet_v3_large_fpn model, not fasterrcnn_resnet50_fpn"):
        load_checkpoint(path, arch="fasterrcnn_resnet50_fpn")


def test_an_arch_that_does_not_fit_is_refused_naming_the_keys(mobilenet, tmp_path):
    path = tmp_path / "model.pth"
    torch.save(mobilenet[1], path)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path, arch="fasterrcnn_resnet50_fpn")
    message = one_line(exc)
    assert message.startswith(f"{path} does not fit torchvision's fasterrcnn_resnet50_fpn: missing backbone.body.conv1.weight")
    assert "unexpected backbone.body.0.0.weight" in message and "more" in message


def test_a_detectron2_pickle_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "model_final_280758.pkl"
    with open(path, "wb") as f:
        pickle.dump({"model": {"backbone.bottom_up.stem.conv1.weight": np.zeros((64, 3, 7, 7))}, "__author__": "Detectron2 Model Zoo"}, f)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert one_line(exc).startswith(f"{path} is a plain Python pickle (a detectron2 .pkl model?)")


def test_a_classification_state_dict_is_refused(tmp_path):
    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert one_line(exc) == (
        f"{path} has no Faster R-CNN heads (no rpn.* and roi_heads.* weights; keys conv1.weight, bn1.weight, bn1.bias, ...) "
        "(a classification model's state_dict?)"
    )


def test_a_whole_pickled_model_is_refused_with_how_to_save_weights(tmp_path):
    path = tmp_path / "whole.pth"
    torch.save(torchvision.models.mobilenet_v3_small(), path)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert one_line(exc).endswith("save its weights instead: torch.save(model.state_dict(), PATH)")


def test_a_file_holding_code_is_refused(mobilenet, tmp_path):
    path = tmp_path / "sneaky.pth"
    torch.save({"model": mobilenet[1], "args": argparse.Namespace(model="fasterrcnn_mobilenet_v3_large_fpn"), "hook": print}, path)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert one_line(exc).startswith(f"checkpoint {path} could not be read safely")

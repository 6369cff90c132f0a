"""The preset ``frcnn train`` and the training dock start from when none is asked for."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torchvision

from frcnn_core.backbones import imagenet_weights_cached
from frcnn_core.cli.main import build_parser
from frcnn_core.cli.train_cmd import Preset, choose_preset, detector_config, train_config

VGG16_FILE = Path(torchvision.models.VGG16_Weights.IMAGENET1K_V1.url).name


@pytest.fixture
def torch_home(tmp_path, monkeypatch) -> Path:
    """An empty torch hub cache: no ImageNet weights until a test puts a file there."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path


def cache_vgg16(torch_home: Path) -> None:
    (torch_home / "hub" / "checkpoints").mkdir(parents=True)
    (torch_home / "hub" / "checkpoints" / VGG16_FILE).write_bytes(b"")


def train_args(*flags: str) -> argparse.Namespace:
    return build_parser().parse_args(["train", "--data", "shapes", "--output", "out", *flags])


def test_without_cached_weights_a_gpu_gets_the_light_preset_and_is_told_why(torch_home):
    assert not imagenet_weights_cached("vgg16")
    preset = choose_preset(None, on_cpu=False)
    assert preset.name == "cpu" and not preset.pretrained and "not cached" in preset.note
    assert choose_preset(None, on_cpu=True) == Preset("cpu")


def test_with_cached_vgg16_weights_a_gpu_trains_the_seed_preset_from_them(torch_home):
    cache_vgg16(torch_home)
    assert imagenet_weights_cached("vgg16") and not imagenet_weights_cached("resnet18") and not imagenet_weights_cached("small")
    preset = choose_preset(None, on_cpu=False)
    assert preset == Preset("seed", pretrained=True, note=preset.note) and "ImageNet" in preset.note
    cfg = detector_config(train_args(), ("a", "b"), preset)
    assert cfg.backbone == "vgg16" and cfg.pretrained_backbone and cfg.min_size == 800
    # another trunk asked for: the preset's VGG16 weights do not apply to it
    assert not detector_config(train_args("--backbone", "resnet18"), ("a",), preset).pretrained_backbone
    assert choose_preset(None, on_cpu=True).name == "cpu"


def test_an_explicit_preset_wins_and_the_schedule_follows_the_preset_not_the_device(torch_home):
    cache_vgg16(torch_home)
    seed = choose_preset("seed", on_cpu=True)
    assert seed == Preset("seed") and not detector_config(train_args(), ("a",), seed).pretrained_backbone
    assert choose_preset("cpu", on_cpu=False) == Preset("cpu")
    light = train_config(train_args(), Preset("cpu"))
    paper = train_config(train_args(), Preset("seed"))
    assert (light.batch_size, light.lr, light.iterations) == (4, 0.02, 2000)
    assert (paper.batch_size, paper.lr) == (2, 0.01)
    assert train_config(train_args("--lr", "0.005"), Preset("cpu")).lr == 0.005


def test_the_same_trunk_asked_for_by_name_keeps_the_presets_weights(torch_home):
    cache_vgg16(torch_home)
    preset = choose_preset(None, on_cpu=False)
    assert detector_config(train_args("--backbone", "vgg16"), ("a",), preset).pretrained_backbone

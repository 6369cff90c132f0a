"""The preset ``frcnn train`` and the training dock start from when none is asked for."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torchvision

from frcnn_core.cli.main import build_parser
from frcnn_core.cli.train_cmd import config_overrides
from frcnn_core.models.backbones import imagenet_weights_cached
from frcnn_core.presets import Preset, PresetName, choose_preset, detector_config, train_config

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


def detector_changes(*flags: str) -> dict:
    return config_overrides(train_args(*flags))[0]


def train_changes(*flags: str) -> dict:
    return config_overrides(train_args(*flags))[1]


def test_without_cached_weights_a_gpu_gets_the_light_preset_and_is_told_why(torch_home):
    assert not imagenet_weights_cached("vgg16")
    assert choose_preset("seed", on_cpu=True) == Preset("seed")  # from scratch, as asked
    preset = choose_preset(None, on_cpu=False)
    assert preset.name == "cpu" and not preset.pretrained and "not cached" in preset.note
    assert choose_preset(None, on_cpu=True) == Preset("cpu")


def test_with_cached_vgg16_weights_a_gpu_trains_the_seed_preset_from_them(torch_home):
    cache_vgg16(torch_home)
    assert imagenet_weights_cached("vgg16") and not imagenet_weights_cached("resnet18") and not imagenet_weights_cached("small")
    preset = choose_preset(None, on_cpu=False)
    assert preset == Preset("seed", pretrained=True, note=preset.note) and "ImageNet" in preset.note
    cfg = detector_config(("a", "b"), preset, detector_changes())
    assert cfg.backbone == "vgg16" and cfg.pretrained_backbone and cfg.min_size == 800
    # another trunk asked for: the preset's VGG16 weights do not apply to it
    assert not detector_config(("a",), preset, detector_changes("--backbone", "resnet18")).pretrained_backbone
    assert choose_preset(None, on_cpu=True).name == "cpu"


def test_an_explicit_preset_wins_and_the_schedule_follows_the_preset_not_the_device(torch_home):
    cache_vgg16(torch_home)
    seed = choose_preset("seed", on_cpu=True)  # the seed's setting starts from the cached weights
    assert seed.name == "seed" and seed.pretrained and detector_config(("a",), seed, detector_changes()).pretrained_backbone
    assert choose_preset("cpu", on_cpu=False) == Preset("cpu")
    light = train_config(Preset("cpu"), train_changes())
    paper = train_config(Preset("seed"), train_changes())
    assert (light.batch_size, light.lr, light.iterations) == (4, 0.02, 2000)
    assert (paper.batch_size, paper.lr) == (2, 0.01)
    assert train_config(Preset("cpu"), train_changes("--lr", "0.005")).lr == 0.005


def test_the_same_trunk_asked_for_by_name_keeps_the_presets_weights(torch_home):
    cache_vgg16(torch_home)
    preset = choose_preset(None, on_cpu=False)
    assert detector_config(("a",), preset, detector_changes("--backbone", "vgg16")).pretrained_backbone


def test_overrides_are_plain_field_names_and_a_bad_one_names_the_valid_ones(tmp_path):
    light = Preset(PresetName.CPU)
    cfg = detector_config(("a",), light, {"anchor_scales": [2, 4], "min_size": 128})
    assert cfg.anchor_scales == (2, 4) and cfg.min_size == 128 and cfg.backbone == "small"
    assert detector_changes("--image-size", "300") == {"min_size": 300, "max_size": 500}
    with pytest.raises(ValueError, match="unknown DetectorConfig field.*nms_iou.*valid: .*rpn_nms_thresh"):
        detector_config(("a",), light, {"nms_iou": 0.5})
    with pytest.raises(ValueError, match="unknown TrainConfig field.*learning_rate"):
        train_config(light, {"learning_rate": 0.1})
    with pytest.raises(ValueError, match="unknown preset 'gpu'"):
        choose_preset("gpu", on_cpu=True)


def test_a_config_file_feeds_the_same_resolution_and_a_bad_one_is_one_line(tmp_path):
    good = tmp_path / "run.json"
    good.write_text('{"detector": {"anchor_ratios": [1]}, "train": {"lr": 0.003}}')
    detector, train = config_overrides(train_args("--config", str(good), "--lr", "0.004"))
    assert detector == {"anchor_ratios": [1]} and train == {"lr": 0.004}  # flags after the file
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="deep.json"):
        config_overrides(train_args("--config", str(deep)))


def test_the_cpu_preset_trains_every_anchor_with_torchvisions_box_loss_and_the_seed_preset_stays_the_seeds():
    light = detector_config(("a",), Preset("cpu"))
    seed = detector_config(("a",), Preset("seed"))
    assert light.rpn_allowed_border >= 1e5 and seed.rpn_allowed_border == 0.0
    assert light.roi_smooth_l1_beta == pytest.approx(1 / 9) and seed.roi_smooth_l1_beta == 1.0  # torchvision's / the seed's
    assert light.box_vote_iou == 0.8 and seed.box_vote_iou == 0.0  # Detectron's box voting / none, the seed's
    for preset in (Preset("cpu"), Preset("seed")):  # augmentation beyond the flip is there, off by default
        settings = train_config(preset)
        assert (settings.color_jitter, settings.zoom_range, settings.horizontal_flip) == (0.0, (1.0, 1.0), True)
    # the seed's rule is one --config entry away from the cpu preset, and so is augmentation
    seeds_rules = detector_config(("a",), Preset("cpu"), {"rpn_allowed_border": 0})
    augmented = train_config(Preset("cpu"), {"color_jitter": 0.2, "zoom_range": [0.75, 1.33]})
    assert seeds_rules.rpn_allowed_border == 0 and (augmented.color_jitter, augmented.zoom_range) == (0.2, (0.75, 1.33))

"""Training presets and configuration resolution: preset, then a config file, then overrides.

One place decides what a run is built with, for ``frcnn train`` and the viewer's training
dock alike; both pass plain values (field names of :class:`DetectorConfig` and
:class:`TrainConfig`), never parsed command lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from .config import DetectorConfig, cpu_config
from .files.json_input import load_json
from .models.backbones import imagenet_weights_cached
from .train import TrainConfig


class PresetName(str, Enum):
    """``cpu``: the light trunk at 256 px, 2000 iterations of 4 images; ``seed``: the seed's
    setting, VGG16 at 800 px."""

    CPU = "cpu"
    SEED = "seed"


PRESETS = tuple(p.value for p in PresetName)


@dataclass(frozen=True)
class Preset:
    """The starting settings of a run: ``pretrained`` starts the trunk from its cached
    ImageNet weights; ``note`` tells the user why, when it was chosen for them."""

    name: PresetName
    pretrained: bool = False
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", PresetName(self.name))


def choose_preset(requested: str | PresetName | None, on_cpu: bool) -> Preset:
    """``requested``, else ``cpu`` on a CPU; on a GPU ``seed`` (VGG16 at 800 px) from VGG16's
    cached ImageNet weights, as the paper trains it, and ``cpu`` when they are not cached.
    ``seed`` asked for by name starts from those weights when they are cached, too.
    VGG16 from scratch is near mAP 0 after the default 2000 iterations (0.02 after 500 on
    ``shapes``), the light trunk reaches 0.9 there in about as many.

    Raises ``ValueError`` for an unknown preset name."""
    if requested is not None:
        try:
            name = PresetName(requested)
        except ValueError:
            raise ValueError(f"unknown preset {requested!r}; choose one of {', '.join(PRESETS)}") from None
        if name is PresetName.SEED and imagenet_weights_cached("vgg16"):
            return Preset(name, pretrained=True, note="preset seed: VGG16 from its cached ImageNet weights")
        return Preset(name)
    if on_cpu:
        return Preset(PresetName.CPU)
    if imagenet_weights_cached("vgg16"):
        return Preset(PresetName.SEED, pretrained=True, note="preset seed: VGG16 at 800 px from its cached ImageNet weights")
    return Preset(
        PresetName.CPU,
        note="preset cpu: VGG16's ImageNet weights are not cached and from scratch it learns far too slowly; "
        "training the light trunk at 256 px (--preset seed to insist, --pretrained once the weights are cached)",
    )


def read_config_file(path: str | Path | None) -> tuple[dict, dict]:
    """The ``detector`` and ``train`` sections of a JSON config file (empty without a file).

    Raises ``ValueError`` with one line naming the file when it cannot be read or has another shape."""
    if path is None:
        return {}, {}
    data = load_json(path, "a configuration")
    if not isinstance(data, dict) or set(data) - {"detector", "train"}:
        raise ValueError(f"config file {path}: expected an object with 'detector' and/or 'train' sections")
    detector, train = data.get("detector", {}), data.get("train", {})
    if not isinstance(detector, dict) or not isinstance(train, dict):
        raise ValueError(f"config file {path}: 'detector' and 'train' must be objects")
    return detector, train


def input_size_fields(image_size: int) -> dict[str, int]:
    """``min_size``/``max_size`` for a shorter side of ``image_size`` (the longer one at most 5/3 of it)."""
    return {"min_size": image_size, "max_size": max(image_size, round(image_size * 5 / 3))}


def detector_config(class_names: tuple[str, ...], preset: Preset, overrides: Mapping[str, Any] | None = None) -> DetectorConfig:
    """The preset's detector for ``class_names``, with ``overrides`` (``DetectorConfig`` fields).

    Changing the backbone drops the preset's pretrained weights (they are its own trunk's)
    unless ``pretrained_backbone`` is given too, and a trunk other than VGG16 gets a
    1024-wide head unless ``head_hidden`` is given. Lists become tuples.
    Raises ``ValueError`` naming an unknown field or a bad value."""
    if preset.name is PresetName.CPU:
        base = cpu_config(len(class_names), class_names)
    else:
        base = DetectorConfig(num_classes=len(class_names), class_names=class_names, pretrained_backbone=preset.pretrained)
    changes = {k: tuple(v) if isinstance(v, list) else v for k, v in (overrides or {}).items()}
    if changes.get("backbone", base.backbone) != base.backbone and "pretrained_backbone" not in changes:
        changes["pretrained_backbone"] = False
    if changes.get("backbone", base.backbone) != "vgg16" and base.head_hidden == 4096 and "head_hidden" not in changes:
        changes["head_hidden"] = 1024
    return base.replace(**changes)


def train_config(preset: Preset, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """The preset's schedule with ``overrides`` (``TrainConfig`` fields)."""
    # colour and zoom augmentation (TrainConfig's color_jitter, zoom_range) stay off: at 0.2 and
    # (0.75, 1.33) they did not help on BCCD or large objects and cost shapes 0.06-0.11 mAP@0.5
    # (README, "A recipe that learns real photos")
    base = TrainConfig(iterations=2000, batch_size=4, lr=0.02) if preset.name is PresetName.CPU else TrainConfig()
    return base.replace(**dict(overrides or {}))

"""Feature extractors (the seed's step 1), all with stride 16.

``build_backbone(name, pretrained)`` returns a :class:`Backbone`: the trunk that
maps ``[B, 3, H, W]`` to ``[B, C, ceil(H/16), ceil(W/16)]``-ish feature maps and,
for VGG16, the seed's fc6/fc7 to reuse as the Fast R-CNN head.
"""

from __future__ import annotations

import http.client
import logging
import os
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torchvision
from torch import nn
from torchvision.ops import FrozenBatchNorm2d

log = logging.getLogger(__name__)

BACKBONES = ("vgg16", "resnet18", "resnet34", "small")


@dataclass
class Backbone:
    trunk: nn.Module
    out_channels: int
    stride: int
    head: nn.Module | None = None  # maps flattened pooled RoIs to head_hidden features
    head_input: int | None = None


class PretrainedWeightsMissing(RuntimeError):
    """ImageNet weights were asked for but are not in the local torch hub cache (and, when
    fetched, could not be downloaded); the one-line message names the file and where to put it."""


def _cached_weights_path(weights: torchvision.models.WeightsEnum) -> str:
    """Where torch hub keeps ``weights`` once downloaded (``$TORCH_HOME/hub/checkpoints``)."""
    return os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(weights.url))


def _imagenet_weights(name: str) -> torchvision.models.WeightsEnum | None:
    """torchvision's ImageNet weights for backbone ``name``; None for ``small``."""
    enums = {"vgg16": "VGG16_Weights", "resnet18": "ResNet18_Weights", "resnet34": "ResNet34_Weights"}
    return getattr(torchvision.models, enums[name]).IMAGENET1K_V1 if name in enums else None


def imagenet_weights_cached(name: str) -> bool:
    """Whether ``build_backbone(name, pretrained=True)`` finds its weights on this machine."""
    weights = _imagenet_weights(name)
    return weights is not None and os.path.isfile(_cached_weights_path(weights))


def _missing_message(weights: torchvision.models.WeightsEnum, reason: str) -> str:
    path = _cached_weights_path(weights)
    return (
        f"ImageNet weights {os.path.basename(path)} {reason}; download {weights.url} on a machine with "
        f"internet and put it in {os.path.dirname(path)} (or set TORCH_HOME), or train without pretrained weights"
    )


def _load_cached_weights(weights: torchvision.models.WeightsEnum) -> dict:
    """State dict of torchvision ``weights`` from the local cache; never downloads."""
    path = _cached_weights_path(weights)
    if not os.path.isfile(path):
        raise PretrainedWeightsMissing(_missing_message(weights, "are not in the local cache"))
    log.info("loading ImageNet weights from %s", path)
    return torch.load(path, map_location="cpu", weights_only=True)


def fetch_imagenet_weights(name: str, announce: Callable[[str], None] | None = None) -> str | None:
    """Make sure backbone ``name``'s ImageNet weights are in the torch hub cache; their path.

    A cached file is used as it is. A missing one is downloaded (hash-checked) through
    torchvision's weights API into ``$TORCH_HOME/hub/checkpoints``; ``announce`` is told
    the file and the cache folder before, and the file's size after. ``None`` for ``small``,
    which has no pretrained weights.

    Raises:
        PretrainedWeightsMissing: the download failed (offline, refused, corrupt); the
            message names the file and the folder to put it in.
    """
    weights = _imagenet_weights(name)
    if weights is None:
        return None
    path = _cached_weights_path(weights)
    if os.path.isfile(path):
        return path
    if announce is not None:
        announce(f"downloading ImageNet weights {os.path.basename(path)} for {name} into {os.path.dirname(path)}")
    try:
        weights.get_state_dict(progress=announce is not None, check_hash=True)
    except (urllib.error.URLError, http.client.HTTPException, OSError, RuntimeError) as exc:  # RuntimeError: hash mismatch
        reason = (str(getattr(exc, "reason", None) or exc) or type(exc).__name__).splitlines()[0]
        raise PretrainedWeightsMissing(_missing_message(weights, f"could not be downloaded ({reason})")) from None
    if announce is not None:
        announce(f"saved {os.path.basename(path)} ({os.path.getsize(path) / 2**20:.0f} MiB) in {os.path.dirname(path)}")
    return path


def _vgg16(pretrained: bool) -> Backbone:
    vgg = torchvision.models.vgg16(weights=None)
    if pretrained:
        vgg.load_state_dict(_load_cached_weights(_imagenet_weights("vgg16")))
    # The seed keeps the layers whose output is still >= H/16: the first 30 (conv5_3 + ReLU).
    trunk = nn.Sequential(*list(vgg.features)[:30])
    if pretrained:  # conv1 and conv2 stay frozen, as in the paper
        for layer in list(trunk)[:10]:
            for p in layer.parameters():
                p.requires_grad_(False)
    fc6, fc7 = vgg.classifier[0], vgg.classifier[3]
    head = nn.Sequential(fc6, nn.ReLU(inplace=True), fc7, nn.ReLU(inplace=True))
    return Backbone(trunk, 512, 16, head, 512 * 7 * 7)


def _resnet(name: str, pretrained: bool) -> Backbone:
    builder = getattr(torchvision.models, name)
    # Frozen statistics with ImageNet weights (tiny detection batches); trainable BN from scratch.
    norm = FrozenBatchNorm2d if pretrained else nn.BatchNorm2d
    net = builder(weights=None, norm_layer=norm)
    if pretrained:
        net.load_state_dict(_load_cached_weights(_imagenet_weights(name)), strict=False)
    trunk = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3)
    return Backbone(trunk, 256, 16)


def _conv_block(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def _small() -> Backbone:
    """A 7-conv BatchNorm trunk (~1.2 M parameters) that trains from scratch on a CPU:
    one conv per resolution down to stride 16, a second one at strides 4, 8 and 16."""
    layers = [
        _conv_block(3, 32, 2),
        _conv_block(32, 64, 2),
        _conv_block(64, 64, 1),
        _conv_block(64, 128, 2),
        _conv_block(128, 128, 1),
        _conv_block(128, 256, 2),
        _conv_block(256, 256, 1),
    ]
    return Backbone(nn.Sequential(*layers), 256, 16)


def build_backbone(name: str, pretrained: bool = False) -> Backbone:
    """Build one of :data:`BACKBONES`. ``pretrained`` loads cached ImageNet weights or raises
    :class:`PretrainedWeightsMissing` (nothing is downloaded here: see :func:`fetch_imagenet_weights`)."""
    if name == "vgg16":
        return _vgg16(pretrained)
    if name in ("resnet18", "resnet34"):
        return _resnet(name, pretrained)
    if name == "small":
        if pretrained:
            raise PretrainedWeightsMissing("the 'small' backbone has no pretrained weights")
        return _small()
    raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")

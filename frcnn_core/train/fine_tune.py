"""Fine-tuning a detector loaded from a file, with the recipe of the detector's kind.

Our own :class:`~frcnn_core.FasterRCNN` keeps its preset's schedule (:func:`frcnn_core.train_config`).
A torchvision Faster R-CNN gets torchvision's detection reference recipe
(``references/detection/train.py`` and its README): SGD with lr 0.02 for a batch of 16 images
(8 GPUs x 2), scaled linearly to the batch used, momentum 0.9, weight decay 1e-4, a linear
warm-up from lr / 1000 over the first ``min(1000, one epoch - 1)`` iterations, then the lr
divided by 10 at 16/26 and 22/26 of the run (epochs 16 and 22 of 26), no gradient clipping;
and, as torchvision's builders do for a model that starts from trained weights, its
BatchNorm layers frozen (``FrozenBatchNorm2d``): batches of a few images would otherwise
overwrite the statistics the weights were trained with.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from torch import nn
from torchvision.ops.misc import FrozenBatchNorm2d

from .settings import TrainConfig

log = logging.getLogger(__name__)

REFERENCE_LR = 0.02  # torchvision's reference lr ...
REFERENCE_BATCH = 16  # ... for this many images a batch
REFERENCE_MOMENTUM = 0.9
REFERENCE_WEIGHT_DECAY = 1e-4
REFERENCE_WARMUP_FACTOR = 1e-3
REFERENCE_WARMUP_MAX = 1000
REFERENCE_LR_STEPS = (16 / 26, 22 / 26)


def is_torchvision_detector(model: nn.Module) -> bool:
    """Whether ``model`` wraps a torchvision Faster R-CNN (it names its torchvision builder)."""
    return isinstance(getattr(model, "arch", None), str)


def torchvision_recipe(dataset_size: int, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """torchvision's reference schedule (module docstring) for a set of ``dataset_size`` images;
    ``overrides`` are :class:`TrainConfig` fields (an explicit ``lr`` is kept as given, else the
    reference lr is scaled to ``batch_size``). Raises ``ValueError`` naming a bad field or value."""
    overrides = dict(overrides or {})
    base = TrainConfig()
    batch = int(overrides.get("batch_size", base.batch_size))
    iterations = int(overrides.get("iterations", base.iterations))
    epoch = max(math.ceil(dataset_size / max(batch, 1)), 1)
    recipe = dict(
        lr=REFERENCE_LR * batch / REFERENCE_BATCH,
        momentum=REFERENCE_MOMENTUM,
        weight_decay=REFERENCE_WEIGHT_DECAY,
        warmup_iterations=max(min(REFERENCE_WARMUP_MAX, epoch - 1, iterations - 1), 0),
        warmup_factor=REFERENCE_WARMUP_FACTOR,
        schedule="step",
        lr_steps=REFERENCE_LR_STEPS,
        lr_gamma=0.1,
        grad_clip=0.0,
    )
    return base.replace(**{**recipe, **overrides})


def freeze_batch_norm(module: nn.Module) -> int:
    """Replace every ``BatchNorm2d`` inside ``module`` by a ``FrozenBatchNorm2d`` holding the same
    statistics and affine values (fixed from then on, in train mode too); returns how many.
    The state_dict keys stay those of the BatchNorm (less ``num_batches_tracked``)."""
    replaced = 0
    for name, child in list(module.named_children()):
        if isinstance(child, nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps)
            if child.affine:  # else FrozenBatchNorm2d's own weight 1 and bias 0
                frozen.weight.copy_(child.weight.detach())
                frozen.bias.copy_(child.bias.detach())
            frozen.running_mean.copy_(child.running_mean)
            frozen.running_var.copy_(child.running_var)
            setattr(module, name, frozen.to(child.running_mean.device))
            replaced += 1
        else:
            replaced += freeze_batch_norm(child)
    return replaced


def prepare_for_fine_tuning(model: nn.Module) -> nn.Module:
    """The model as its kind's recipe trains it: a torchvision detector's BatchNorm frozen
    (module docstring); our own detector as it is. Returns ``model`` (changed in place)."""
    if is_torchvision_detector(model):
        count = freeze_batch_norm(model)
        if count:
            log.info("fine-tuning %s: %d BatchNorm layers frozen, as torchvision trains from trained weights", model.arch, count)
    return model

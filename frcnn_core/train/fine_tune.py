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
from pathlib import Path
from typing import Any

from torch import nn
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.ops.misc import FrozenBatchNorm2d

from ..models.checkpoint import CheckpointError, load_checkpoint
from ..models.torchvision_frcnn import TorchvisionFasterRCNN
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
    """Whether ``model`` is a torchvision Faster R-CNN (:class:`TorchvisionFasterRCNN`)."""
    return isinstance(model, TorchvisionFasterRCNN)


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
    """The model as its kind's recipe trains it: a torchvision detector's trunk BatchNorm frozen
    (module docstring; its builder freezes exactly the trunk, ``backbone.body``, when it starts
    from trained weights); our own detector as it is. Returns ``model`` (changed in place)."""
    if is_torchvision_detector(model):
        count = freeze_batch_norm(model.backbone.body)
        if count:
            log.info("fine-tuning %s: %d trunk BatchNorm layers frozen, as torchvision trains from trained weights", model.arch.value, count)
    return model


def fit_classes(model: nn.Module, class_names: tuple[str, ...], source: str) -> list[str]:
    """Make ``model`` (loaded from ``source``) detect the data's ``class_names``, in label order;
    returns the lines that tell the user what changed.

    A model with those names is kept; one without names and as many classes takes them; a
    torchvision model trained for other classes gets a new box predictor for the data's (its
    ``FastRCNNPredictor`` replaced, as torchvision's fine-tuning tutorial does: the trunk, FPN,
    RPN and box head keep their weights). Our own detector must have the data's classes
    (``CheckpointError`` naming both otherwise)."""
    config = model.config
    if tuple(config.class_names) == tuple(class_names):
        return []
    if not config.class_names and config.num_classes == len(class_names):
        model.reconfigure(class_names=tuple(class_names))
        return [f"{source} has no class names: its {config.num_classes} classes are the data's, in label order ({', '.join(class_names)})"]
    theirs = ", ".join(config.class_names) or f"class 1..{config.num_classes}"
    if not is_torchvision_detector(model):
        raise CheckpointError(f"{source} was trained for the classes ({theirs}); the data has ({', '.join(class_names)})")
    model.reconfigure(class_names=())  # its names would not fit the new predictor's count
    predictor = model.roi_heads.box_predictor
    device = predictor.cls_score.weight.device
    model.roi_heads.box_predictor = FastRCNNPredictor(predictor.cls_score.in_features, len(class_names) + 1).to(device)
    model.reconfigure(class_names=tuple(class_names))
    return [
        f"{source} was trained for {config.num_classes} classes ({theirs}); the data has {len(class_names)} "
        f"({', '.join(class_names)}): its box predictor starts anew for them, the rest keeps its weights"
    ]


def start_fine_tuning(
    init: str | Path,
    dataset,
    arch: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    own_schedule: TrainConfig | None = None,
    detector_changes: Mapping[str, Any] | None = None,
) -> tuple[nn.Module, TrainConfig, list[str]]:
    """The detector in file ``init`` (ours, or a torchvision one: :func:`frcnn_core.load_checkpoint`,
    ``arch`` its builder when the file cannot tell) made ready to fine-tune on ``dataset``:
    ``(model, schedule, lines for the user)``. ``detector_changes`` (``DetectorConfig`` fields,
    e.g. ``min_size``) go through ``model.reconfigure`` (a ``ValueError`` names one the model
    cannot change). The schedule is its kind's: torchvision's reference recipe with
    ``overrides`` (:func:`torchvision_recipe`), or ``own_schedule`` (our preset's, with the
    same overrides) for our detector."""
    model, payload = load_checkpoint(init, arch=arch)
    if detector_changes:
        model.reconfigure(**dict(detector_changes))
    lines = [payload["torchvision"].arch_note] if "torchvision" in payload else []  # the architecture taken, and why
    lines += fit_classes(model, tuple(dataset.class_names), str(init))
    prepare_for_fine_tuning(model)
    if is_torchvision_detector(model):
        schedule = torchvision_recipe(len(dataset), overrides)
        lines.append(
            f"fine-tuning torchvision's {model.arch.value} with its reference recipe: SGD lr {schedule.lr:g} "
            f"(0.02 x batch {schedule.batch_size} / 16), momentum {schedule.momentum:g}, weight decay {schedule.weight_decay:g}, "
            f"warm-up {schedule.warmup_iterations} iterations, lr x0.1 at {', '.join(str(round(f * schedule.iterations)) for f in schedule.lr_steps)}"
        )
    else:
        schedule = own_schedule if own_schedule is not None else TrainConfig().replace(**dict(overrides or {}))
        lines.append(f"fine-tuning {init} ({model.config.backbone}) with its preset's schedule, lr {schedule.lr:g}")
    return model, schedule, lines

"""A torchvision detector's weights back as the plain ``state_dict`` torchvision's builder loads.

``frcnn export-weights CK OUT.pth`` writes what
``torchvision.models.detection.<builder>(weights=None, weights_backbone=None, num_classes=C + 1)``
accepts with ``load_state_dict`` (``C`` foreground classes, torchvision counting the background
too). A model fine-tuned here has a frozen trunk BatchNorm (no ``num_batches_tracked``, as
torchvision's own fine-tuned models); those counters are filled in with 0, the value
``BatchNorm2d`` starts from, so the builder's model (plain ``BatchNorm2d``) loads it strictly.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import Tensor

from ..models.checkpoint import CheckpointError, load_checkpoint
from ..models.torchvision_frcnn import TorchvisionFasterRCNN, build_torchvision_detector
from .atomic import atomic_output

log = logging.getLogger(__name__)

CLASSES_FILE = "classes.txt"


def torchvision_state_dict(model: TorchvisionFasterRCNN) -> dict[str, Tensor]:
    """``model``'s weights under torchvision's keys, CPU copies, checked by loading them strictly
    into a fresh model from its builder (a ``RuntimeError`` there would name the keys)."""
    state = {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}
    reference = build_torchvision_detector(model.arch, model.num_classes)
    for key, value in reference.state_dict().items():
        if key not in state and key.endswith("num_batches_tracked"):
            state[key] = torch.zeros_like(value)
    reference.load_state_dict(state)
    return state


def export_torchvision_weights(checkpoint: str | Path, output: str | Path, arch: str | None = None) -> tuple[Path, TorchvisionFasterRCNN]:
    """Write the torchvision detector of ``checkpoint`` (any file :func:`frcnn_core.load_checkpoint`
    opens; ``arch`` its builder when the file cannot tell) to ``output`` as a plain
    ``state_dict`` (atomically), and its class names, one a line, to ``classes.txt`` beside it
    unless a different one is there. Returns ``(output, model)``.

    Raises :class:`CheckpointError` for a file of our own detector: its weights have no
    torchvision builder."""
    model, _ = load_checkpoint(checkpoint, arch=arch)
    if not isinstance(model, TorchvisionFasterRCNN):
        raise CheckpointError(
            f"{checkpoint} holds frcnn-viewer's own detector ({model.config.backbone} backbone), not a torchvision one: "
            "its weights load with frcnn_core.load_checkpoint, no torchvision builder builds it"
        )
    state = torchvision_state_dict(model)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(output, "wb") as f:
        torch.save(state, f)
    names = model.config.class_names
    if names:
        classes = output.with_name(CLASSES_FILE)
        text = "".join(f"{name}\n" for name in names)
        if not classes.exists():
            with atomic_output(classes, "w") as f:
                f.write(text)
        elif classes.read_text(encoding="utf-8") != text:
            log.warning("%s names other classes; the class names of %s were not written", classes, output)
    return output, model

"""Checkpoints: weights plus the config that built them (and optional training state).

A checkpoint is untrusted input: it is read with ``torch.load(weights_only=True)``,
so it can hold only tensors and plain containers, never code. :func:`load_checkpoint`
also opens torchvision Faster R-CNN weights (:mod:`frcnn_core.models.torchvision_files`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from ..config import DetectorConfig
from ..files.atomic import atomic_output
from .errors import CheckpointError
from .faster_rcnn import FasterRCNN
from .torchvision_files import build_from_file, describe_torchvision_file, load_weights, torch_load_safely
from .torchvision_frcnn import TorchvisionArch, TorchvisionFasterRCNN

log = logging.getLogger(__name__)

FORMAT = "frcnn-viewer/checkpoint"
FORMAT_VERSION = 1


def save_checkpoint(path: str | Path, model: FasterRCNN, extra: dict | None = None) -> Path:
    """Write ``model``'s weights and config (plus ``extra`` training state) atomically to ``path``."""
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_json(),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    if extra:
        payload.update(extra)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, "wb") as f:
        torch.save(payload, f)
    return path


def read_checkpoint(path: str | Path) -> dict:
    """Load the raw checkpoint dict safely, with a clear error naming ``path`` on failure."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        raise CheckpointError(f"checkpoint {path} could not be read safely: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an frcnn-viewer checkpoint (no '{FORMAT}' marker)")
    _check_version(payload, path)
    return payload


def checkpoint_config(payload: dict, path: str | Path = "checkpoint") -> DetectorConfig:
    try:
        return DetectorConfig.from_dict(json.loads(payload["config"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: invalid config inside the checkpoint: {exc}") from exc


def load_checkpoint(
    path: str | Path,
    expected: DetectorConfig | None = None,
    map_location="cpu",
    arch: TorchvisionArch | str | None = None,
    class_names: tuple[str, ...] | None = None,
) -> tuple[FasterRCNN | TorchvisionFasterRCNN, dict]:
    """Rebuild the model stored in ``path``; returns ``(model, payload)``.

    ``path`` is one of our checkpoints, or a torchvision Faster R-CNN's weights: a bare
    ``state_dict`` or the checkpoint torchvision's reference ``train.py`` writes. For those,
    the payload is the file's dict (``{"model": state_dict}`` for a bare one) with
    ``"torchvision"``: the :class:`~frcnn_core.models.torchvision_files.TorchvisionFile`
    found (its ``lines()`` say which architecture and class names were taken, and why).
    ``arch`` (a torchvision builder name or its ``weights=`` enum name) chooses the
    architecture instead of finding it from the keys; ``class_names`` name the classes
    (of a torchvision file: instead of a ``classes.txt`` beside it; of ours: instead of the
    stored names).

    With ``expected``, a checkpoint whose architecture differs (classes, backbone,
    anchors, head sizes) is refused with a message listing the differences.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    payload = torch_load_safely(path)
    if isinstance(payload, dict) and payload.get("format") == FORMAT:
        _check_version(payload, path)
        config = checkpoint_config(payload, path)
        if arch is not None and TorchvisionArch.parse(arch).value != config.backbone:
            raise CheckpointError(f"{path} is an frcnn-viewer checkpoint of a {config.backbone} model, not {TorchvisionArch.parse(arch).value}")
        _check_expected(expected, config, path)
        model = _model_of_checkpoint(config, payload, path)
        if class_names:
            model.reconfigure(class_names=tuple(class_names))
    else:
        info = describe_torchvision_file(path, payload, arch, class_names)
        for line in info.lines():
            log.info("%s: %s", path, line)
        model = build_from_file(info, path)
        _check_expected(expected, model.config, path)
        payload = {**(payload if info.form == "reference checkpoint" else {"model": info.state_dict}), "torchvision": info}
    return model.to(map_location), payload


def _check_version(payload: dict, path: Path) -> None:
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format {payload['format_version']}, newer than this version ({FORMAT_VERSION})")


def _check_expected(expected: DetectorConfig | None, config: DetectorConfig, path: Path) -> None:
    if expected is None:
        return
    mine, theirs = expected.architecture(), config.architecture()
    diffs = [f"{k}: checkpoint {theirs[k]!r} vs expected {mine[k]!r}" for k in mine if mine[k] != theirs[k]]
    if diffs:
        raise CheckpointError(f"checkpoint {path} was trained for another configuration: " + "; ".join(diffs))


def _model_of_checkpoint(config: DetectorConfig, payload: dict, path: Path) -> FasterRCNN | TorchvisionFasterRCNN:
    """Our detector, or the torchvision one a checkpoint of ours holds (``config.backbone`` a
    builder name), with the checkpoint's weights."""
    if "model" not in payload:
        raise CheckpointError(f"checkpoint {path} holds no weights ('model')")
    if config.backbone in {a.value for a in TorchvisionArch}:
        try:
            model = TorchvisionFasterRCNN.from_config(config, frozen_backbone_norm=_frozen_trunk(payload["model"]))
        except ValueError as exc:
            raise CheckpointError(f"checkpoint {path}: invalid config inside the checkpoint: {exc}") from exc
        load_weights(model, payload["model"], f"checkpoint {path}: weights do not fit its config")
        return model
    model = FasterRCNN(config.replace(pretrained_backbone=False))
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint {path}: weights do not fit its config: {exc}") from exc
    return model


def _frozen_trunk(state: dict) -> bool:
    """A torchvision trunk without BatchNorm counters was built with ``FrozenBatchNorm2d``."""
    return not any(k.startswith("backbone.body.") and k.endswith(".num_batches_tracked") for k in state)

"""Checkpoints: weights plus the config that built them (and optional training state).

A checkpoint is untrusted input: it is read with ``torch.load(weights_only=True)``,
so it can hold only tensors and plain containers, never code.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..config import DetectorConfig
from ..files.atomic import atomic_output
from .faster_rcnn import FasterRCNN

FORMAT = "frcnn-viewer/checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint could not be read or does not fit the requested model."""


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
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format {payload['format_version']}, newer than this version ({FORMAT_VERSION})")
    return payload


def checkpoint_config(payload: dict, path: str | Path = "checkpoint") -> DetectorConfig:
    try:
        return DetectorConfig.from_dict(json.loads(payload["config"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: invalid config inside the checkpoint: {exc}") from exc


def load_checkpoint(path: str | Path, expected: DetectorConfig | None = None, map_location="cpu") -> tuple[FasterRCNN, dict]:
    """Rebuild the model stored in ``path``; returns ``(model, payload)``.

    With ``expected``, a checkpoint whose architecture differs (classes, backbone,
    anchors, head sizes) is refused with a message listing the differences.
    """
    payload = read_checkpoint(path)
    config = checkpoint_config(payload, path)
    if expected is not None:
        mine, theirs = expected.architecture(), config.architecture()
        diffs = [f"{k}: checkpoint {theirs[k]!r} vs expected {mine[k]!r}" for k in mine if mine[k] != theirs[k]]
        if diffs:
            raise CheckpointError(f"checkpoint {path} was trained for another configuration: " + "; ".join(diffs))
    model = FasterRCNN(config.replace(pretrained_backbone=False))
    try:
        model.load_state_dict(payload["model"])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {path}: weights do not fit its config: {exc}") from exc
    return model.to(map_location), payload

"""The model the viewer runs: which one, for which classes.

Plain data shared by the document and the inference worker (no Qt, no model weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from frcnn_core import DetectorConfig, cpu_config


@dataclass(frozen=True)
class ModelInfo:
    """The model the inference worker holds: its config and where its weights came from."""

    config: DetectorConfig
    checkpoint: str | None = None

    @property
    def trained(self) -> bool:
        return self.checkpoint is not None

    def describe(self) -> str:
        if self.checkpoint is None:
            return f"untrained model (random weights, {self.config.backbone} backbone)"
        return f"{self.checkpoint} ({self.config.backbone}, {self.config.num_classes} classes)"


def untrained_config(class_names: tuple[str, ...]) -> DetectorConfig:
    """The light CPU model shown until a checkpoint is loaded."""
    names = tuple(class_names) or ("object",)
    return cpu_config(len(names), names)


@dataclass(frozen=True)
class TraceRequest:
    """What the worker needs to trace the current image; ``key`` identifies the answer and
    ``config_changes`` are the inference fields (``DetectorConfig`` names) to run with."""

    key: int
    image: torch.Tensor
    target: dict | None
    config_changes: dict


def class_mismatch(config: DetectorConfig, class_names: tuple[str, ...]) -> str | None:
    """Why a model with ``config`` cannot serve data with ``class_names`` (``None`` if it can).

    Data without classes (plain images) fits any model; otherwise the model must know
    every class of the data, by name.
    """
    if not class_names:
        return None
    model_names = tuple(config.class_names) or tuple(config.label_name(k) for k in range(1, config.num_classes + 1))
    unknown = [name for name in class_names if name not in model_names]
    if unknown:
        return (
            f"it was trained for {config.num_classes} classes ({', '.join(model_names)}) and does not know "
            f"{', '.join(unknown)} of the open images' classes ({', '.join(class_names)})"
        )
    return None


def model_labels(gt_names: list[str], config: DetectorConfig) -> np.ndarray:
    """``[G]`` labels of GT class names in the model's classes (0 where it has no such class)."""
    names = list(config.class_names) or [config.label_name(k) for k in range(1, config.num_classes + 1)]
    return np.array([names.index(n) + 1 if n in names else 0 for n in gt_names], dtype=np.int64)

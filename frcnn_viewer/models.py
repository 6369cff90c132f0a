"""The model the viewer runs: which one, for which classes, with which proposal settings.

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
class ProposalParams:
    """Test-time proposal layer and detection post-processing (``DetectorConfig`` fields)."""

    pre_nms_top_n: int = 6000
    post_nms_top_n: int = 300
    nms_thresh: float = 0.7
    min_proposal_size: float = 16.0
    score_thresh: float = 0.05
    detection_nms_thresh: float = 0.3

    def __post_init__(self) -> None:
        problems = []
        if self.pre_nms_top_n < 1 or self.post_nms_top_n < 1:
            problems.append(f"proposal counts must be >= 1, got {self.pre_nms_top_n} / {self.post_nms_top_n}")
        for name in ("nms_thresh", "score_thresh", "detection_nms_thresh"):
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name} must be in 0..1, got {getattr(self, name)}")
        if self.min_proposal_size < 0:
            problems.append(f"min_proposal_size must be >= 0, got {self.min_proposal_size}")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_config(cls, config: DetectorConfig) -> ProposalParams:
        return cls(
            config.rpn_pre_nms_top_n_test, config.rpn_post_nms_top_n_test, config.rpn_nms_thresh,
            config.rpn_min_size, config.score_thresh, config.nms_thresh,
        )

    def config_changes(self) -> dict:
        """These values as ``DetectorConfig.replace`` keyword arguments."""
        return {
            "rpn_pre_nms_top_n_test": self.pre_nms_top_n,
            "rpn_post_nms_top_n_test": self.post_nms_top_n,
            "rpn_nms_thresh": self.nms_thresh,
            "rpn_min_size": self.min_proposal_size,
            "score_thresh": self.score_thresh,
            "nms_thresh": self.detection_nms_thresh,
        }


@dataclass(frozen=True)
class TraceRequest:
    """What the worker needs to trace the current image; ``key`` identifies the answer."""

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

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
    """The model the inference worker holds: its config, where its weights came from and, for a
    torchvision Faster R-CNN, its torchvision builder (``arch``; ``None`` for our own detector)."""

    config: DetectorConfig
    checkpoint: str | None = None
    arch: str | None = None
    notes: tuple[str, ...] = ()  # what loading it decided for the user (e.g. where its class names came from)
    fixed_fields: frozenset[str] = frozenset()  # DetectorConfig fields the model has no setting for (torchvision's anchors)
    unnamed_file: bool = False  # its file named no classes: it takes the open images' (names_for_unnamed)

    @property
    def trained(self) -> bool:
        return self.checkpoint is not None

    @property
    def anchors_from_parameters(self) -> bool:
        """Whether the parameters describe the model's anchors and their labelling rule, so they
        are laid and labelled without running it (:func:`frcnn_core.assign_anchors`): true of our
        detector; a torchvision model's FPN anchors and labels come from its trace."""
        return self.arch is None

    @property
    def architecture(self) -> str:
        """The architecture in a few words, for the status bar."""
        if self.arch is not None:
            return f"torchvision {self.arch}"
        return f"frcnn {self.config.backbone}"

    def describe(self) -> str:
        if self.checkpoint is None:
            return f"untrained model (random weights, {self.config.backbone} backbone)"
        return f"{self.checkpoint} ({self.architecture}, {self.config.num_classes} classes)"


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


def names_for_unnamed(num_classes: int, data_names: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """Class names for a model of ``num_classes`` classes whose file names none (a torchvision
    ``state_dict``): the open images' ``data_names`` in label order when they are as many.
    Returns the names to give it (empty: none fit) and the line that tells the user."""
    if data_names and len(data_names) == num_classes:
        return tuple(data_names), f"the checkpoint names no classes: its {num_classes} classes are taken as the open images' ({', '.join(data_names)}), in label order"
    count = f"; the open images have {len(data_names)}" if data_names else ""
    return (), f"the checkpoint names no classes: they are shown as class 1..{num_classes}{count}"


def model_class_names(config: DetectorConfig) -> tuple[str, ...]:
    """The model's class names, label ``k`` being the ``k``-th (``class k`` for a config without names)."""
    return tuple(config.class_names) or tuple(config.label_name(k) for k in range(1, config.num_classes + 1))


@dataclass(frozen=True)
class ClassMatch:
    """How a model's classes meet the open images' classes, by name.

    A model loads whatever its classes (users inspect a model on another dataset): GT boxes
    are matched to detections where the names agree; GT of a class the model lacks is left
    out of the matching (neither found nor missed) and detections of a class the images do
    not have are neither true nor false positives. With no name in common, nothing is
    judged (no TP/FP colouring).

    Attributes:
        model_names: the model's class names (label ``k`` is ``model_names[k - 1]``).
        data_names: the open images' class names.
    """

    model_names: tuple[str, ...]
    data_names: tuple[str, ...]

    @property
    def unknown(self) -> tuple[str, ...]:
        """The images' classes the model does not know."""
        return tuple(name for name in self.data_names if name not in self.model_names)

    @property
    def comparable(self) -> bool:
        """Whether detections can be judged against GT: a class name in common."""
        return any(name in self.model_names for name in self.data_names)

    def foreign_labels(self) -> np.ndarray:
        """``[K]`` the model's labels whose class the images do not have."""
        return np.array([k for k, name in enumerate(self.model_names, start=1) if name not in self.data_names], dtype=np.int64)

    def describe(self) -> str | None:
        """What differs, for a warning (``None`` when the model knows every class of the images)."""
        if not self.data_names or not self.unknown:
            return None
        what = (
            f"it was trained for {len(self.model_names)} classes ({', '.join(self.model_names)}) and does not know "
            f"{', '.join(self.unknown)} of the open images' classes ({', '.join(self.data_names)})"
        )
        if not self.comparable:
            return f"{what}; no class name agrees, so its detections are not marked true or false positives"
        return f"{what}; GT boxes of those classes are left out of its matching"


def class_match(config: DetectorConfig, class_names: tuple[str, ...]) -> ClassMatch:
    """How a model with ``config`` meets data with ``class_names`` (see :class:`ClassMatch`)."""
    return ClassMatch(model_class_names(config), tuple(class_names))


def class_mismatch(config: DetectorConfig, class_names: tuple[str, ...]) -> str | None:
    """What a model with ``config`` does not know of data with ``class_names`` (``None``: it
    knows every class; data without classes, plain images, fits any model)."""
    return class_match(config, class_names).describe()


def model_labels(gt_names: list[str], config: DetectorConfig) -> np.ndarray:
    """``[G]`` labels of GT class names in the model's classes (0 where it has no such class)."""
    names = list(model_class_names(config))
    return np.array([names.index(n) + 1 if n in names else 0 for n in gt_names], dtype=np.int64)

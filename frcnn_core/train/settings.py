"""Training settings: a frozen dataclass stored in every training checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..config import unknown_fields
from ..data.transforms import Augmentation

VALIDATIONS_PER_RUN = 10  # how often a run validates when ``val_every`` is 0, at most
VALIDATION_SHARE = 0.15  # the share of the training time validations may take at the default frequency
# what validating one image costs in training images (eval losses, detections, scoring),
# measured at the cpu preset: 0.58 on shapes (200 val images), 0.63 to 0.73 on BCCD (87; 0.73 in a
# whole 1000-iteration run, where ten validations took 15.9 % of the time)
VALIDATION_IMAGE_COST = 0.75


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``lr`` is for a batch of ``batch_size`` images.

    The schedule is a linear warm-up from ``lr * warmup_factor`` over ``warmup_iterations``,
    then either ``cosine`` decay to ``lr * min_lr_factor`` or ``step`` decay by ``lr_gamma``
    at the fractions ``lr_steps`` of ``iterations``.
    """

    iterations: int = 2000
    batch_size: int = 2
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    warmup_iterations: int = 100
    warmup_factor: float = 0.001
    schedule: str = "cosine"
    lr_steps: tuple[float, ...] = (0.7, 0.9)
    lr_gamma: float = 0.1
    min_lr_factor: float = 0.01
    grad_clip: float = 10.0
    amp: bool = True  # only takes effect on CUDA
    prefetch: bool = True  # on CUDA: draw the next batch in a thread during the current step
    horizontal_flip: bool = True
    # brightness, contrast and saturation each scaled by a factor in [1 - s, 1 + s] (0: off)
    color_jitter: float = 0.0
    # each image magnified by a factor drawn log-uniformly from this range: > 1 crops, < 1 shrinks onto a canvas
    zoom_range: tuple[float, float] = (1.0, 1.0)
    seed: int = 0
    checkpoint_every: int = 500
    log_every: int = 1
    # with a validation set: validate every this many iterations (0: ten times a run, fewer for a large val set) and at the end
    val_every: int = 0
    # stop after this many validations in a row without a better one (a higher val mAP@0.5, or the same and a higher COCO AP; 0: never)
    patience: int = 0

    def __post_init__(self) -> None:
        if self.iterations < 1 or self.batch_size < 1:
            raise ValueError(f"iterations and batch_size must be >= 1, got {self.iterations} / {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.val_every < 0 or self.patience < 0:
            raise ValueError(f"val_every and patience must be >= 0, got {self.val_every} / {self.patience}")
        object.__setattr__(self, "zoom_range", tuple(self.zoom_range))
        Augmentation(self.horizontal_flip, self.color_jitter, self.zoom_range)  # raises on bad values
        if self.schedule not in ("cosine", "step"):
            raise ValueError(f"schedule must be 'cosine' or 'step', got {self.schedule!r}")

    def validation_interval_for(self, val_images: int) -> int:
        """Iterations between two validations on ``val_images`` images: ``val_every``, else
        ten times a run, fewer when the val set is large against the run, so that the
        validations take about :data:`VALIDATION_SHARE` of the training time at most
        (:data:`VALIDATION_IMAGE_COST`); at least once, at the end. The interval is rounded up
        so that the last validation before the end is not one iteration from it."""
        if self.val_every:
            return self.val_every
        affordable = int(VALIDATION_SHARE * self.iterations * self.batch_size / (VALIDATION_IMAGE_COST * max(val_images, 1)))
        count = max(1, min(VALIDATIONS_PER_RUN, affordable))
        return -(-self.iterations // count)

    def replace(self, **changes) -> TrainConfig:
        """A copy with ``changes`` (field names); an unknown name is a ``ValueError`` listing the valid ones."""
        unknown_fields(type(self), changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s): {', '.join(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

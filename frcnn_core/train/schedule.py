"""Learning-rate multiplier per iteration: warm-up, then cosine or step decay."""

from __future__ import annotations

import bisect
import math

from .settings import TrainConfig


def lr_factor(iteration: int, cfg: TrainConfig) -> float:
    """Multiplier of ``cfg.lr`` at ``iteration`` (0-based)."""
    if iteration < cfg.warmup_iterations:
        alpha = iteration / cfg.warmup_iterations
        warm = cfg.warmup_factor * (1 - alpha) + alpha
    else:
        warm = 1.0
    if cfg.schedule == "step":
        milestones = [int(f * cfg.iterations) for f in cfg.lr_steps]
        return warm * cfg.lr_gamma ** bisect.bisect_right(milestones, iteration)
    progress = min(iteration / max(cfg.iterations, 1), 1.0)
    cosine = cfg.min_lr_factor + (1 - cfg.min_lr_factor) * 0.5 * (1 + math.cos(math.pi * progress))
    return warm * cosine

"""Balanced positive/negative sampling of labelled candidates (anchors or RoIs)."""

from __future__ import annotations

import torch
from torch import Tensor


def random_subset(mask: Tensor, count: int, generator: torch.Generator | None = None) -> Tensor:
    """Keep at most ``count`` randomly chosen True entries of ``mask``; returns a new bool mask."""
    indices = torch.nonzero(mask, as_tuple=True)[0]
    if indices.numel() <= count:
        return mask.clone()
    order = torch.randperm(indices.numel(), generator=generator, device="cpu").to(indices.device)
    kept = torch.zeros_like(mask)
    kept[indices[order[:count]]] = True
    return kept


def sample_balanced(
    positive: Tensor, negative: Tensor, num_samples: int, positive_fraction: float, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Sample up to ``num_samples`` candidates, at most ``positive_fraction`` of them positive.

    Negatives fill the rest: ``num_samples - n_positive`` (the seed writes
    ``num_samples * n_positive``, which keeps far too many negatives).

    Args:
        positive, negative: ``[N]`` disjoint bool masks.

    Returns:
        ``(sampled_positive, sampled_negative)`` bool masks of shape ``[N]``.
    """
    max_positive = int(num_samples * positive_fraction)
    sampled_positive = random_subset(positive, max_positive, generator)
    num_negative = num_samples - int(sampled_positive.sum())
    sampled_negative = random_subset(negative, num_negative, generator)
    return sampled_positive, sampled_negative

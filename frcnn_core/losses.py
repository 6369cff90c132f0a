"""The four losses (the seed's steps 7 and 8)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def rpn_losses(objectness: Tensor, deltas: Tensor, labels: Tensor, target_deltas: Tensor, beta: float) -> tuple[Tensor, Tensor]:
    """``rpn_cls`` (binary cross-entropy over sampled anchors) and ``rpn_reg`` (smooth-L1 on
    positives, divided by the number of sampled anchors).

    Args:
        objectness: ``[N]`` logits; deltas: ``[N, 4]``; labels: ``[N]`` 1/0/-1; target_deltas: ``[N, 4]``.
    """
    sampled = labels >= 0
    positive = labels == 1
    num_sampled = max(int(sampled.sum()), 1)
    cls = F.binary_cross_entropy_with_logits(objectness[sampled].float(), labels[sampled].float(), reduction="sum") / num_sampled
    reg = F.smooth_l1_loss(deltas[positive].float(), target_deltas[positive].float(), beta=beta, reduction="sum") / num_sampled
    return cls, reg


def roi_losses(class_logits: Tensor, deltas: Tensor, labels: Tensor, target_deltas: Tensor, beta: float) -> tuple[Tensor, Tensor]:
    """``roi_cls`` (cross-entropy over sampled RoIs) and ``roi_reg`` (smooth-L1 on the deltas of
    each foreground RoI's own class, divided by the number of RoIs).

    Args:
        class_logits: ``[R, C + 1]``; deltas: ``[R, 4 * (C + 1)]``; labels: ``[R]``; target_deltas: ``[R, 4]``.
    """
    if labels.numel() == 0:
        zero = class_logits.sum() * 0.0
        return zero, zero
    cls = F.cross_entropy(class_logits.float(), labels)
    foreground = torch.nonzero(labels > 0, as_tuple=True)[0]
    per_class = deltas.reshape(deltas.shape[0], -1, 4)
    predicted = per_class[foreground, labels[foreground]]
    reg = F.smooth_l1_loss(predicted.float(), target_deltas[foreground].float(), beta=beta, reduction="sum") / labels.numel()
    return cls, reg

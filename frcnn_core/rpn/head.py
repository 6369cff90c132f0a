"""Region proposal network head (the seed's step 3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RPNHead(nn.Module):
    """3x3 conv + ReLU, then 1x1 convs giving, per anchor, an objectness logit and ``(dx, dy, dw, dh)``.

    ``forward(features [B, C, Hf, Wf])`` returns ``objectness [B, Hf*Wf*A]`` and
    ``deltas [B, Hf*Wf*A, 4]`` laid out like :func:`frcnn_core.grid_anchors`:
    row-major over cells, then anchor.
    """

    def __init__(self, in_channels: int, mid_channels: int, num_anchors: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, mid_channels, 3, padding=1)
        self.objectness = nn.Conv2d(mid_channels, num_anchors, 1)
        self.deltas = nn.Conv2d(mid_channels, num_anchors * 4, 1)
        for layer in (self.conv, self.objectness, self.deltas):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        hidden = torch.relu(self.conv(features))
        batch = features.shape[0]
        objectness = self.objectness(hidden).permute(0, 2, 3, 1).reshape(batch, -1)
        deltas = self.deltas(hidden).permute(0, 2, 3, 1).reshape(batch, -1, 4)
        return objectness, deltas

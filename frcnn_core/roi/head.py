"""Fast R-CNN head (the seed's step 5): RoI pooling, two FC layers, class scores and box deltas."""

from __future__ import annotations

from torch import Tensor, nn
from torchvision.ops import roi_align, roi_pool

from .align import separable_roi_align

# Feature maps up to this many cells pool faster on the CPU as matrix products than with
# torchvision's serial backward loop (benchmarks/bench_roi_align.py: 4.3x at 16 x 16,
# 1.2x at 32 x 32, 0.6x at 50 x 50); torchvision's CUDA kernel is fast at any size.
SEPARABLE_ALIGN_MAX_CELLS = 32 * 32


def _separable_is_faster(features: Tensor) -> bool:
    return not features.is_cuda and features.shape[-2] * features.shape[-1] <= SEPARABLE_ALIGN_MAX_CELLS


class FastRCNNHead(nn.Module):
    """``forward(features [B, C, Hf, Wf], rois list of [R_i, 4] xyxy input pixels)`` returns
    ``class_logits [sum R_i, C + 1]`` and class-specific ``deltas [sum R_i, 4 * (C + 1)]``
    (normalised by the box weights)."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        stride: int,
        output_size: int = 7,
        hidden: int = 1024,
        op: str = "pool",
        fc: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.spatial_scale = 1.0 / stride
        self.output_size = output_size
        self.op = op
        self.fc = fc or nn.Sequential(
            nn.Linear(in_channels * output_size * output_size, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
        )
        self.class_logits = nn.Linear(hidden, num_classes + 1)
        self.deltas = nn.Linear(hidden, 4 * (num_classes + 1))
        nn.init.normal_(self.class_logits.weight, std=0.01)
        nn.init.normal_(self.deltas.weight, std=0.001)
        nn.init.zeros_(self.class_logits.bias)
        nn.init.zeros_(self.deltas.bias)

    def pool(self, features: Tensor, rois: list[Tensor]) -> Tensor:
        rois = [r.to(features.dtype) for r in rois]
        if self.op == "align":
            align = separable_roi_align if _separable_is_faster(features) else roi_align
            return align(features, rois, self.output_size, self.spatial_scale, sampling_ratio=2, aligned=True)
        return roi_pool(features, rois, self.output_size, self.spatial_scale)

    def forward(self, features: Tensor, rois: list[Tensor]) -> tuple[Tensor, Tensor]:
        hidden = self.fc(self.pool(features, rois).flatten(1))
        return self.class_logits(hidden), self.deltas(hidden)

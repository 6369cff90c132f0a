"""A recorded training step as the canvas shows it: the image the step saw, and its anchor sample.

The trainer may have flipped the image (augmentation); the canvas then shows the flipped
pixels and GT, so the trace, which is in the pixels the network saw, lines up with them.
The pixels come with the snapshot (decoded in the training thread).
The anchor labels come from the trace itself (:meth:`frcnn_core.Trace.anchor_assignment`):
exactly the positives and negatives that step sampled, not a fresh sample. No Qt here.
"""

from __future__ import annotations

import numpy as np
import torch

from ..sources import ImageEntry, LoadedImage


def training_image(entry: ImageEntry, pixels: np.ndarray, flipped: bool) -> LoadedImage:
    """``entry`` shown with ``pixels`` (``[H, W, 3]`` uint8), the image a step trained on;
    ``flipped``: the step mirrored it, and the GT boxes are mirrored to match.

    The pixels come decoded from the training thread, at the dataset's full size (the
    trace's pixels), so nothing is decoded here.
    """
    target = entry.info()["target"]
    boxes = target["boxes"].numpy().reshape(-1, 4).astype(np.float32)
    if flipped:
        width = pixels.shape[1]
        boxes = np.stack((width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]), axis=1)
    names = list(entry.source.class_names)
    return LoadedImage(
        entry=entry,
        pixels=pixels,
        tensor=torch.from_numpy(pixels).permute(2, 0, 1).float().div_(255.0).contiguous(),
        gt_boxes=boxes,
        gt_names=[names[label - 1] if 0 < label <= len(names) else f"class {label}" for label in target["labels"].tolist()],
        difficult=target["difficult"].numpy().astype(bool).reshape(-1),
        original_size=(pixels.shape[0], pixels.shape[1]),
    )

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


def training_image(
    entry: ImageEntry, pixels: np.ndarray, flipped: bool, gt_boxes: np.ndarray | None = None, gt_labels: np.ndarray | None = None
) -> LoadedImage:
    """``entry`` shown with ``pixels`` (``[H, W, 3]`` uint8), the image a step trained on.
    With ``gt_boxes``/``gt_labels`` (in ``pixels``, as the step saw them after zoom and
    flip) those are the GT shown; else the entry's, mirrored when ``flipped``.

    The pixels come decoded from the training thread (the trace's pixels), so nothing is
    decoded here.
    """
    target = entry.info()["target"]
    if gt_boxes is not None:
        boxes, labels = gt_boxes, gt_labels
        difficult = np.zeros(len(boxes), dtype=bool)
    else:
        boxes = target["boxes"].numpy().reshape(-1, 4).astype(np.float32)
        labels, difficult = target["labels"].numpy(), target["difficult"].numpy().astype(bool).reshape(-1)
        if flipped:
            width = pixels.shape[1]
            boxes = np.stack((width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]), axis=1)
    names = list(entry.source.class_names)
    return LoadedImage(
        entry=entry,
        pixels=pixels,
        tensor=torch.from_numpy(pixels).permute(2, 0, 1).float().div_(255.0).contiguous(),
        gt_boxes=boxes,
        gt_names=[names[label - 1] if 0 < label <= len(names) else f"class {label}" for label in np.asarray(labels).tolist()],
        difficult=difficult,
        original_size=(pixels.shape[0], pixels.shape[1]),
    )

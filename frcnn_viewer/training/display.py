"""A recorded training step as the canvas shows it: the image the step saw, and its anchor sample.

The trainer may have flipped the image (augmentation); the canvas then shows the flipped
pixels and GT, so the trace, which is in the pixels the network saw, lines up with them.
The anchor labels come from the trace itself: exactly the positives and negatives that
step sampled, not a fresh sample. No Qt here.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from frcnn_core import Trace

from ..assignment import AnchorParams, AnchorState
from ..sources import ImageEntry, LoadedImage, load_image


def training_image(entry: ImageEntry, flipped: bool) -> LoadedImage:
    """``entry`` decoded for display, mirrored left-right when the step trained on it so.

    Raises :class:`~frcnn_viewer.sources.ImageLoadError` as :func:`load_image` does.
    """
    image = load_image(entry)
    if not flipped:
        return image
    width = image.size[1]
    boxes = image.gt_boxes.copy()
    boxes[:, 0], boxes[:, 2] = width - image.gt_boxes[:, 2], width - image.gt_boxes[:, 0]
    return dataclasses.replace(
        image, pixels=np.ascontiguousarray(image.pixels[:, ::-1]), tensor=image.tensor.flip(-1).contiguous(), gt_boxes=boxes
    )


def anchor_state_of(trace: Trace, params: AnchorParams) -> AnchorState | None:
    """The anchor labels a training step used, from its trace (``None`` without anchor targets).

    ``params`` supplies the thresholds shown beside the labels; its anchor design is taken
    from the trace, so cells, scales and ratios are the model's.
    """
    if trace.anchor_labels is None:
        return None
    params = params.replace(stride=trace.stride, scales=tuple(trace.anchor_scales), ratios=tuple(trace.anchor_ratios))
    return AnchorState(
        params=params,
        image_size=tuple(trace.image_size),
        input_size=tuple(trace.input_size),
        scale=tuple(trace.scale),
        feature_size=tuple(trace.feature_size),
        anchors=trace.anchors.numpy(),
        inside=trace.inside.numpy(),
        labels=trace.anchor_labels.numpy(),
        candidate_labels=trace.anchor_candidate_labels.numpy(),
        matched_gt=trace.anchor_matched_gt.numpy(),
        max_iou=trace.anchor_max_iou.numpy(),
        target_deltas=trace.anchor_target_deltas.numpy(),
        gt_boxes=trace.gt_boxes.numpy(),
    )

"""Public names of earlier releases, kept so that scripts written against them still run.

Each is reached through ``frcnn_core.<name>``, warns with a :class:`DeprecationWarning`
that says what to use instead, and behaves as it did. ``CHANGELOG.md`` says when each
was deprecated.
"""

from __future__ import annotations

from torch import Tensor

from .rpn.proposals import propose


def generate_proposals(*args, **kwargs) -> tuple[Tensor, Tensor]:
    """The proposal layer as the first release named it: ``(boxes [P, 4] xyxy, scores [P])``.

    Takes what :func:`frcnn_core.propose` takes (``anchors, objectness, deltas, image_size,
    pre_nms_top_n, post_nms_top_n, nms_thresh, min_size``), which returns the richer
    :class:`~frcnn_core.Proposals` (source anchors and the pre-NMS boxes too).
    """
    result = propose(*args, **kwargs)
    return result.boxes, result.scores


# name -> (what to use instead, the old callable)
DEPRECATED = {"generate_proposals": ("frcnn_core.propose (returns Proposals: .boxes, .scores)", generate_proposals)}

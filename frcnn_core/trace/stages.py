"""The stages of one pass of the detector and which stage reads which.

A setting of :class:`~frcnn_core.config.DetectorConfig` is declared with the earliest stage
it affects; re-running that stage and every stage that reads it, directly or not, covers
every use of the setting. :class:`~frcnn_core.trace.staged.StagedTrace` keeps each stage's
output of one image and re-runs only the stale ones; ``model.reconfigure`` says which
stages a change makes stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class Stage(Enum):
    """The stages of one pass, in the order :meth:`FasterRCNN.run` runs them."""

    FEATURES = "features"  # resize, trunk, anchors, RPN head (steps 1 and 3)
    PROPOSALS = "proposals"  # the proposal layer (step 4)
    ANCHOR_TARGETS = "anchor targets"  # anchor labels and their sampling (step 2; with a target)
    ROI_SAMPLES = "roi samples"  # RoI sampling and the head on the samples (step 6; with a target)
    LOSSES = "losses"  # the four losses (steps 7 and 8; with a target)
    HEAD = "head"  # the head on the proposals (step 5)
    DETECTIONS = "detections"  # post-processing: score threshold, per-class NMS, top detections


# The stages whose outputs each stage reads. The RoI sampling draws from the random stream
# after the anchors' sampling, so a new anchor sample means a new RoI sample as in a fresh pass.
STAGE_INPUTS: dict[Stage, tuple[Stage, ...]] = {
    Stage.FEATURES: (),
    Stage.PROPOSALS: (Stage.FEATURES,),
    Stage.ANCHOR_TARGETS: (Stage.FEATURES,),
    Stage.ROI_SAMPLES: (Stage.PROPOSALS, Stage.ANCHOR_TARGETS),
    Stage.LOSSES: (Stage.FEATURES, Stage.ANCHOR_TARGETS, Stage.ROI_SAMPLES),
    Stage.HEAD: (Stage.PROPOSALS,),
    Stage.DETECTIONS: (Stage.HEAD,),
}


def with_downstream(stages: Iterable[Stage]) -> frozenset[Stage]:
    """``stages`` and every stage that reads one of them, directly or not."""
    stale = set(stages)
    for stage in Stage:  # declaration order is run order: a stage's inputs come before it
        if any(source in stale for source in STAGE_INPUTS[stage]):
            stale.add(stage)
    return frozenset(stale)

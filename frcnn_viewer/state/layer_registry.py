"""Every layer the viewer draws, declared in one place.

A layer is one :class:`~frcnn_viewer.state.layers.LayerSpec`: its defaults, the document
changes it redraws on, the function in :mod:`frcnn_viewer.state.overlays` that draws it and
the layer panel's controls of its options. The canvas, the layer panel, the settings and the
scripting API (:data:`LAYER_NAMES`) all read this list, so adding a layer is one entry here
and its drawing function.
"""

from __future__ import annotations

from .changes import Change
from .layers import Control, LayerList, LayerSpec, OptionControl
from .levels import ALL_LEVELS, LEVEL_OPTION
from .overlays import (
    anchor_labels_overlay,
    anchors_overlay,
    detections_overlay,
    diagnosis_overlay,
    ground_truth_overlay,
    objectness_overlay,
    proposals_overlay,
    roi_samples_overlay,
)

SHOW_NAMES = OptionControl("show_names", "Class names", Control.CHECK)
LEVEL = OptionControl(LEVEL_OPTION, "Level", Control.LEVEL)
ON_IMAGE = frozenset({Change.IMAGE, Change.ANCHORS})
ON_TRACE = frozenset({Change.IMAGE, Change.TRACE})

LAYER_SPECS = (
    LayerSpec(
        "ground_truth", "Ground truth", (255, 215, 0), True, 1.0, {"show_names": True}, ON_IMAGE, ground_truth_overlay, (SHOW_NAMES,),
    ),
    # hidden_scales / hidden_ratios: anchor scale and ratio values not drawn
    LayerSpec(
        "anchors", "Anchors", (0, 200, 255), False, 0.8, {"subset": "inside", "hidden_scales": (), "hidden_ratios": (), LEVEL_OPTION: ALL_LEVELS},
        ON_IMAGE | {Change.SELECTION, Change.TRACE}, anchors_overlay,
        (
            LEVEL,
            OptionControl("subset", "Show", Control.CHOICE, (("all", "All anchors"), ("inside", "Inside the image"), ("cell", "One feature cell (click the image)"))),
            OptionControl("hidden_scales", "Scales", Control.ANCHOR_SHAPES),
            OptionControl("hidden_ratios", "Ratios", Control.ANCHOR_SHAPES),
        ),
    ),
    # sampled: only the mini-batch of the RPN loss, else every candidate label
    LayerSpec(
        "anchor_labels", "Anchor labels", (0, 255, 0), False, 1.0, {"sampled": True, "show_ignored": False, "show_links": True, LEVEL_OPTION: ALL_LEVELS},
        ON_IMAGE | {Change.TRACE}, anchor_labels_overlay,
        (
            LEVEL,
            OptionControl("sampled", "Labels", Control.CHOICE, ((True, "Sampled mini-batch"), (False, "All candidates"))),
            OptionControl("show_ignored", "Ignored anchors", Control.CHECK),
            OptionControl("show_links", "Links to matched GT", Control.CHECK),
        ),
    ),
    LayerSpec(
        "proposals", "RPN proposals", (255, 140, 0), False, 1.0, {"stage": "post_nms", "top_k": 50}, ON_TRACE, proposals_overlay,
        (
            OptionControl("stage", "Stage", Control.CHOICE, (("post_nms", "After NMS"), ("pre_nms", "Before NMS"))),
            OptionControl("top_k", "Top K", Control.COUNT, maximum=100_000, slider_maximum=1000),
        ),
    ),
    LayerSpec(
        "roi_samples", "RoI samples", (255, 0, 255), False, 1.0, {"show_background": True}, ON_TRACE, roi_samples_overlay,
        (OptionControl("show_background", "Background RoIs", Control.CHECK),),
    ),
    # the detections layer leaves the "missed" labels to the diagnosis layer while that one is shown
    LayerSpec(
        "detections", "Detections", (0, 230, 120), True, 1.0, {"score_threshold": 0.5, "show_names": True},
        ON_TRACE | {Change.SELECTION, Change.DIAGNOSIS}, detections_overlay,
        (SHOW_NAMES, OptionControl("score_threshold", "Min score", Control.FRACTION)), redraw_with=("diagnosis",),
    ),
    LayerSpec("objectness", "Objectness heatmap", (255, 60, 0), False, 0.7, {LEVEL_OPTION: ALL_LEVELS}, ON_TRACE, objectness_overlay, (LEVEL,)),
    # why each GT box was missed and what each false positive is (frcnn_core.evaluation.diagnose)
    LayerSpec(
        "diagnosis", "Diagnosis (why missed)", (255, 0, 255), True, 1.0, {"show_detected": False},
        ON_TRACE | {Change.DIAGNOSIS}, diagnosis_overlay, (OptionControl("show_detected", "Label detected GT too", Control.CHECK),),
    ),
)

LAYER_NAMES = tuple(spec.name for spec in LAYER_SPECS)


def new_layer_list() -> LayerList:
    """The viewer's layers with their defaults, in drawing order."""
    return LayerList(LAYER_SPECS)

"""Every layer the viewer draws, declared in one place.

A layer is one :class:`~frcnn_viewer.state.layers.LayerSpec`: its name, defaults, its options
dataclass (:mod:`frcnn_viewer.state.layer_options`, whose fields declare the layer panel's
controls), the document changes it redraws on and the function in
:mod:`frcnn_viewer.state.overlays` that draws it. The canvas, the layer panel, the settings and
the scripting API (:data:`LAYER_NAMES`) all read this list, so adding a layer is a
:class:`~frcnn_viewer.state.layer_options.LayerName`, its options, one entry here and its
drawing function.
"""

from __future__ import annotations

from .changes import Change
from .layer_options import (
    AnchorLabelsOptions,
    AnchorsOptions,
    DetectionsOptions,
    DiagnosisOptions,
    GroundTruthOptions,
    LayerName,
    ObjectnessOptions,
    ProposalsOptions,
    RoiSamplesOptions,
)
from .layers import LayerList, LayerSpec
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

ON_IMAGE = frozenset({Change.IMAGE, Change.ANCHORS})
ON_TRACE = frozenset({Change.IMAGE, Change.TRACE})

LAYER_SPECS = (
    LayerSpec(LayerName.GROUND_TRUTH, "Ground truth", (255, 215, 0), True, 1.0, GroundTruthOptions, ON_IMAGE, ground_truth_overlay),
    LayerSpec(LayerName.ANCHORS, "Anchors", (0, 200, 255), False, 0.8, AnchorsOptions, ON_IMAGE | {Change.SELECTION, Change.TRACE}, anchors_overlay),
    LayerSpec(LayerName.ANCHOR_LABELS, "Anchor labels", (0, 255, 0), False, 1.0, AnchorLabelsOptions, ON_IMAGE | {Change.TRACE}, anchor_labels_overlay),
    LayerSpec(LayerName.PROPOSALS, "RPN proposals", (255, 140, 0), False, 1.0, ProposalsOptions, ON_TRACE, proposals_overlay),
    LayerSpec(LayerName.ROI_SAMPLES, "RoI samples", (255, 0, 255), False, 1.0, RoiSamplesOptions, ON_TRACE, roi_samples_overlay),
    # the detections layer leaves the "missed" labels to the diagnosis layer while that one is shown
    LayerSpec(
        LayerName.DETECTIONS, "Detections", (0, 230, 120), True, 1.0, DetectionsOptions,
        ON_TRACE | {Change.SELECTION, Change.DIAGNOSIS}, detections_overlay, redraw_with=(LayerName.DIAGNOSIS,),
    ),
    LayerSpec(LayerName.OBJECTNESS, "Objectness heatmap", (255, 60, 0), False, 0.7, ObjectnessOptions, ON_TRACE, objectness_overlay),
    # why each GT box was missed and what each false positive is (frcnn_core.evaluation.diagnose)
    LayerSpec(
        LayerName.DIAGNOSIS, "Diagnosis (why missed)", (255, 0, 255), True, 1.0, DiagnosisOptions, ON_TRACE | {Change.DIAGNOSIS}, diagnosis_overlay,
    ),
)

LAYER_NAMES = tuple(spec.name.value for spec in LAYER_SPECS)


def new_layer_list() -> LayerList:
    """The viewer's layers with their defaults, in drawing order."""
    return LayerList(LAYER_SPECS)

"""What changed in the viewer's document: :attr:`Document.changed <frcnn_viewer.state.document.Document.changed>`
carries a frozenset of these, and each layer says which of them its drawing depends on."""

from __future__ import annotations

from enum import Enum


class Change(Enum):
    """What changed in the document; :attr:`Document.changed` carries a frozenset of these."""

    ENTRIES = "entries"  # the image list
    IMAGE = "image"  # the current image (pixels and GT)
    ANCHORS = "anchors"  # the anchor labels
    TRACE = "trace"  # the current image's trace
    SELECTION = "selection"  # selected cell or detection
    MODEL = "model"  # the model the worker holds
    PARAMS = "params"  # any parameter
    PROPOSALS = "proposals"  # an inference parameter: the model must run again
    RESULTS = "results"  # the "analyse all" results
    CLASSES = "classes"  # the class names (a class added while annotating)
    DIAGNOSIS = "diagnosis"  # the current image's diagnosis or the diagnosis settings
    LIST_FILTER = "list_filter"  # the stage or false-positive type the image list is filtered by
    DISPLAY_THRESHOLD = "display_threshold"  # the detections layer's score threshold: what is shown and counted
    COSTS = "costs"  # what fixing each error type and each stage's misses is worth, over the list

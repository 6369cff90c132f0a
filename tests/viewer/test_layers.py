"""frcnn_viewer.state.layers: the plain layer state, its typed options and its events."""

import dataclasses
import json
from enum import Enum

import pytest

from frcnn_viewer.state.changes import Change
from frcnn_viewer.state.document import Document
from frcnn_viewer.state.layer_options import AnchorSubset, DetectionsOptions, LayerName, ProposalStage
from frcnn_viewer.state.layer_registry import LAYER_NAMES, LAYER_SPECS, new_layer_list
from frcnn_viewer.state.layers import LayerEdit


def test_the_layers_in_drawing_order():
    assert LAYER_NAMES == ("ground_truth", "anchors", "anchor_labels", "proposals", "roi_samples", "detections", "objectness", "diagnosis")
    assert [layer.name for layer in new_layer_list()] == list(LayerName)
    assert [name.value for name in LayerName] == list(LAYER_NAMES)


def test_changes_are_announced_once_and_clamped():
    layers = new_layer_list()
    seen = []
    layers.changed.connect(lambda layer, what: seen.append((layer.name, what if isinstance(what, LayerEdit) else what.key)))
    layers["anchors"].set_visible(True)
    layers["anchors"].set_visible(True)  # no change, no event
    layers[LayerName.ANCHORS].set_opacity(3.0)
    layers["detections"].set_option("score_threshold", 0.3)
    layers["detections"].set_option("score_threshold", 0.3)  # no change, no event
    assert seen == [(LayerName.ANCHORS, LayerEdit.VISIBLE), (LayerName.ANCHORS, LayerEdit.OPACITY), (LayerName.DETECTIONS, "score_threshold")]
    assert layers["anchors"].opacity == 1.0
    assert layers["detections"].options.score_threshold == 0.3


def test_strings_become_the_options_types_at_the_boundary():
    layers = new_layer_list()
    layers["anchors"].set_option("subset", "cell")
    assert layers["anchors"].options.subset is AnchorSubset.CELL
    layers["anchors"].set_option("subset", AnchorSubset.ALL)
    assert layers["anchors"].options.subset is AnchorSubset.ALL
    layers["anchors"].set_option("hidden_scales", [8, 16.0])  # JSON gives a list of numbers
    assert layers["anchors"].options.hidden_scales == (8.0, 16.0)
    layers["proposals"].set_option("stage", "pre_nms")
    layers["proposals"].set_option("top_k", 20.0)
    assert layers["proposals"].options.stage is ProposalStage.PRE_NMS and layers["proposals"].options.top_k == 20
    assert isinstance(layers["proposals"].options.top_k, int)


@pytest.mark.parametrize("layer, key, value, message", [
    ("anchors", "nope", 1, "layer anchors has no option 'nope'; options: subset, hidden_scales, hidden_ratios"),
    ("anchors", "subset", "some", "option subset must be one of 'all', 'inside', 'cell', got 'some'"),
    ("detections", "score_threshold", 1.5, "option score_threshold must be in 0..1, got 1.5"),
    ("detections", "score_threshold", "0.3", "option score_threshold must be a number, got '0.3'"),
    ("detections", "show_names", 1, "option show_names must be true or false"),
    ("proposals", "top_k", -1, "option top_k must be a whole number >= 0"),
    ("anchors", "hidden_ratios", "x", "option hidden_ratios must be a list of numbers"),
])
def test_bad_options_are_refused_with_what_is_valid(layer, key, value, message):
    layers = new_layer_list()
    before = layers[layer].options
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        layers[layer].set_option(key, value)
    assert layers[layer].options is before


def test_bad_names_and_colours_are_refused_with_a_clear_message():
    layers = new_layer_list()
    with pytest.raises(ValueError, match="unknown layer 'boxes'; layers are ground_truth, anchors, .*diagnosis"):
        layers["boxes"]
    with pytest.raises(ValueError, match="colour"):
        layers["anchors"].set_colour((300, 0, 0))


def test_state_round_trips_through_json_types():
    layers = new_layer_list()
    layers["anchors"].set_visible(True)
    layers["anchors"].set_colour((1, 2, 3))
    layers["anchors"].set_option("hidden_scales", (8.0,))
    layers["anchors"].set_option("subset", "cell")
    state = json.loads(json.dumps(layers.state()))
    assert state["anchors"]["options"] == {"subset": "cell", "hidden_scales": [8.0], "hidden_ratios": [], "level": "all"}
    restored = new_layer_list()
    restored.restore(state)
    assert restored.state() == layers.state()
    assert restored["anchors"].options == layers["anchors"].options
    restored.restore({"anchors": {"opacity": "not a number"}, "unknown": {}, "proposals": {"options": {"stage": "bad", "top_k": 7}}})
    assert restored["proposals"].options.top_k == 7  # a bad value is skipped, not the layer's other options


def test_the_display_threshold_is_announced_as_a_document_change():
    """The detections layer's threshold changes what the document counts: the document says so
    with a typed change (the stats, the summary and the image list follow it)."""
    doc = Document()
    seen = []
    doc.changed.connect(seen.append)
    doc.layers["detections"].set_option("show_names", False)  # drawing only
    assert seen == []
    doc.layers["detections"].set_option("score_threshold", 0.25)
    assert seen == [frozenset({Change.DISPLAY_THRESHOLD})] and doc.display_threshold == 0.25


def test_a_layer_is_declared_once_with_its_options_drawing_and_aspects():
    from frcnn_viewer.state.layer_options import Control, option
    from frcnn_viewer.state.layers import LayerList, LayerSpec
    from frcnn_viewer.state.overlays import Overlay, build_overlay

    class Extra(Enum):
        HEAT = "heat"

    @dataclasses.dataclass(frozen=True)
    class HeatOptions:
        width: float = option(0.5, "Width", Control.FRACTION)

    drawn = []

    def draw(layer, doc):
        drawn.append(layer.options.width)
        return Overlay()

    extra = LayerSpec(Extra.HEAT, "Heat", (1, 2, 3), True, 1.0, HeatOptions, frozenset({Change.TRACE}), draw)
    layers = LayerList((*LAYER_SPECS, extra))
    assert [layer.name for layer in layers][-1] is Extra.HEAT and layers.specs[Extra.HEAT].aspects == {Change.TRACE}
    assert [(c.key, c.control) for c in extra.controls] == [("width", Control.FRACTION)]

    class Doc:  # what build_overlay reads of a document
        image = object()

    Doc.layers = layers
    layers["heat"].set_option("width", 0.25)
    build_overlay(layers["heat"], Doc())
    assert drawn == [0.25]
    for spec in LAYER_SPECS:  # every control names one of its layer's options, every option has a control
        assert [control.key for control in spec.controls] == [f.name for f in dataclasses.fields(spec.options)]
    assert next(c for c in dict(zip(LAYER_NAMES, (s.controls for s in LAYER_SPECS)))["detections"] if c.key == "score_threshold").tip
    assert DetectionsOptions().score_threshold == 0.5

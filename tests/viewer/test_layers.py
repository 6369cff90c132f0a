"""frcnn_viewer.state.layers: the plain layer state and its events."""

import pytest

from frcnn_viewer.state.layer_registry import LAYER_NAMES, new_layer_list


def test_the_layers_in_drawing_order():
    assert LAYER_NAMES == ("ground_truth", "anchors", "anchor_labels", "proposals", "roi_samples", "detections", "objectness", "diagnosis")
    assert [layer.name for layer in new_layer_list()] == list(LAYER_NAMES)


def test_changes_are_announced_once_and_clamped():
    layers = new_layer_list()
    seen = []
    layers.changed.connect(lambda layer, what: seen.append((layer.name, what)))
    layers["anchors"].set_visible(True)
    layers["anchors"].set_visible(True)  # no change, no event
    layers["anchors"].set_opacity(3.0)
    layers["detections"].set_option("score_threshold", 0.3)
    assert seen == [("anchors", "visible"), ("anchors", "opacity"), ("detections", "score_threshold")]
    assert layers["anchors"].opacity == 1.0


def test_bad_names_and_values_are_refused_with_a_clear_message():
    layers = new_layer_list()
    with pytest.raises(KeyError, match="unknown layer 'boxes'"):
        layers["boxes"]
    with pytest.raises(KeyError, match="has no option 'nope'"):
        layers["anchors"].set_option("nope", 1)
    with pytest.raises(ValueError, match="colour"):
        layers["anchors"].set_colour((300, 0, 0))


def test_state_round_trips_through_json_types():
    import json

    layers = new_layer_list()
    layers["anchors"].set_visible(True)
    layers["anchors"].set_colour((1, 2, 3))
    layers["anchors"].set_option("hidden_scales", (8.0,))
    state = json.loads(json.dumps(layers.state()))
    restored = new_layer_list()
    restored.restore(state)
    assert restored.state() == layers.state()
    assert restored["anchors"].options["hidden_scales"] == (8.0,)
    restored.restore({"anchors": {"opacity": "not a number"}, "unknown": {}})  # ignored, no crash


def test_a_layer_is_declared_once_with_its_drawing_its_aspects_and_its_controls():
    from frcnn_viewer.state.changes import Change
    from frcnn_viewer.state.layer_registry import LAYER_SPECS
    from frcnn_viewer.state.layers import Control, LayerList, LayerSpec, OptionControl
    from frcnn_viewer.state.overlays import Overlay, build_overlay

    drawn = []

    def draw(layer, doc):
        drawn.append(layer.options["width"])
        return Overlay()

    extra = LayerSpec("heat", "Heat", (1, 2, 3), True, 1.0, {"width": 0.5}, frozenset({Change.TRACE}), draw,
                      (OptionControl("width", "Width", Control.FRACTION),))
    layers = LayerList((*LAYER_SPECS, extra))
    assert [layer.name for layer in layers][-1] == "heat" and layers.specs["heat"].aspects == {Change.TRACE}

    class Doc:  # what build_overlay reads of a document
        image = object()

    Doc.layers = layers
    layers["heat"].set_option("width", 0.25)
    build_overlay(layers["heat"], Doc())
    assert drawn == [0.25]
    for spec in LAYER_SPECS:  # every control names one of its layer's options
        assert {control.key for control in spec.controls} <= set(spec.options)

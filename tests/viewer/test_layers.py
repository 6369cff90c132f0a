"""frcnn_viewer.state.layers: the plain layer state and its events."""

import pytest

from frcnn_viewer.state.layers import LAYER_NAMES, LayerList


def test_the_seven_layers_in_drawing_order():
    assert LAYER_NAMES == ("ground_truth", "anchors", "anchor_labels", "proposals", "roi_samples", "detections", "objectness", "diagnosis")
    assert [layer.name for layer in LayerList()] == list(LAYER_NAMES)


def test_changes_are_announced_once_and_clamped():
    layers = LayerList()
    seen = []
    layers.changed.connect(lambda layer, what: seen.append((layer.name, what)))
    layers["anchors"].set_visible(True)
    layers["anchors"].set_visible(True)  # no change, no event
    layers["anchors"].set_opacity(3.0)
    layers["detections"].set_option("score_threshold", 0.3)
    assert seen == [("anchors", "visible"), ("anchors", "opacity"), ("detections", "score_threshold")]
    assert layers["anchors"].opacity == 1.0


def test_bad_names_and_values_are_refused_with_a_clear_message():
    layers = LayerList()
    with pytest.raises(KeyError, match="unknown layer 'boxes'"):
        layers["boxes"]
    with pytest.raises(KeyError, match="has no option 'nope'"):
        layers["anchors"].set_option("nope", 1)
    with pytest.raises(ValueError, match="colour"):
        layers["anchors"].set_colour((300, 0, 0))


def test_state_round_trips_through_json_types():
    import json

    layers = LayerList()
    layers["anchors"].set_visible(True)
    layers["anchors"].set_colour((1, 2, 3))
    layers["anchors"].set_option("hidden_scales", (8.0,))
    state = json.loads(json.dumps(layers.state()))
    restored = LayerList()
    restored.restore(state)
    assert restored.state() == layers.state()
    assert restored["anchors"].options["hidden_scales"] == (8.0,)
    restored.restore({"anchors": {"opacity": "not a number"}, "unknown": {}})  # ignored, no crash

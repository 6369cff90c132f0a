"""Overlay layers as plain state: what is shown, how strongly and in which colour.

Every stage of Faster R-CNN the viewer can draw is one :class:`Layer` with a fixed
name (the names are the scripting API: ``MainWindow.set_layer_visible(name, ...)``).
A layer knows nothing about how it is drawn; the canvas observes :attr:`Layer.changed`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .events import Event

RGB = tuple[int, int, int]

LAYER_NAMES = ("ground_truth", "anchors", "anchor_labels", "proposals", "roi_samples", "detections", "objectness", "diagnosis")

# Values a layer option may take, where it is a choice (the panel offers these).
ANCHOR_SUBSETS = ("all", "inside", "cell")
PROPOSAL_STAGES = ("post_nms", "pre_nms")


@dataclass(frozen=True)
class LayerSpec:
    """Defaults of one layer: display title, colour, visibility, opacity and its options."""

    name: str
    title: str
    colour: RGB
    visible: bool
    opacity: float
    options: dict[str, Any]


LAYER_SPECS = {
    spec.name: spec
    for spec in (
        LayerSpec("ground_truth", "Ground truth", (255, 215, 0), True, 1.0, {"show_names": True}),
        # hidden_scales / hidden_ratios: anchor scale and ratio values not drawn
        LayerSpec("anchors", "Anchors", (0, 200, 255), False, 0.8, {"subset": "inside", "hidden_scales": (), "hidden_ratios": ()}),
        # sampled: only the mini-batch of the RPN loss, else every candidate label
        LayerSpec("anchor_labels", "Anchor labels", (0, 255, 0), False, 1.0, {"sampled": True, "show_ignored": False, "show_links": True}),
        LayerSpec("proposals", "RPN proposals", (255, 140, 0), False, 1.0, {"stage": "post_nms", "top_k": 50}),
        LayerSpec("roi_samples", "RoI samples", (255, 0, 255), False, 1.0, {"show_background": True}),
        LayerSpec("detections", "Detections", (0, 230, 120), True, 1.0, {"score_threshold": 0.5, "show_names": True}),
        LayerSpec("objectness", "Objectness heatmap", (255, 60, 0), False, 0.7, {}),
        # why each GT box was missed and what each false positive is (frcnn_core.diagnose)
        LayerSpec("diagnosis", "Diagnosis (why missed)", (255, 0, 255), True, 1.0, {"show_detected": False}),
    )
}

# Colours of the states a layer draws besides its own colour.
NEGATIVE_COLOUR: RGB = (255, 50, 50)
IGNORED_COLOUR: RGB = (150, 150, 150)
FALSE_POSITIVE_COLOUR: RGB = (255, 50, 50)
MISSED_COLOUR: RGB = (255, 0, 255)
UNCOVERED_COLOUR: RGB = (255, 50, 50)
BACKGROUND_COLOUR: RGB = (110, 140, 255)
LOW_SCORE_COLOUR: RGB = (60, 80, 255)


@dataclass(eq=False)
class Layer:
    """One overlay. ``changed`` is emitted as ``(layer, what)`` with ``what`` one of
    ``"visible"``, ``"opacity"``, ``"colour"`` or an option name."""

    name: str
    title: str
    colour: RGB
    visible: bool = False
    opacity: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)
    changed: Event = field(default_factory=Event, repr=False)

    @classmethod
    def from_spec(cls, spec: LayerSpec) -> Layer:
        return cls(spec.name, spec.title, spec.colour, spec.visible, spec.opacity, dict(spec.options))

    def set_visible(self, visible: bool) -> None:
        if bool(visible) != self.visible:
            self.visible = bool(visible)
            self.changed.emit(self, "visible")

    def set_opacity(self, opacity: float) -> None:
        opacity = min(max(float(opacity), 0.0), 1.0)
        if opacity != self.opacity:
            self.opacity = opacity
            self.changed.emit(self, "opacity")

    def set_colour(self, colour: RGB) -> None:
        colour = tuple(int(c) for c in colour[:3])
        if len(colour) != 3 or not all(0 <= c <= 255 for c in colour):
            raise ValueError(f"layer {self.name}: colour must be three values in 0..255, got {colour}")
        if colour != self.colour:
            self.colour = colour
            self.changed.emit(self, "colour")

    def set_option(self, key: str, value: Any) -> None:
        """Change one of this layer's options (the keys are fixed by its :class:`LayerSpec`)."""
        if key not in self.options:
            raise KeyError(f"layer {self.name} has no option {key!r}; options: {', '.join(self.options) or 'none'}")
        if self.options[key] != value:
            self.options[key] = value
            self.changed.emit(self, key)


class LayerList:
    """The viewer's layers in drawing order (later ones on top of earlier ones).

    ``changed`` re-emits every layer's ``(layer, what)``.
    """

    def __init__(self) -> None:
        self.changed = Event()
        self._layers = {name: Layer.from_spec(LAYER_SPECS[name]) for name in LAYER_NAMES}
        for layer in self._layers.values():
            layer.changed.connect(self.changed.emit)

    def __getitem__(self, name: str) -> Layer:
        try:
            return self._layers[name]
        except KeyError:
            raise KeyError(f"unknown layer {name!r}; layers are {', '.join(LAYER_NAMES)}") from None

    def __iter__(self) -> Iterator[Layer]:
        return iter(self._layers.values())

    def state(self) -> dict[str, dict]:
        """Visibility, opacity, colour and options of every layer, as plain data (for settings)."""
        return {
            layer.name: {"visible": layer.visible, "opacity": layer.opacity, "colour": list(layer.colour), "options": dict(layer.options)}
            for layer in self
        }

    def restore(self, state: dict) -> None:
        """Apply what :meth:`state` returned, skipping unknown layers, options and bad values."""
        for name, values in state.items():
            if name not in self._layers or not isinstance(values, dict):
                continue
            layer = self._layers[name]
            try:
                layer.set_visible(bool(values.get("visible", layer.visible)))
                layer.set_opacity(float(values.get("opacity", layer.opacity)))
                layer.set_colour(tuple(values.get("colour", layer.colour)))
                for key, value in dict(values.get("options", {})).items():
                    if key in layer.options and isinstance(layer.options[key], tuple) and isinstance(value, list):
                        value = tuple(value)  # JSON has no tuples
                    if key in layer.options and type(value) is type(layer.options[key]):
                        layer.set_option(key, value)
            except (TypeError, ValueError):
                continue

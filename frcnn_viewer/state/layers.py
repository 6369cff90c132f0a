"""Overlay layers as plain state: what is shown, how strongly and in which colour.

Every stage of Faster R-CNN the viewer can draw is one :class:`Layer` with a fixed
name (the names are the scripting API: ``MainWindow.set_layer_visible(name, ...)``).
A layer knows nothing about how it is drawn; the canvas observes :attr:`Layer.changed`.
Each layer is declared once, with its drawing and its panel controls, in
:mod:`frcnn_viewer.state.layer_registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .changes import Change
from .events import Event

RGB = tuple[int, int, int]


class Control(Enum):
    """How the layer panel edits an option."""

    CHECK = "check"  # a check box (bool)
    CHOICE = "choice"  # a combo box over ``choices``
    COUNT = "count"  # a slider up to ``slider_maximum`` beside a spin box up to ``maximum`` (int)
    FRACTION = "fraction"  # a 0..1 slider with its value shown (float)
    ANCHOR_SHAPES = "anchor shapes"  # one check box per anchor scale / ratio of the parameters (hidden values)
    LEVEL = "level"  # a combo box over the model's feature levels: all, or one by name (frcnn_viewer.state.levels)


@dataclass(frozen=True)
class OptionControl:
    """The panel's control of option ``key``: ``title`` and ``control``; ``choices`` are
    ``(value, title)`` pairs for :attr:`Control.CHOICE`."""

    key: str
    title: str
    control: Control
    choices: tuple[tuple[Any, str], ...] = ()
    maximum: int = 0
    slider_maximum: int = 0


@dataclass(frozen=True)
class LayerSpec:
    """One layer, declared once: its defaults (title, colour, visibility, opacity, option
    values), the document changes its drawing depends on (``aspects``), the function that
    draws it (``build(layer, document) -> Overlay``) and the panel's ``controls`` of its options."""

    name: str
    title: str
    colour: RGB
    visible: bool
    opacity: float
    options: dict[str, Any]
    aspects: frozenset[Change]
    build: Callable
    controls: tuple[OptionControl, ...] = ()
    redraw_with: tuple[str, ...] = ()  # layers whose visibility changes this one's drawing

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
    """The layers of ``specs`` in drawing order (later ones on top of earlier ones).

    ``changed`` re-emits every layer's ``(layer, what)``.
    """

    def __init__(self, specs: Iterable[LayerSpec]) -> None:
        self.changed = Event()
        self.specs = {spec.name: spec for spec in specs}
        self._layers = {name: Layer.from_spec(spec) for name, spec in self.specs.items()}
        for layer in self._layers.values():
            layer.changed.connect(self.changed.emit)

    def __getitem__(self, name: str) -> Layer:
        try:
            return self._layers[name]
        except KeyError:
            raise KeyError(f"unknown layer {name!r}; layers are {', '.join(self._layers)}") from None

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

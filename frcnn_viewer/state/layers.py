"""Overlay layers as plain state: what is shown, how strongly and in which colour.

Every stage of Faster R-CNN the viewer can draw is one :class:`Layer` with a fixed
name (a :class:`~.layer_options.LayerName`; its values are the scripting API:
``MainWindow.set_layer_visible("anchors", ...)``) and typed options (:mod:`.layer_options`).
A layer knows nothing about how it is drawn; the canvas observes :attr:`Layer.changed`.
Each layer is declared once, with its drawing and its panel controls, in
:mod:`frcnn_viewer.state.layer_registry`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .changes import Change
from .events import Event
from .layer_options import OptionControl, option_controls

RGB = tuple[int, int, int]


class LayerEdit(Enum):
    """What changed of a layer besides an option (an option change is announced with its :class:`OptionControl`)."""

    VISIBLE = "visible"
    OPACITY = "opacity"
    COLOUR = "colour"


@dataclass(frozen=True)
class LayerSpec:
    """One layer, declared once: its name, defaults (title, colour, visibility, opacity), its
    options dataclass (its defaults are the options' and its fields' :func:`~.layer_options.option`
    declarations the panel's controls), the document changes its drawing depends on
    (``aspects``), the function that draws it (``build(layer, document) -> Overlay``) and the
    layers whose visibility changes its drawing (``redraw_with``)."""

    name: Enum
    title: str
    colour: RGB
    visible: bool
    opacity: float
    options: type
    aspects: frozenset[Change]
    build: Callable
    redraw_with: tuple[Enum, ...] = ()

    @property
    def controls(self) -> tuple[OptionControl, ...]:
        return option_controls(self.options)


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
    """One overlay. ``changed`` is emitted as ``(layer, what)`` with ``what`` a :class:`LayerEdit`
    or, for an option, its :class:`OptionControl`. ``options`` is the layer's options dataclass
    (frozen: :meth:`set_option` replaces it)."""

    name: Enum
    title: str
    colour: RGB
    visible: bool = False
    opacity: float = 1.0
    options: Any = None
    changed: Event = field(default_factory=Event, repr=False)

    @classmethod
    def from_spec(cls, spec: LayerSpec) -> Layer:
        return cls(spec.name, spec.title, spec.colour, spec.visible, spec.opacity, spec.options())

    def set_visible(self, visible: bool) -> None:
        if bool(visible) != self.visible:
            self.visible = bool(visible)
            self.changed.emit(self, LayerEdit.VISIBLE)

    def set_opacity(self, opacity: float) -> None:
        opacity = min(max(float(opacity), 0.0), 1.0)
        if opacity != self.opacity:
            self.opacity = opacity
            self.changed.emit(self, LayerEdit.OPACITY)

    def set_colour(self, colour: RGB) -> None:
        colour = tuple(int(c) for c in colour[:3])
        if len(colour) != 3 or not all(0 <= c <= 255 for c in colour):
            raise ValueError(f"layer {self.name.value}: colour must be three values in 0..255, got {colour}")
        if colour != self.colour:
            self.colour = colour
            self.changed.emit(self, LayerEdit.COLOUR)

    def set_option(self, key: str, value: Any) -> None:
        """Change option ``key`` (a field of this layer's options dataclass) to ``value``, converted
        to its type (an enum from its value, a tuple from a list); an unknown key or a bad value
        is a ``ValueError`` listing what is valid."""
        controls = {control.key: control for control in option_controls(type(self.options))}
        if key not in controls:
            raise ValueError(f"layer {self.name.value} has no option {key!r}; options: {', '.join(controls) or 'none'}")
        value = controls[key].convert(self.name.value, value, getattr(self.options, key))
        if getattr(self.options, key) != value:
            self.options = dataclasses.replace(self.options, **{key: value})
            self.changed.emit(self, controls[key])


class LayerList:
    """The layers of ``specs`` in drawing order (later ones on top of earlier ones).

    ``changed`` re-emits every layer's ``(layer, what)``. A layer is found by its name (an
    enum member) or by that name's string value (``"detections"``).
    """

    def __init__(self, specs: Iterable[LayerSpec]) -> None:
        self.changed = Event()
        self.specs = {spec.name: spec for spec in specs}
        self._layers = {name: Layer.from_spec(spec) for name, spec in self.specs.items()}
        self._by_value = {name.value: name for name in self._layers}
        for layer in self._layers.values():
            layer.changed.connect(self.changed.emit)

    def name(self, name: Enum | str) -> Enum:
        """The layer name ``name`` stands for; ``ValueError`` listing the layers when none."""
        if name in self._layers:
            return name
        if isinstance(name, str) and name in self._by_value:
            return self._by_value[name]
        raise ValueError(f"unknown layer {getattr(name, 'value', name)!r}; layers are {', '.join(self._by_value)}")

    def __getitem__(self, name: Enum | str) -> Layer:
        return self._layers[self.name(name)]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self._layers.values())

    def state(self) -> dict[str, dict]:
        """Visibility, opacity, colour and options of every layer, as JSON data (for settings)."""
        return {layer.name.value: {"visible": layer.visible, "opacity": layer.opacity, "colour": list(layer.colour),
                                   "options": _plain(dataclasses.asdict(layer.options))} for layer in self}

    def restore(self, state: dict) -> None:
        """Apply what :meth:`state` returned, skipping unknown layers, options and bad values."""
        for name, values in state.items():
            if name not in self._by_value or not isinstance(values, dict):
                continue
            layer = self[name]
            try:
                layer.set_visible(bool(values.get("visible", layer.visible)))
                layer.set_opacity(float(values.get("opacity", layer.opacity)))
                layer.set_colour(tuple(values.get("colour", layer.colour)))
            except (TypeError, ValueError):
                continue
            for key, value in dict(values.get("options", {})).items():
                try:
                    layer.set_option(key, value)
                except (TypeError, ValueError):
                    continue


def _plain(options: dict[str, Any]) -> dict[str, Any]:
    """Option values as JSON data: enums by their values, tuples as lists."""
    return {key: value.value if isinstance(value, Enum) else list(value) if isinstance(value, tuple) else value
            for key, value in options.items()}

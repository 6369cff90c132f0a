"""A mapping keyed by enum members that finds its values by the members' string values too.

The window's docks and each view's per-layer widgets are keyed by :class:`~enum.Enum` ids
(:class:`~frcnn_viewer.workspaces.DockId`, :class:`~frcnn_viewer.state.layer_options.LayerName`);
scripts and tests that name them by string (``window.docks["layers"]``) still find them.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class ByName(dict):
    """A ``dict`` keyed by enum members; a member's string value is a key too. An unknown key is a
    ``KeyError`` listing the known ones."""

    def __missing__(self, key: object) -> Any:
        for member in self:
            if isinstance(key, str) and isinstance(member, Enum) and member.value == key:
                return self[member]
        known = ", ".join(str(getattr(member, "value", member)) for member in self)
        raise KeyError(f"unknown name {getattr(key, 'value', key)!r}; known: {known}")

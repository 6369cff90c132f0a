"""What the viewer remembers between runs: recent files, window layout, layer settings.

Stored in a ``QSettings`` that the caller may supply, so tests and ``--screenshot``
runs use a scratch file instead of the user's settings.
"""

from __future__ import annotations

import json

from PySide6 import QtCore

ORGANIZATION = "frcnn-viewer"
APPLICATION = "frcnn-viewer"
MAX_RECENT = 10


class ViewerSettings:
    """Typed access to the viewer's keys in a ``QSettings`` (by default the user's)."""

    def __init__(self, settings: QtCore.QSettings | None = None) -> None:
        self.qsettings = settings if settings is not None else QtCore.QSettings(ORGANIZATION, APPLICATION)

    def recent_files(self) -> list[str]:
        value = self.qsettings.value("recent_files", [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-element list
            value = [value]
        return [str(v) for v in value or []][:MAX_RECENT]

    def add_recent(self, paths: list[str]) -> None:
        recent = [str(p) for p in paths] + [p for p in self.recent_files() if p not in map(str, paths)]
        self.qsettings.setValue("recent_files", recent[:MAX_RECENT])

    def save_window(self, geometry: QtCore.QByteArray) -> None:
        """The window's size and position (each workspace keeps its own dock arrangement)."""
        self.qsettings.setValue("window/geometry", geometry)

    def window_geometry(self) -> QtCore.QByteArray | None:
        return self.qsettings.value("window/geometry")

    def save_layers(self, state: dict) -> None:
        self.qsettings.setValue("layers", json.dumps(state))

    def layers(self) -> dict:
        """The saved layer settings, or ``{}`` when none (or unreadable ones) are stored."""
        try:
            value = json.loads(str(self.qsettings.value("layers", "{}")))
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def sync(self) -> None:
        self.qsettings.sync()

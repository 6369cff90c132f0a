"""A minimal observer for the plain-Python state: objects announce changes, views subscribe.

The document and the layers use it instead of Qt signals so they stay importable and
testable without Qt, as napari's layers do with their event emitters.
"""

from __future__ import annotations

from collections.abc import Callable


class Event:
    """Callbacks called in connection order with whatever :meth:`emit` is given."""

    def __init__(self) -> None:
        self._callbacks: list[Callable] = []

    def connect(self, callback: Callable) -> Callable:
        """Subscribe ``callback``; returns it so this can be used as a decorator."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args) -> None:
        for callback in list(self._callbacks):
            callback(*args)

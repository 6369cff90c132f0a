"""The ``frcnn`` command: ``train``, ``detect``, ``eval`` and ``anchors``."""

from .main import main

__all__ = ["main"]

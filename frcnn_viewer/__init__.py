"""frcnn_viewer: a desktop viewer that shows every stage of Faster R-CNN on your images.

``MainWindow`` is the window (drivable from code); ``frcnn-viewer`` (:func:`frcnn_viewer.app.main`)
starts it. The plain-Python state (``document``, ``layers``, ``assignment``, ``overlays``) imports
no Qt, so ``import frcnn_viewer.state.document`` works headless; ``MainWindow`` loads Qt on first use.
"""

from .state.layer_registry import LAYER_NAMES

__all__ = ["LAYER_NAMES", "MainWindow"]


def __getattr__(name: str):
    if name == "MainWindow":
        from .main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'frcnn_viewer' has no attribute {name!r}")

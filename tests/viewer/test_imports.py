"""The detector and the viewer's plain state never import Qt (napari's model/view rule)."""

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import frcnn_core
for module in pkgutil.walk_packages(frcnn_core.__path__, "frcnn_core."):
    if not module.name.endswith("__main__"):  # that one runs the CLI
        importlib.import_module(module.name)
for name in ("events", "layers", "assignment", "matching", "raster", "sources", "models", "results", "provenance", "document", "overlays", "exporting"):
    importlib.import_module("frcnn_viewer." + name)
import frcnn_viewer.state
for module in pkgutil.walk_packages(frcnn_viewer.state.__path__, "frcnn_viewer.state."):  # every Qt-free state module
    importlib.import_module(module.name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "PySide2", "pyqtgraph"))
assert not qt, qt
print("ok")
"""


def test_core_and_viewer_state_import_no_qt():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr

"""Render the README's training screenshot: the training dock after a short run, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/screenshots/training_screenshot.py resources/screenshots/training.png

Trains the light model on ``shapes`` on the CPU through the real window for ``STEPS``
iterations, watching the first validation image, then pauses and steps once so the
canvas shows that step's sampled anchors and RoIs on the (possibly flipped) image it saw.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtWidgets  # noqa: E402


from png_budget import shrink_png  # noqa: E402  (this folder, on the path when run as a script)
from scratch_window import scratch_window  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STEPS = 150
SHOWN_DOCKS = ("Images", "Layers", "Training")


def main(out: Path) -> None:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])

    with tempfile.TemporaryDirectory() as tmp:
        window = scratch_window(tmp, 1500, 1000, SHOWN_DOCKS)
        window.open_paths(["shapes"])
        window.docks["training"].widget().watch_current_image()
        for name in ("anchor_labels", "roi_samples"):
            window.set_layer_visible(name, True)
        window.set_layer_visible("detections", False)
        window.start_training("shapes", iterations=2000, device="cpu", output_dir=str(Path(tmp) / "run"), watch_every=10)
        loop = QtCore.QEventLoop()
        window.training.step_finished.connect(lambda step: step.iteration >= STEPS and loop.quit())
        loop.exec()
        window.pause_training()
        window.step_training(1)
        window.docks["training"].widget()._redraw()
        app.processEvents()
        window.grab().save(str(out), "PNG")
        window.stop_training()
        window.close()
    shrink_png(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources" / "screenshots" / "training.png")

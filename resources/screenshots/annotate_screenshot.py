"""Render the README's annotation-mode screenshot: label a photo with the mouse, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/screenshots/annotate_screenshot.py resources/screenshots/annotate.png

A copy of ``resources/photos/chelsea.jpg`` is annotated in a temporary folder through the
real window (key W, then a mouse drag at ``canvas.image_to_widget`` positions, for each box),
with the ground-truth and anchor-label layers on: boxes too small for the anchor design are
flagged in red while they are drawn.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtWidgets  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from png_budget import shrink_png  # noqa: E402  (this folder, on the path when run as a script)
from scratch_window import scratch_window  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "resources" / "photos" / "chelsea.jpg"
# (class, box in image pixels) drawn in this order; the last one stays selected
LABELS = [("cat", (18, 0, 420, 300)), ("eye", (131, 82, 210, 150)), ("eye", (290, 106, 346, 166)), ("nose", (230, 220, 294, 270))]
SHOWN_DOCKS = ("Images", "Layers", "Annotate")


def drag(canvas, start, end) -> None:
    viewport = canvas.viewport()
    QTest.mousePress(viewport, QtCore.Qt.MouseButton.LeftButton, pos=canvas.image_to_widget(*start))
    QTest.mouseMove(viewport, pos=canvas.image_to_widget(*end))
    QTest.mouseRelease(viewport, QtCore.Qt.MouseButton.LeftButton, pos=canvas.image_to_widget(*end))


def main(out: Path) -> None:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(PHOTO, tmp)
        window = scratch_window(tmp, 1400, 860, SHOWN_DOCKS)
        window.wait_until_idle()
        window.set_mode("annotate")
        window.open_paths([tmp])
        for name in ("ground_truth", "anchor_labels"):
            window.set_layer_visible(name, True)
        window.set_layer_option("anchor_labels", "show_links", False)
        window.canvas.fit()
        app.processEvents()
        window.activateWindow()
        for name, box in LABELS:
            window.current_class = name
            QTest.keyClick(window, QtCore.Qt.Key.Key_W)  # draw even where a box is
            drag(window.canvas, box[:2], box[2:])
        QTest.mouseMove(window.canvas.viewport(), pos=window.canvas.image_to_widget(436, 286))  # crosshair guides
        window.save_annotations()
        app.processEvents()
        window.grab().save(str(out), "PNG")
        window.annotation.unsaved_policy = "discard"
        window.close()
    shrink_png(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources" / "screenshots" / "annotate.png")

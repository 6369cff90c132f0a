"""Viewer drawing speed: all 22 500 anchors of an 800x800 image, and a parameter change.

Runs the real window offscreen on an 800x800 image with the paper's anchor design
(stride 16, scales 8/16/32, ratios 0.5/1/2, shorter side 800: 50 x 50 cells x 9 = 22 500
anchors) and times, each as the median of several runs:

* draw: the anchors layer shown for the first time after a change (overlay built,
  rasterised, painted);
* toggle: the anchors layer hidden then shown again, each followed by a repaint
  (reported per redraw);
* relabel: a positive-IoU change in the parameter panel, labels recomputed and the
  anchor-labels layer (every anchor: positive, negative, ignored) redrawn;
* peer: the same 22 500 boxes stroked by Qt as ONE pyqtgraph ``PlotCurveItem`` with a
  connect array (the usual way to draw many boxes in pyqtgraph), drawn and toggled.

Targets (issue 4): < 50 ms per redraw, < 100 ms for a parameter change, on 2 CPU cores.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_viewer.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

from frcnn_viewer import LAYER_NAMES, MainWindow  # noqa: E402

REPEATS = 15
CANVAS = 820  # the image view is about this many pixels square: the image shows at ~1:1


def median_ms(run, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    scratch = tempfile.TemporaryDirectory()
    image_path = Path(scratch.name) / "800x800.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (800, 800, 3), dtype=np.uint8)).save(image_path)
    settings = QtCore.QSettings(str(Path(scratch.name) / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.show()
    window.open_paths([image_path])
    window.set_parameters(anchor_stride=16, anchor_scales=(8.0, 16.0, 32.0), anchor_ratios=(0.5, 1.0, 2.0), min_size=800, max_size=1333)
    window.resize(window.width() + CANVAS - window.canvas.width(), window.height() + CANVAS - window.canvas.height())
    app.processEvents()
    window.canvas.fit()
    for name in LAYER_NAMES:
        window.set_layer_visible(name, False)
    canvas = window.canvas
    paint = canvas.viewport().repaint
    anchors = window.document.layers["anchors"]
    anchors.set_option("subset", "all")
    app.processEvents()
    paint()
    count = int(window.counts()["anchors"])
    print(f"image 800x800, canvas {canvas.width()}x{canvas.height()} px, {count} anchors, Qt platform {app.platformName()}")

    def draw() -> None:  # a fresh overlay every time: invalidate, show, paint
        anchors.set_option("subset", "inside")
        anchors.set_option("subset", "all")
        anchors.set_visible(True)
        paint()
        anchors.set_visible(False)

    anchors.set_visible(True)
    drawn = sum(len(item.boxes()) for item in canvas.layer_items["anchors"].boxes.values())
    draw_ms = median_ms(lambda: draw())

    def toggle() -> None:
        anchors.set_visible(False)
        paint()
        anchors.set_visible(True)
        paint()

    toggle_ms = median_ms(toggle) / 2
    anchors.set_visible(False)

    labels = window.document.layers["anchor_labels"]
    labels.set_option("show_ignored", True)
    labels.set_visible(True)
    paint()
    values = iter([0.5, 0.7] * REPEATS)

    def relabel() -> None:
        window.parameter_panel.widgets["rpn_pos_iou"].setValue(next(values))
        paint()

    relabel_ms = median_ms(relabel)
    labelled = sum(len(item.boxes()) for item in canvas.layer_items["anchor_labels"].boxes.values())
    labels.set_visible(False)
    paint()

    boxes = window.document.anchor_state.anchors.astype(np.float64)
    x = boxes[:, [0, 2, 2, 0, 0]].ravel()
    y = boxes[:, [1, 1, 3, 3, 1]].ravel()
    connect = np.ones(len(x), dtype=bool)
    connect[4::5] = False
    curve = pg.PlotCurveItem(pen=pg.mkPen((0, 200, 255), width=1, cosmetic=True), antialias=False, skipFiniteCheck=True)
    canvas.view.addItem(curve, ignoreBounds=True)

    def peer_draw() -> None:
        curve.setData(x=x, y=y, connect=connect)
        paint()

    peer_draw_ms = median_ms(peer_draw, 7)

    def peer_toggle() -> None:
        curve.setVisible(False)
        paint()
        curve.setVisible(True)
        paint()

    peer_toggle_ms = median_ms(peer_toggle, 7) / 2
    canvas.view.removeItem(curve)

    print(f"anchors layer, all {drawn} anchors: draw {draw_ms:.1f} ms, toggle {toggle_ms:.1f} ms per redraw (target < 50 ms)")
    print(f"parameter change (positive IoU), {labelled} anchors relabelled and redrawn: {relabel_ms:.1f} ms (target < 100 ms)")
    print(f"peer, one PlotCurveItem with a connect array: draw {peer_draw_ms:.1f} ms, toggle {peer_toggle_ms:.1f} ms per redraw")
    print(f"ratio peer/ours: draw {peer_draw_ms / draw_ms:.1f}x, toggle {peer_toggle_ms / toggle_ms:.1f}x")
    window.close()
    scratch.cleanup()
    ok = draw_ms < 50 and toggle_ms < 50 and relabel_ms < 100
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

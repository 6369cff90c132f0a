"""Render the README's diagnosis screenshot: the Diagnosis panel over the shapes val set, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/screenshots/diagnosis_screenshot.py CHECKPOINT.pt [OUT.png [STAGE]]

Opens ``shapes`` (its val split, as ``frcnn diagnose --data shapes`` does), loads CHECKPOINT
(a shapes model), diagnoses every image through the real window (``MainWindow.diagnose``,
the worker of "Analyse all"), filters the image list by STAGE (default ``nms``: lost in
NMS; the stage that lost the most boxes if none was lost there) and shows the first image
there, with the GT, detection and diagnosis layers, in the Diagnose workspace with the
Diagnosis dock widened so that the funnel and the error costs beside it read well.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from png_budget import shrink_png  # noqa: E402  (this folder, on the path when run as a script)
from PySide6 import QtCore, QtWidgets  # noqa: E402
from scratch_window import scratch_window  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHOWN_DOCKS = ("Images", "Diagnosis", "Curves", "Parameters", "Statistics", "Provenance")


def main(checkpoint: Path, out: Path, stage: str = "nms") -> None:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from frcnn_core.evaluation.diagnose import MISS_STAGES, Stage
    from frcnn_viewer.workspaces import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        window = scratch_window(tmp, 1400, 900, SHOWN_DOCKS)
        window.open_paths(["shapes"])
        if not window.load_checkpoint(checkpoint):
            raise SystemExit(f"{checkpoint}: not loaded ({window.document.messages[-1].text})")
        report = window.diagnose(iou=0.5, score_threshold=0.5)
        lost = report["summary"]["gt"]
        shown = Stage(stage) if lost[stage] else max(MISS_STAGES, key=lambda s: lost[s.value])
        window.diagnosis_panel.filter_by(shown)
        window.show_image(window.document.ranked("order")[0])
        window.wait_until_idle()
        for name in ("ground_truth", "detections", "diagnosis"):
            window.set_layer_visible(name, True)
        window.set_layer_option("ground_truth", "show_names", False)
        window.workspaces.show(Workspace.DIAGNOSE)
        window.resize(1400, 900)
        app.processEvents()
        window.docks["diagnosis"].raise_()
        window.resizeDocks([window.docks["diagnosis"]], [760], QtCore.Qt.Orientation.Horizontal)
        for _ in range(3):
            app.processEvents()
        window.canvas.fit()
        app.processEvents()
        window.grab().save(str(out), "PNG")
        window.close()
    shrink_png(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "resources" / "screenshots" / "diagnosis.png", *sys.argv[3:4])

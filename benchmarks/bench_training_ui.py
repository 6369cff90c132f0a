"""UI responsiveness while the viewer trains: the lateness of a 10 ms timer on the UI thread.

Runs the real window (offscreen unless a display is asked for) on the ``shapes`` set and
measures, for ``--seconds`` each, how late a 10 ms ``QTimer`` fires (interval minus 10 ms):

* idle: no training (the peer, measured in the same run);
* training: the training dock running (``cpu`` preset on a CPU: light trunk at 256 px,
  batch 4; ``seed`` preset on a GPU), each ``--trace-every``-th step drawn on the canvas,
  the watch image refreshed every 10 steps, curves redrawn as steps arrive.

Target (issue 5): p99 lateness < 50 ms on a 2-core CPU.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_training_ui.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

from frcnn_viewer import MainWindow  # noqa: E402

INTERVAL_MS = 10


def lateness_ms(seconds: float) -> np.ndarray:
    """Run the event loop for ``seconds`` with a 10 ms timer; how late each tick came."""
    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.setInterval(INTERVAL_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    timer.start()
    loop.exec()
    timer.stop()
    return np.maximum(np.diff(ticks) * 1000 - INTERVAL_MS, 0.0)


def describe(name: str, late: np.ndarray) -> str:
    p50, p99 = np.percentile(late, [50, 99])
    return f"{name:9s} ticks {len(late):5d}   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   max {late.max():7.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each measurement (default 30)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--trace-every", type=int, default=10, help="draw every K-th step on the canvas (default 10)")
    parser.add_argument("--iterations", type=int, default=100_000)
    args = parser.parse_args()

    QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    scratch = tempfile.TemporaryDirectory()
    settings = QtCore.QSettings(str(Path(scratch.name) / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1400, 1000)
    window.show()
    window.open_paths(["shapes"])
    idle = lateness_ms(args.seconds)

    started = window.start_training(
        "shapes", iterations=args.iterations, device=args.device, output_dir=str(Path(scratch.name) / "run"),
        trace_every=args.trace_every, watch_every=10,
    )
    if not started:
        print(f"training did not start: {window.training_state()['message']}")
        return 1
    window.docks["training"].widget().watch_current_image()
    lateness_ms(2.0)  # let the first steps and the model hand-over pass
    first = window.training_state()["iteration"]
    clock = time.perf_counter()
    training = lateness_ms(args.seconds)
    steps = window.training_state()["iteration"] - first
    speed = steps / (time.perf_counter() - clock)
    state = window.training_state()
    window.stop_training()
    window.close()

    print(f"device: {state['device']}; {steps} steps at {speed:.2f} it/s while measuring; canvas every {args.trace_every} steps")
    print(describe("idle", idle))
    print(describe("training", training))
    ratio = np.percentile(training, 99) / max(np.percentile(idle, 99), 1e-3)
    print(f"p99 while training / idle: {ratio:.1f}x   target: p99 < 50 ms -> {'met' if np.percentile(training, 99) < 50 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

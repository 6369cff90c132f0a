"""Training in the window (frcnn_viewer.training.controller through MainWindow's scripting API):
start, curves, pause, step, the canvas, the timeline, watch, evaluation, stop, resume, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from frcnn_core.checkpoint import load_checkpoint
from frcnn_core.train import METRICS_FILE, NonFiniteLossError, Trainer

from .fakes import TRAINING_TIMEOUT_MS, curve_points

# A step of well under a second on a 2-core CPU.
TINY = dict(device="cpu", image_size=64, batch_size=1, num_images=8, val_images=2, trace_every=2, watch_every=1)


def test_train_pause_step_scrub_watch_evaluate_stop_and_continue(window, qtbot, tmp_path):
    session, dock = window.training.session, window.docks["training"].widget()
    threads = set()
    session.changed.connect(lambda _aspects: threads.add(threading.current_thread()))
    run = tmp_path / "run"
    assert window.start_training("shapes", iterations=400, output_dir=str(run), **TINY)
    assert window.training_state()["device"].startswith("CPU")
    qtbot.waitUntil(lambda: len(window.training_state()["loss_history"]["total"]) >= 3, timeout=TRAINING_TIMEOUT_MS)
    qtbot.waitUntil(lambda: curve_points(dock.plots.curves["total"]) >= 3, timeout=TRAINING_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.document.trace is not None and window.document.trace.iteration is not None, timeout=TRAINING_TIMEOUT_MS)

    with qtbot.waitSignal(window.training.watch_updated, timeout=TRAINING_TIMEOUT_MS):
        dock.watch_current_image()
    assert window.pause_training()
    state = window.training_state()
    assert state["paused"] and not state["running"] and state["iteration"] == len(state["loss_history"]["total"])

    before, shown_before = state["iteration"], window.document.trace
    with qtbot.waitSignal(window.training.step_finished, timeout=TRAINING_TIMEOUT_MS) as blocker:
        assert window.step_training(1) == 1
    assert blocker.args[0].iteration == before + 1
    state = window.training_state()
    assert state["iteration"] == before + 1 and state["paused"]
    trace = window.document.trace
    assert trace is not shown_before and trace.iteration == before + 1
    assert np.allclose(window.document.image.gt_boxes, trace.gt_boxes.numpy(), atol=1e-3)  # flipped or not, boxes line up
    assert session.watch.iteration == before + 1  # the watch image follows each step
    dock._redraw()
    assert f"iteration {before + 1} /" in dock.status.text() and dock.progress.value() == before + 1

    recorded = state["recorded"]
    assert len(recorded) >= 2 and recorded[-1] == before + 1
    dock.timeline.setValue(0)
    assert window.document.trace.iteration == recorded[0]
    dock.timeline.setValue(dock.timeline.maximum())
    assert window.document.trace.iteration == before + 1 and session.position is None

    with qtbot.waitSignal(window.training.evaluated, timeout=TRAINING_TIMEOUT_MS) as blocker:
        window.training.evaluate()
    assert blocker.args[0]["iteration"] == before + 1 and 0.0 <= blocker.args[0]["map50"] <= 1.0

    path = window.stop_training()
    state = window.training_state()
    assert not state["alive"] and not state["running"] and state["phase"] == "stopped"
    model, payload = load_checkpoint(path)
    assert Path(path) == run / "last.pt" and payload["trainer"]["iteration"] == before + 1
    assert len((run / METRICS_FILE).read_text().splitlines()) == before + 1
    assert threads == {threading.main_thread()}  # the session only ever changed in the UI thread

    assert window.start_training("shapes", iterations=before + 3, resume=path, **TINY)  # load and continue
    state = window.training_state()
    assert state["iteration"] == before + 1 and len(state["loss_history"]["total"]) == before + 1
    qtbot.waitUntil(lambda: window.training_state()["phase"] == "finished", timeout=TRAINING_TIMEOUT_MS)
    assert window.stop_training() == str(run / "last.pt")
    assert load_checkpoint(run / "last.pt")[1]["trainer"]["iteration"] == before + 3

    assert window.training.open_metrics(run)  # a finished run's curves, reopened
    assert window.training_state()["loss_history"]["iteration"] == list(range(1, before + 4))


def test_a_step_right_after_the_start_is_drawn_on_the_canvas(window, tmp_path):
    assert window.start_training("shapes", iterations=100, output_dir=str(tmp_path), **TINY)
    assert window.pause_training()
    before = window.training_state()["iteration"]
    assert window.step_training(1) == 1
    assert window.document.trace.iteration == before + 1  # the viewer took the run's model at once
    assert window.document.model.config.class_names == window.training.session.info.class_names
    window.stop_training()


@pytest.mark.parametrize(("error", "says"), [
    (NonFiniteLossError("loss became non-finite at iteration 3 (total=nan)"), "non-finite"),
    (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"), "out of memory"),
])
def test_a_nan_loss_or_out_of_memory_stops_training_with_a_message(window, qtbot, tmp_path, monkeypatch, error, says):
    real_step = Trainer.step

    def failing_step(self, trace=False):
        if self.iteration >= 2:
            raise error
        return real_step(self, trace)

    monkeypatch.setattr(Trainer, "step", failing_step)
    with qtbot.waitSignal(window.training.failed, timeout=TRAINING_TIMEOUT_MS) as blocker:
        window.start_training("shapes", iterations=50, output_dir=str(tmp_path), wait=False, **TINY)
    assert says in blocker.args[0]
    qtbot.waitUntil(lambda: not window.training_state()["alive"], timeout=TRAINING_TIMEOUT_MS)
    state = window.training_state()
    assert state["phase"] == "failed" and state["iteration"] == 2 and says in state["message"]
    dock = window.docks["training"].widget()
    assert dock.error.isVisibleTo(dock) and says in dock.error.text()
    assert window.document.messages[-1].level == "error" and says in window.document.messages[-1].text
    monkeypatch.setattr(Trainer, "step", real_step)  # the app goes on: train again
    assert window.start_training("shapes", iterations=1, output_dir=str(tmp_path / "again"), **TINY)
    assert window.stop_training() is not None and not dock.error.isVisibleTo(dock)


def test_closing_the_window_mid_training_stops_the_thread_and_writes_a_checkpoint(qtbot, settings, tmp_path):
    from frcnn_viewer import MainWindow

    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    assert win.start_training("shapes", iterations=1000, output_dir=str(tmp_path), **TINY)
    qtbot.waitUntil(lambda: win.training_state()["iteration"] >= 2, timeout=TRAINING_TIMEOUT_MS)
    win.close()
    assert win.training._thread is None or win.training._thread.isFinished()
    payload = load_checkpoint(tmp_path / "last.pt")[1]
    assert payload["trainer"]["iteration"] >= 2
    assert payload["trainer"]["iteration"] == len((tmp_path / METRICS_FILE).read_text().splitlines())  # nothing lost


def test_bad_settings_are_refused_before_any_thread_starts(window):
    with pytest.raises(ValueError, match="learning_rate"):
        window.start_training("shapes", learning_rate=0.1)
    assert not window.start_training("/no/such/folder", iterations=5, device="cpu")
    assert "training could not start" in window.training_state()["message"]

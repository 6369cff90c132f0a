"""Training in the window (frcnn_viewer.training.controller through MainWindow's scripting API):
start, curves, pause, step, the canvas, the timeline, watch, evaluation, stop, resume, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from frcnn_core.models.checkpoint import load_checkpoint
from frcnn_core.train import METRICS_FILE, NonFiniteLossError, Trainer

from .fakes import TRAINING_TIMEOUT_MS, curve_points

# A step of well under a second on a 2-core CPU.
TINY = dict(device="cpu", image_size=64, batch_size=1, num_images=8, val_images=2, trace_every=2, watch_every=1)


@pytest.fixture
def paused_run(window, qtbot, tmp_path):
    """A tiny run on ``shapes`` trained for a few steps (traced ones shown), then paused; its folder."""
    run = tmp_path / "run"
    assert window.start_training("shapes", iterations=400, output_dir=str(run), **TINY)
    qtbot.waitUntil(lambda: len(window.training_state()["loss_history"]["total"]) >= 3, timeout=TRAINING_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.document.trace is not None and window.document.trace.iteration is not None, timeout=TRAINING_TIMEOUT_MS)
    assert window.pause_training()
    return run


def test_training_draws_its_curves_and_pauses_with_the_session_changed_only_in_the_ui_thread(window, qtbot, tmp_path):
    session, dock = window.training.session, window.docks["training"].widget()
    threads = set()
    session.changed.connect(lambda _aspects: threads.add(threading.current_thread()))
    assert window.start_training("shapes", iterations=400, output_dir=str(tmp_path / "run"), **TINY)
    assert window.training_state()["device"].startswith("CPU")
    qtbot.waitUntil(lambda: curve_points(dock.plots.curves["total"]) >= 3, timeout=TRAINING_TIMEOUT_MS)
    assert window.pause_training()
    state = window.training_state()
    assert state["paused"] and not state["running"] and state["phase"] == "paused"
    assert state["iteration"] == len(state["loss_history"]["total"])
    assert threads == {threading.main_thread()}


def test_a_single_step_shows_its_trace_lined_up_with_its_image_and_the_watch_image_follows(window, qtbot, paused_run):
    session, dock = window.training.session, window.docks["training"].widget()
    with qtbot.waitSignal(window.training.watch_updated, timeout=TRAINING_TIMEOUT_MS):
        dock.watch_current_image()
    before, shown_before = window.training_state()["iteration"], window.document.trace
    with qtbot.waitSignal(window.training.step_finished, timeout=TRAINING_TIMEOUT_MS) as blocker:
        assert window.step_training(1) == 1
    assert blocker.args[0].iteration == before + 1
    state = window.training_state()
    assert state["iteration"] == before + 1 and state["paused"]
    trace = window.document.trace
    assert trace is not shown_before and trace.iteration == before + 1
    assert np.allclose(window.document.image.gt_boxes, trace.gt_boxes.numpy(), atol=1e-3)  # flipped or not, boxes line up
    assert session.watch.iteration == before + 1
    dock._redraw()
    assert f"iteration {before + 1} /" in dock.status.text() and dock.progress.value() == before + 1


def test_the_timeline_scrubs_through_the_recorded_steps(window, paused_run):
    session, dock = window.training.session, window.docks["training"].widget()
    recorded = window.training_state()["recorded"]
    assert len(recorded) >= 2
    dock.timeline.setValue(0)
    assert window.document.trace.iteration == recorded[0]
    dock.timeline.setValue(dock.timeline.maximum())
    assert window.document.trace.iteration == recorded[-1] and session.position is None


def test_evaluation_reports_the_map_of_the_current_iteration(window, qtbot, paused_run):
    with qtbot.waitSignal(window.training.evaluated, timeout=TRAINING_TIMEOUT_MS) as blocker:
        window.training.evaluate()
    report = blocker.args[0]
    assert report["iteration"] == window.training_state()["iteration"] and 0.0 <= report["map50"] <= 1.0


def test_stop_writes_a_checkpoint_that_continues_exactly_and_its_curves_reopen(window, qtbot, paused_run):
    run, before = paused_run, window.training_state()["iteration"]
    path = window.stop_training()
    state = window.training_state()
    assert not state["alive"] and not state["running"] and state["phase"] == "stopped"
    model, payload = load_checkpoint(path)
    assert Path(path) == run / "last.pt" and payload["trainer"]["iteration"] == before
    assert len((run / METRICS_FILE).read_text().splitlines()) == before

    assert window.start_training("shapes", iterations=before + 2, resume=path, **TINY)  # load and continue
    state = window.training_state()
    assert state["iteration"] == before and len(state["loss_history"]["total"]) == before
    qtbot.waitUntil(lambda: window.training_state()["phase"] == "finished", timeout=TRAINING_TIMEOUT_MS)
    assert window.stop_training() == str(run / "last.pt")
    assert load_checkpoint(run / "last.pt")[1]["trainer"]["iteration"] == before + 2

    assert window.training.open_metrics(run)  # a finished run's curves, reopened
    assert window.training_state()["loss_history"]["iteration"] == list(range(1, before + 3))


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


def test_training_on_the_open_images_lists_them_once_and_shows_each_step_on_its_entry(window, voc_dir, tmp_path):
    assert window.open_paths([voc_dir]) == 1
    assert window.start_training(str(voc_dir), iterations=100, output_dir=str(tmp_path), **TINY)
    assert window.pause_training()
    assert len(window.document.entries) == 1  # the run's images are those already listed, not listed twice
    assert window.step_training(1) == 1
    assert window.document.index == 0 and window.document.trace is window.training.session.shown().trace
    window.stop_training()
    assert window.start_training("shapes", iterations=100, output_dir=str(tmp_path / "shapes"), **TINY)
    assert window.pause_training()
    added = len(window.training.session.info.dataset)
    assert added > 0 and len(window.document.entries) == 1 + added  # images not open yet are added to the list
    window.stop_training()

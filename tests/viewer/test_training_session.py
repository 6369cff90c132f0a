"""frcnn_viewer.state.training.session: the dock's plain state; the plain training modules import no Qt."""

from __future__ import annotations

import pytest

from frcnn_core.train import StepResult
from frcnn_viewer.state.training.phases import SessionChange
from frcnn_viewer.state.training.session import TrainingSession
from frcnn_viewer.state.training.snapshots import SnapshotBuffer, StepSnapshot

from .fakes import traced_step


def _step(iteration: int, trace=None) -> StepSnapshot:
    losses = {"rpn_cls": 0.5, "rpn_reg": 0.1, "roi_cls": 1.0, "roi_reg": 0.2, "total": 1.8}
    return StepSnapshot(StepResult(iteration, losses, 0.01, 0.05, {"fg_rois": 3.0}, image_index=0, trace=trace))


def test_steps_feed_curves_and_the_timeline_which_keeps_its_step_while_old_ones_drop():
    trace, _ = traced_step(flip=False)
    session = TrainingSession(buffer=SnapshotBuffer(capacity=3))
    seen = []
    session.changed.connect(seen.append)
    session.begin()
    for i in range(1, 5):
        session.record(_step(i, trace if i % 2 == 0 or i == 1 else None))
    assert session.iteration == 4 and session.snapshots.iterations() == [1, 2, 4]
    assert session.shown().iteration == 4 and session.position is None  # following the newest
    session.scrub(1)
    assert session.shown().iteration == 2
    session.record(_step(5, trace))  # drops step 1: the timeline still shows step 2
    assert session.snapshots.iterations() == [2, 4, 5] and session.shown().iteration == 2
    session.scrub(99)
    assert session.position is None and session.shown().iteration == 5
    state = session.state()
    assert state["iteration"] == 5 and state["loss_history"]["total"] == [1.8] * 5 and state.losses is state.loss_history
    assert state["recorded"] == [2, 4, 5] and abs(session.iterations_per_second() - 20.0) < 1e-9
    assert "paused" in state and "nonsense" not in state and dict(state)["iteration"] == 5  # also a mapping
    assert frozenset({SessionChange.PHASE, SessionChange.HISTORY, SessionChange.SNAPSHOTS, SessionChange.POSITION, SessionChange.WATCH,
                      SessionChange.EVALUATION, SessionChange.CHECKPOINT, SessionChange.MESSAGE}) in seen


def test_phases_and_a_finished_runs_log():
    session = TrainingSession()
    session.begin()
    assert session.state()["running"] and session.alive
    with pytest.raises(RuntimeError, match="stop training"):
        session.show_log([{"iteration": 1}], "m.jsonl")
    session.set_phase("paused")
    assert session.state()["paused"] and not session.state()["running"]
    session.fail("loss became non-finite")
    session.set_phase("paused")  # a late report of the ended thread changes nothing
    session.ended()
    assert session.phase == "failed" and not session.alive
    session.show_log([{"iteration": 1, "total": 3.0}, {"iteration": 2, "total": 2.0}], "m.jsonl")
    assert session.iteration == 2 and session.history.column("total").tolist() == [3.0, 2.0]


def test_validations_are_kept_apart_from_the_steps_and_the_best_is_the_highest_map():
    from frcnn_core.train.validation import ValidationResult

    session = TrainingSession()
    seen = []
    session.changed.connect(seen.append)
    losses = {"rpn_cls": 0.4, "rpn_reg": 0.1, "roi_cls": 0.9, "roi_reg": 0.2, "total": 1.6}
    for iteration, map50 in ((1, 0.2), (2, 0.5), (3, 0.4)):
        step = StepResult(iteration, dict(losses), 0.01, 0.05)
        step.validation = ValidationResult(iteration, dict(losses, total=2.0 / iteration), map50, map50 / 2, 1.0, best=map50 == 0.5)
        session.record(StepSnapshot(step))
    assert SessionChange.VALIDATION in seen[-1]
    assert len(session.history) == 3 and list(session.history.column("total")) == [1.6, 1.6, 1.6]
    assert list(session.validations.column("total")) == pytest.approx([2.0, 1.0, 2.0 / 3])
    assert session.validations.best()["iteration"] == 2
    assert [v["iteration"] for v in session.state()["validations"]] == [1, 2, 3]
    assert session.best_checkpoint is None  # no run folder, no best.pt

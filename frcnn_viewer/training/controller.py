"""The GUI-side handle on training: starts the thread, steers it, keeps the session, feeds the canvas.

:class:`TrainingController` lives in the UI thread. It turns the user's intent (start,
pause, resume, step, stop, save, evaluate, watch) into calls on the worker's
:class:`~.loop.StepGate`, records what the worker reports in a :class:`~.session.TrainingSession`
and re-emits it as public signals. The UI thread never waits on the trainer: the scripting
methods that wait (``wait=True``) run the event loop meanwhile, as ``MainWindow`` does.

The canvas shows recorded steps through the document: the training set is added to the
image list once, and the step the timeline points at is shown with
``Document.show_trace`` on the image it trained on. The viewer's own model follows the run
(each checkpoint is handed to ``adopt_checkpoint``, the window's checkpoint loader), so
browsing other images shows the model being trained; steps are drawn once the viewer's
model has the training classes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6 import QtCore

from frcnn_core import DetectorConfig

from ..running_threads import RUNNING
from ..state.document import Document
from ..state.models import ModelInfo, class_mismatch
from ..state.sources import LoadedImage
from ..state.training.display import training_image
from ..state.training.loop import Request
from ..state.training.metrics_log import MetricsLogError, read_metrics
from ..state.training.options import TrainingOptions
from ..state.training.phases import SETTLED, Phase, SessionChange
from ..state.training.session import TrainingInfo, TrainingSession, TrainingState, WatchResult
from ..state.training.snapshots import StepSnapshot
from .worker import TrainingWorker

WAIT_TIMEOUT_MS = 600_000

class TrainingController(QtCore.QObject):
    """Training for one window. ``session`` holds the state; the signals are public.

    Signals:
        started(TrainingInfo): the trainer is built (device, classes, settings).
        step_finished(StepSnapshot): one iteration is done and recorded in the session.
        state_changed(str): the phase changed (see :mod:`.session`).
        checkpoint_saved(str): a checkpoint was written.
        evaluated(dict): an evaluation report (``map50``, ``coco_ap``, ``per_class``, ``iteration``).
        watch_updated(WatchResult): new proposals and detections on the watch image.
        failed(str): training stopped on an error (NaN loss, out of memory, bad data).
        stopped(): the training thread has ended.
    """

    started = QtCore.Signal(object)
    step_finished = QtCore.Signal(object)
    state_changed = QtCore.Signal(str)
    checkpoint_saved = QtCore.Signal(str)
    evaluated = QtCore.Signal(object)
    watch_updated = QtCore.Signal(object)
    failed = QtCore.Signal(str)
    stopped = QtCore.Signal()

    def __init__(self, document: Document, adopt_checkpoint: Callable[[str], None] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.adopt_checkpoint = adopt_checkpoint
        self.session = TrainingSession()
        self.follow = True  # show recorded steps on the canvas
        self.watch_image: LoadedImage | None = None
        self._watch_key = 0
        self._thread: QtCore.QThread | None = None
        self._worker: TrainingWorker | None = None
        self._entry_indices: dict[tuple[str, int], list[int]] = {}  # (data, size) -> the list index of each training image
        self._show_timer = QtCore.QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._show_on_canvas)
        self.session.changed.connect(self._session_changed)
        document.changed.connect(self._document_changed)

    # ----- scripting API ----------------------------------------------------------------
    def start(self, data: str | Path = "shapes", iterations: int | None = None, device: str = "auto", wait: bool = True, **config) -> bool:
        """Train on ``data`` (see :meth:`TrainingOptions.from_keywords` for the keywords), after
        stopping a run still going. With ``wait``, returns whether the trainer was built."""
        return self.start_options(TrainingOptions.from_keywords(data, iterations, device, **config), wait)

    def start_options(self, options: TrainingOptions, wait: bool = True) -> bool:
        if self.session.alive:
            self.stop(wait=True)
        self.session.begin()
        self._thread = QtCore.QThread()
        self._thread.setObjectName("frcnn-training")
        self._worker = worker = TrainingWorker(options, options.run_dir())
        worker.moveToThread(self._thread)
        self._thread.started.connect(worker.run)
        worker.finished.connect(self._thread.quit, QtCore.Qt.ConnectionType.DirectConnection)
        worker.started.connect(self._started)
        worker.stepped.connect(self._stepped)
        worker.phase_changed.connect(self._phase_reported)
        worker.checkpoint_saved.connect(self._checkpoint_saved)
        worker.watched.connect(self._watched)
        worker.evaluated.connect(self._evaluated)
        worker.message.connect(self._message)
        worker.failed.connect(self._failed)
        worker.finished.connect(self._finished)
        RUNNING.add(self)
        self._thread.start()
        if self.watch_image is not None:
            self._send("watch", self._watch_key, self.watch_image.tensor)
        if wait:
            self._wait(lambda: self.session.phase != Phase.STARTING)
        return self.session.alive

    def pause(self, wait: bool = True) -> bool:
        """Pause after the current step; with ``wait``, returns once it has (``True`` if paused)."""
        if self.session.phase in (Phase.STARTING, Phase.RUNNING, Phase.STEPPING):
            self._worker.gate.pause()
            self.session.set_phase(Phase.PAUSING)
        if wait:
            self._wait(lambda: self.session.phase in SETTLED)
        return self.session.phase == Phase.PAUSED

    def resume(self) -> None:
        if self.session.phase in (Phase.PAUSING, Phase.PAUSED, Phase.STEPPING):
            self._worker.gate.resume()
            self.session.set_phase(Phase.RUNNING)

    def step(self, n: int = 1, wait: bool = True) -> int:
        """Run ``n`` iterations and pause again (pausing first if running), each one traced and
        shown. With ``wait``, returns once they are done; returns the number done."""
        if not self.session.alive or self.session.phase in (Phase.FINISHED, Phase.STOPPING):
            return 0
        if self.session.phase != Phase.PAUSED and not self.pause(wait=True):
            return 0
        before = self.session.iteration
        target = min(before + max(int(n), 0), self.session.total_iterations)
        if target == before:
            return 0
        self._worker.gate.step(target - before)
        self.session.set_phase(Phase.STEPPING)
        if wait:
            self._wait(lambda: (self.session.iteration >= target and self.session.phase in SETTLED) or not self.session.alive)
        return self.session.iteration - before

    def stop(self, wait: bool = True) -> str | None:
        """Stop after the current step; the thread writes a checkpoint and ends. With ``wait``,
        returns once it has, with the checkpoint's path."""
        if self.session.alive and self.session.phase != Phase.STOPPING:
            self._worker.gate.abort()
            self.session.set_phase(Phase.STOPPING)
        if wait:
            self._wait(lambda: self._thread is None)
        return self.session.checkpoint

    def save_checkpoint(self, path: str | Path | None = None) -> None:
        """Write a checkpoint between two steps (default: the run's ``last.pt``)."""
        self._send("save", None if path is None else str(path))

    def evaluate(self) -> None:
        """Score the current weights on the validation set (mAP); the report comes as ``evaluated``."""
        self._send("evaluate")

    def load_best(self) -> bool:
        """Make the run's ``best.pt`` (the highest val mAP@0.5 so far) the viewer's model;
        ``False`` (and a message) while there is none."""
        path = self.session.best_checkpoint
        if path is None or self.adopt_checkpoint is None:
            self.document.report("warning", "no best checkpoint yet: it is written at the first validation (a run with a validation set)")
            return False
        self.adopt_checkpoint(path)
        best = self.session.validations.best()
        self.document.report("info", f"loaded {path}: val mAP@0.5 {best['map50']:.4f} at iteration {best['iteration']}")
        return True

    def watch(self, image: LoadedImage | None) -> None:
        """Refresh the model's proposals and detections on ``image`` as training goes on (``None``: stop)."""
        self._watch_key += 1
        self.watch_image = image
        self.session.watch = None
        self._send("watch", self._watch_key, None if image is None else image.tensor)

    def open_metrics(self, path: str | Path) -> bool:
        """Show the curves of a run's ``metrics.jsonl`` (or run folder); problems are reported."""
        try:
            rows = read_metrics(path)
            self.session.show_log(rows, str(path))
        except (MetricsLogError, RuntimeError) as exc:
            self.document.report("error", str(exc))
            return False
        self.document.report("info", f"{len(rows)} steps of metrics read from {path}")
        return True

    def state(self) -> TrainingState:
        return self.session.state()

    def shutdown(self, timeout_ms: int = 60_000) -> None:
        """Stop and wait for the thread (blocking: for closing the window)."""
        self.adopt_checkpoint = None
        if self._thread is not None:
            self._worker.gate.abort()
            self._thread.wait(timeout_ms)
        RUNNING.discard(self)

    # ----- worker reports (slots of this object, so that they run in the UI thread) -------
    def _send(self, kind: str, *args) -> None:
        if self._worker is not None and self.session.alive:
            self._worker.gate.submit(Request(kind, args))

    @QtCore.Slot(str)
    def _phase_reported(self, phase: str) -> None:
        self.session.set_phase(phase)

    @QtCore.Slot(str, str)
    def _message(self, level: str, text: str) -> None:
        self.document.report(level, text)

    @QtCore.Slot(object)
    def _started(self, info: TrainingInfo) -> None:
        key = (info.data, len(info.dataset))
        if key not in self._entry_indices:  # list the training images, unless they are listed already
            listed = self.document.listed_indices(info.source)
            if listed is None:
                first = self.document.add_sources([info.source])
                listed = list(range(first, first + len(info.dataset)))
            self._entry_indices[key] = listed
        self.session.started(info)
        self.document.report("info", f"training on {info.device}: {len(info.dataset)} images, {info.settings}; writing to {info.output_dir}")
        problem = class_mismatch(info.detector, self.document.class_names)
        if problem:
            self.document.report("warning", f"the run's model differs from the open images: {problem}")
        self.started.emit(info)

    @QtCore.Slot(object)
    def _stepped(self, snapshot: StepSnapshot) -> None:
        self.session.record(snapshot)
        self.step_finished.emit(snapshot)

    @QtCore.Slot(str)
    def _checkpoint_saved(self, path: str) -> None:
        self.session.set_checkpoint(path)
        if self.adopt_checkpoint is not None and self.session.info is not None:
            self._adopt(path, self.session.info.detector, self.session.info.arch)
        self.checkpoint_saved.emit(path)

    def _adopt(self, path: str, config: DetectorConfig, arch: str | None = None) -> None:
        """Make the run's checkpoint the viewer's model. The first time, the document takes the
        training config at once (after the load is queued, so the worker traces nothing more
        with its old model), and recorded steps can be drawn from the first one on."""
        doc = self.document
        self.adopt_checkpoint(path)
        if doc.model is None or doc.model.config.class_names != config.class_names:
            doc.set_model(ModelInfo(config, path, arch))

    @QtCore.Slot(object)
    def _watched(self, result: WatchResult) -> None:
        if result.key == self._watch_key:
            self.session.set_watch(result)
            self.watch_updated.emit(result)

    @QtCore.Slot(object)
    def _evaluated(self, report: dict) -> None:
        self.session.set_evaluation(report)
        self.document.report(
            "info", f"evaluation at iteration {report['iteration']}: mAP@0.5 {report['map50']:.4f}, COCO AP {report['coco_ap']:.4f} ({report['images']} images)"
        )
        self.evaluated.emit(report)

    @QtCore.Slot(str)
    def _failed(self, text: str) -> None:
        self.session.fail(text)
        self.document.report("error", text)
        self.failed.emit(text)

    @QtCore.Slot()
    def _finished(self) -> None:
        self._thread.wait()
        self._thread.deleteLater()
        self._worker.deleteLater()
        self._thread = self._worker = None
        RUNNING.discard(self)
        self.session.ended()
        self.stopped.emit()

    # ----- session and canvas -----------------------------------------------------------
    def _session_changed(self, aspects: frozenset) -> None:
        if SessionChange.PHASE in aspects:
            self.state_changed.emit(self.session.phase)
        if aspects & {SessionChange.SNAPSHOTS, SessionChange.POSITION}:
            self._show_on_canvas()

    def _document_changed(self, aspects: frozenset) -> None:
        # The viewer's model became the training model: draw the step it could not draw before,
        # once this change is through (the window's trace request for it is then out, and dropped
        # when the step is shown).
        if "model" in aspects and self.session.alive:
            self._show_timer.start(0)

    def _show_on_canvas(self) -> None:
        """Draw the step the timeline points at on the image it trained on."""
        snapshot, info, doc = self.session.shown(), self.session.info, self.document
        if not self.follow or snapshot is None or info is None or doc.trace is snapshot.trace:
            return
        if doc.model is None or tuple(doc.model.config.class_names) != tuple(info.detector.class_names):
            return
        listed = self._entry_indices.get((info.data, len(info.dataset)))
        if listed is None:
            return
        index = listed[snapshot.image_index]
        image = training_image(doc.entries[index], snapshot.pixels, snapshot.flipped, snapshot.gt_boxes, snapshot.gt_labels)
        doc.show_trace(index, snapshot.trace, image, snapshot.trace.anchor_assignment())

    def _wait(self, done: Callable[[], bool], timeout_ms: int = WAIT_TIMEOUT_MS) -> bool:
        """Run the event loop until ``done()`` (checked at each session change) or the timeout."""
        if done():
            return True
        loop = QtCore.QEventLoop()
        timer = QtCore.QTimer(loop)
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        timer.start(timeout_ms)

        def check(_aspects: frozenset) -> None:
            if done():
                loop.quit()

        self.session.changed.connect(check)
        try:
            loop.exec()
        finally:
            self.session.changed.disconnect(check)
        return done()

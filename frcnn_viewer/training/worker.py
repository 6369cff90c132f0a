"""The training thread: a worker that owns the :class:`~frcnn_core.train.Trainer` and drives it.

:meth:`TrainingWorker.run` builds the trainer, then pulls one step at a time from
:func:`~.loop.training_steps`, asking the :class:`~.loop.StepGate` before each one whether
to go on, wait (paused, or all iterations done), serve a request or stop. Requests (save a
checkpoint, evaluate, set the watch image) are served here, between two steps, so nothing
else ever touches the model: the watch image and the evaluation switch it to eval mode and
back in this thread only. Everything sent to the UI is a CPU copy. A stop (or closing
the window) ends the loop after the current step and writes a checkpoint; a NaN loss or
an out-of-memory error ends it with a message, leaving the last checkpoint as it was.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from PySide6 import QtCore

from frcnn_core.evaluation.scoring import score_detections
from frcnn_core.inference import predict_dataset
from frcnn_core.models.torchvision_frcnn import TorchvisionFasterRCNN
from frcnn_core.train import NonFiniteLossError, Trainer, describe_device

from ..state.sources import Source
from ..state.training.loop import ABORT, SINGLE_STEP, Request, StepGate, is_out_of_memory, training_steps
from ..state.training.options import (
    TrainingOptions,
    build_trainer,
    describe_settings,
    open_training_data,
    open_validation_data,
    previous_metrics,
    validation_set,
)
from ..state.training.session import TrainingInfo, WatchResult
from ..state.training.snapshots import snapshot_of

log = logging.getLogger(__name__)


class TrainingWorker(QtCore.QObject):
    """Trains in the thread it is moved to; the UI steers it through :attr:`gate`.

    Signals (all queued to the UI, all carrying CPU data):
        started(TrainingInfo); stepped(StepSnapshot); phase_changed(str) (see
        :class:`~.loop.StepGate`); checkpoint_saved(str path); watched(WatchResult);
        evaluated(dict report); message(level, text); failed(text): training stopped on an
        error; finished(): the loop is over (after its last checkpoint).
    """

    started = QtCore.Signal(object)
    stepped = QtCore.Signal(object)
    phase_changed = QtCore.Signal(str)
    checkpoint_saved = QtCore.Signal(str)
    watched = QtCore.Signal(object)
    evaluated = QtCore.Signal(object)
    message = QtCore.Signal(str, str)
    failed = QtCore.Signal(str)
    finished = QtCore.Signal()

    def __init__(self, options: TrainingOptions, output_dir: Path) -> None:
        super().__init__()
        self.options = options
        self.output_dir = output_dir
        self.gate = StepGate(self.phase_changed.emit)
        self._single = False  # the step under way is one the user asked for while paused
        self._first = 0  # the first iteration this worker trains
        self._watch: tuple[int, torch.Tensor] | None = None
        self._validation = None
        self._trainer: Trainer | None = None

    @QtCore.Slot()
    def run(self) -> None:
        trainer = None
        try:
            dataset = open_training_data(self.options)
            trainer = build_trainer(self.options, dataset, self.output_dir, self.message.emit, validation_set(self.options, dataset))
            self._trainer = trainer
            self._first = trainer.iteration + 1
            previous = previous_metrics(self.output_dir, trainer.iteration) if self.options.resume else []
            if trainer.last_checkpoint is None:
                trainer.save_checkpoint()  # iteration 0: the viewer's model follows the run from the start
            source = Source(f"{self.options.data} (training)", dataset, annotated=True)
            source.prepare()  # the list's catalogue, here rather than in the GUI thread
            self.started.emit(TrainingInfo(
                describe_device(trainer.device), dataset, self.options.data, tuple(dataset.class_names), trainer.model.config,
                trainer.config, trainer.iteration, self.output_dir, describe_settings(trainer), source, previous,
                trainer.model.arch.value if isinstance(trainer.model, TorchvisionFasterRCNN) else None,
            ))
            self.checkpoint_saved.emit(str(trainer.last_checkpoint))
            self._train(trainer)
            self._save(trainer, None)
        except NonFiniteLossError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # out of memory, unreadable data, bad checkpoint: stop, keep the app
            self.failed.emit(self._failure(exc, trainer))
        finally:
            self.finished.emit()

    def _train(self, trainer: Trainer) -> None:
        steps = training_steps(trainer, self._want_trace)
        while True:
            action = self.gate.next_action(can_step=not trainer.done)
            if action == ABORT:
                return
            if isinstance(action, Request):
                self._serve(trainer, action)
                continue
            self._single = action == SINGLE_STEP
            result = next(steps)
            self.stepped.emit(snapshot_of(result, trainer.dataset))
            if result.checkpoint is not None:
                self.checkpoint_saved.emit(str(result.checkpoint))
            if self._watch is not None and (self._single or result.iteration % self.options.watch_every == 0):
                self._predict_watch(trainer)

    def _want_trace(self, iteration: int) -> bool:
        """Traced: a step asked for, the first, every ``trace_every``-th, and each one the
        trainer validates after (so the timeline holds every validation)."""
        return self._single or iteration == self._first or iteration % self.options.trace_every == 0 or self._validates(iteration)

    def _validates(self, iteration: int) -> bool:
        trainer = self._trainer
        if trainer is None or trainer.val_dataset is None:
            return False
        return iteration % trainer.validation_interval == 0 or iteration == trainer.config.iterations

    # ----- requests, served between two steps -------------------------------------------
    def _serve(self, trainer: Trainer, request: Request) -> None:
        try:
            if request.kind == "save":
                self._save(trainer, *request.args)
            elif request.kind == "watch":
                key, image = request.args
                self._watch = None if image is None else (key, image)
                if self._watch is not None:
                    self._predict_watch(trainer)
            elif request.kind == "evaluate":
                self._evaluate(trainer)
            else:
                raise ValueError(f"unknown request {request.kind!r}")
        except Exception as exc:  # a failed request never stops training
            log.exception("training request %s failed", request.kind)
            if is_out_of_memory(exc):
                _free_memory(trainer.device)
            self.message.emit("error", f"{request.kind} failed: {exc}")

    def _save(self, trainer: Trainer, path: str | None) -> None:
        written = trainer.save_checkpoint(path)
        self.checkpoint_saved.emit(str(written))

    def _predict_watch(self, trainer: Trainer) -> None:
        """Proposals and detections on the watch image, in eval mode, then back to train mode."""
        key, image = self._watch
        model = trainer.model
        model.eval()
        try:
            trace = model.trace(image.to(trainer.device))
        finally:
            model.train()
        self.watched.emit(WatchResult(key, trainer.iteration, trace))

    def _evaluate(self, trainer: Trainer) -> None:
        if self._validation is None:
            self._validation = open_validation_data(self.options)
        val = self._validation
        self.message.emit("info", f"evaluating iteration {trainer.iteration} on {len(val)} validation images…")
        detections = predict_dataset(trainer.model, val, batch_size=trainer.config.batch_size, device=trainer.device)
        report = score_detections(detections, val)
        report["iteration"] = trainer.iteration
        self.evaluated.emit(report)

    def _failure(self, exc: Exception, trainer: Trainer | None) -> str:
        if trainer is None:
            log.info("training could not start", exc_info=True)
            return f"training could not start: {exc}"
        kept = f" The last checkpoint is {trainer.last_checkpoint}." if trainer.last_checkpoint else ""
        if is_out_of_memory(exc):
            _free_memory(trainer.device)
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return (
                f"out of memory on {describe_device(trainer.device)} at iteration {trainer.iteration + 1}: training stopped. "
                f"Lower the batch size or the image size.{kept} ({first_line})"
            )
        log.exception("training stopped")
        return f"training stopped at iteration {trainer.iteration + 1}: {type(exc).__name__}: {exc}.{kept}"


def _free_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()

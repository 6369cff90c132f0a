"""Inference off the GUI thread: a worker that owns the detector, and its GUI-side client.

The :class:`InferenceWorker` lives in its own ``QThread`` and is the only code that
touches the model; it receives requests through queued signals and answers with CPU
copies (traces, detections). The model's settings change only through ``model.reconfigure``
(the staged trace and the window are told of each change: ``reconfigured``). It also adds
up what the list's diagnoses say each error costs
(:func:`frcnn_core.evaluation.diagnose.error_costs`), which takes long on a big list. The
:class:`InferenceClient` lives in the GUI thread,
sends requests and knows whether work is outstanding (``busy``), so the window never
waits on the model.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import deque
from dataclasses import dataclass

import torch
from PySide6 import QtCore

from frcnn_core import DetectorConfig, FasterRCNN
from frcnn_core.evaluation.diagnose import ImageDiagnosis, error_costs
from frcnn_core.models.checkpoint import load_checkpoint
from frcnn_core.models.reconfigure import ConfigChange, reconfigure_to
from frcnn_core.models.torchvision_frcnn import TorchvisionFasterRCNN
from frcnn_core.trace.staged import StagedTrace

from .annotation.model.issues import READ_ERRORS, TruthSource, issues_of_image
from .running_threads import RUNNING
from .state.diagnosis import DiagnosisSettings, diagnose_image
from .state.models import ModelInfo, TraceRequest, names_for_unnamed, untrained_config
from .state.results import image_result
from .state.sources import ImageEntry, ImageLoadError, load_image

log = logging.getLogger(__name__)

UNTRAINED_SEED = 0
# the anchor and RoI samples of a traced image are drawn from this seed: an image shows the same
# samples whatever parameter changes came before
TRACE_SEED = 0

@dataclass
class _IssueSearch:
    """A search for label issues in progress: its key, the images left, the settings."""

    key: int
    sources: deque[TruthSource]
    config_changes: dict
    settings: DiagnosisSettings


class InferenceWorker(QtCore.QObject):
    """Holds the model; every slot runs in the worker thread and ends with ``finished`` (a search
    for label issues once its last image is done)."""

    model_ready = QtCore.Signal(object)  # ModelInfo
    traced = QtCore.Signal(int, object)  # request key, Trace
    predicted = QtCore.Signal(int, object)  # results key, {entry index: ImageResult}
    costed = QtCore.Signal(int, object)  # request key, ErrorCosts
    progress = QtCore.Signal(int, int)  # done, total
    reconfigured = QtCore.Signal(object)  # ConfigChange (plain data): the model's settings changed
    failed = QtCore.Signal(str)
    finished = QtCore.Signal()
    issues_found = QtCore.Signal(int, object)  # search key, the issues of one image (list[Issue])
    issues_done = QtCore.Signal(int)  # search key
    _next_issue_image = QtCore.Signal(int)  # to this worker itself, queued: the next image of search key

    def __init__(self) -> None:
        super().__init__()
        self._model: FasterRCNN | None = None
        self._info: ModelInfo | None = None
        self.latest_trace_key = 0  # set by the client: older trace requests are skipped
        self.latest_costs_key = 0  # set by the client: older costs requests are skipped
        self.cancel = threading.Event()
        self._staged: StagedTrace | None = None  # the current image's stages, re-run in part on a parameter change
        self._search: _IssueSearch | None = None
        self._next_issue_image.connect(self._search_next_image, QtCore.Qt.ConnectionType.QueuedConnection)

    @QtCore.Slot(object)
    def use_untrained(self, class_names: tuple[str, ...]) -> None:
        """Build the randomly initialised light model for these classes (seeded: same weights every
        run). A loaded checkpoint is kept (the window warns about classes it does not know); one
        whose file named no classes takes these when they are as many as its own."""
        try:
            if self._info is not None and self._info.trained:
                if self._info.unnamed_file:
                    self._name_classes(tuple(class_names))
                return
            config = untrained_config(class_names)
            with torch.random.fork_rng():
                torch.manual_seed(UNTRAINED_SEED)
                model = FasterRCNN(config).eval()
            self._set_model(model, ModelInfo(config))
        except Exception as exc:  # report, keep the previous model
            log.exception("building the untrained model failed")
            self.failed.emit(f"could not build the untrained model: {exc}")
        finally:
            self.finished.emit()

    @QtCore.Slot(str, object, object)
    def load_checkpoint(self, path: str, arch: str | None, class_names: tuple[str, ...]) -> None:
        """Load a checkpoint, ours or a torchvision Faster R-CNN's file (``arch``: its builder, or
        ``None`` to find it from the file), whatever its classes: GT is matched to its detections
        by class name (:class:`~frcnn_viewer.state.models.ClassMatch`; the window warns about the
        ones it lacks). A file without class names takes the open images' ``class_names`` when
        it has as many classes (:func:`~frcnn_viewer.state.models.names_for_unnamed`)."""
        try:
            model, payload = load_checkpoint(path, arch=arch)
            unnamed = not model.config.class_names
            notes = []
            if "torchvision" in payload:  # which architecture it took and why; its class names when the file had them
                found = payload["torchvision"]
                notes = [found.arch_note] + ([] if unnamed else [found.class_names_note])
            if unnamed:
                names, note = names_for_unnamed(model.config.num_classes, class_names)
                if names:
                    model.reconfigure(class_names=names)
                notes.append(note)
            if isinstance(model, TorchvisionFasterRCNN):
                info = ModelInfo(model.config, str(path), model.arch.value, tuple(notes), model.fixed_fields, unnamed)
            else:
                info = ModelInfo(model.config, str(path), notes=tuple(notes), unnamed_file=unnamed)
            self._set_model(model.eval(), info)
        except Exception as exc:  # CheckpointError, OSError, torch errors: all mean "not loaded"
            self.failed.emit(f"checkpoint not loaded, keeping the current model: {exc}")
        finally:
            self.finished.emit()

    def _name_classes(self, class_names: tuple[str, ...]) -> None:
        """Give the loaded model, whose file named no classes, the open images' ``class_names``
        (when they fit and differ from what it has): its labels keep their order."""
        names, note = names_for_unnamed(self._model.config.num_classes, class_names)
        if names and names != self._model.config.class_names:
            self._model.reconfigure(class_names=names)
            self._set_model(self._model, dataclasses.replace(self._info, config=self._model.config, notes=(note,)))

    def _set_model(self, model: FasterRCNN, info: ModelInfo) -> None:
        self._model, self._info = model, info
        self._staged = None
        model.reconfigured.connect(self._model_reconfigured)  # held weakly by the model
        self.model_ready.emit(info)

    def _model_reconfigured(self, change: ConfigChange) -> None:
        """The model says its settings changed: tell the window (the kept stages are told too)."""
        self.reconfigured.emit(change)

    @QtCore.Slot(object)
    def trace(self, request: TraceRequest) -> None:
        """Trace one image with the request's proposal settings; stale requests are skipped.

        The stages of the current image are kept: a request that changes only parameters
        re-runs the stages after the earliest one they affect (a detection NMS change only
        the post-processing), a new image, target or model starts afresh."""
        try:
            if self._model is None or request.key < self.latest_trace_key:
                return
            trace = self._staged_trace(request).trace(request_config(self._info, request))
            self.traced.emit(request.key, trace)
        except Exception as exc:
            log.exception("trace failed")
            self.failed.emit(f"inference failed: {exc}")
        finally:
            self.finished.emit()

    def _staged_trace(self, request: TraceRequest) -> StagedTrace:
        """The kept stages if they are of the request's image and target and the current model,
        else new ones."""
        staged = self._staged
        if (
            staged is None
            or staged.model is not self._model
            or not _same_tensor(staged.image, request.image)
            or not _same_target(staged.target, request.target)
        ):
            staged = self._staged = StagedTrace(self._model, request.image, request.target, seed=TRACE_SEED)
        return staged

    @QtCore.Slot(int, object, object, object)
    def predict(self, key: int, entries: list[tuple[int, ImageEntry]], config_changes: dict, diagnosis: DiagnosisSettings) -> None:
        """Detect on every ``(index, entry)``, reporting ``progress``; stops early on ``cancel``.
        Each image is traced once: the trace's detections are the result's, and the result's
        diagnosis (at ``diagnosis``) is made from the same trace, here in the worker thread.
        The results go out with ``key``, so the document can tell stale ones."""
        results = {}
        try:
            if self._model is None:
                return
            reconfigure_to(self._model, self._info.config.replace(**config_changes))
            for done, (index, entry) in enumerate(entries, start=1):
                if self.cancel.is_set():
                    break
                try:
                    image = load_image(entry)
                except ImageLoadError as exc:
                    self.failed.emit(str(exc))
                    continue
                trace = self._model.trace(image.tensor)
                result = results[index] = image_result(image, trace.detections.map(lambda t: t.detach().cpu()), self._info.config)
                result.diagnosis = diagnose_image(image, trace, self._info.config, diagnosis)
                self.progress.emit(done, len(entries))
        except Exception as exc:
            log.exception("prediction failed")
            self.failed.emit(f"inference failed: {exc}")
        finally:
            self.predicted.emit(key, results)
            self.finished.emit()


    @QtCore.Slot(int, object)
    def error_costs(self, key: int, diagnoses: list[ImageDiagnosis]) -> None:
        """What fixing each error type and each stage's misses is worth over ``diagnoses`` (plain
        objects the GUI no longer changes); requests older than the newest are skipped."""
        try:
            if key < self.latest_costs_key:
                return
            self.costed.emit(key, error_costs(diagnoses))
        except Exception as exc:
            log.exception("error costs failed")
            self.failed.emit(f"error costs failed: {exc}")
        finally:
            self.finished.emit()

    @QtCore.Slot(int, object, object, object)
    def find_issues(self, key: int, sources: list[TruthSource], config_changes: dict, settings: DiagnosisSettings) -> None:
        """Search ``sources`` for label issues (:func:`~.annotation.model.issues.issues_of_image`),
        one image per turn of this thread's event loop, so that the trace of the image shown is
        answered between two images instead of after the whole set. Each image's issues go out
        with ``key``, then ``issues_done(key)``; a newer search (or ``cancel``) ends this one."""
        self._end_search()
        self._search = _IssueSearch(key, deque(sources), dict(config_changes), settings)
        self._next_issue_image.emit(key)

    @QtCore.Slot(int)
    def _search_next_image(self, key: int) -> None:
        search = self._search
        if search is None or search.key != key:  # the step of a search a newer one ended
            return
        if self.cancel.is_set() or not search.sources or self._model is None or not self._info.trained:
            self._end_search()
            return
        source = search.sources.popleft()
        issues = []
        try:
            reconfigure_to(self._model, self._info.config.replace(**search.config_changes))
            issues = issues_of_image(source, self._model, self._model.config, search.settings.iou, search.settings.score_threshold)
        except READ_ERRORS as exc:
            self.failed.emit(f"label issues: {exc}")
        except Exception as exc:  # one image's failure must not end the search or the thread
            log.exception("finding label issues failed")
            self.failed.emit(f"label issues of {source.entry.name} not found: {exc}")
        self.issues_found.emit(search.key, issues)
        self._next_issue_image.emit(search.key)

    def _end_search(self) -> None:
        if self._search is not None:
            key, self._search = self._search.key, None
            self.issues_done.emit(key)
            self.finished.emit()


def request_config(info: ModelInfo, request: TraceRequest) -> DetectorConfig:
    """The detector configuration a trace request asks for: the model's own with the request's changes."""
    return info.config.replace(**request.config_changes)


def _same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a is b or (a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b))


def _same_target(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is b
    return _same_tensor(a["boxes"], b["boxes"]) and _same_tensor(a["labels"], b["labels"])


class InferenceClient(QtCore.QObject):
    """GUI-side handle on the worker thread. ``busy_changed(bool)`` tells when work is outstanding."""

    busy_changed = QtCore.Signal(bool)
    _untrained = QtCore.Signal(object)
    _checkpoint = QtCore.Signal(str, object, object)
    _trace = QtCore.Signal(object)
    _predict = QtCore.Signal(int, object, object, object)
    _costs = QtCore.Signal(int, object)
    _find_issues = QtCore.Signal(int, object, object, object)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QtCore.QThread()
        self.thread.setObjectName("frcnn-inference")
        self.worker = InferenceWorker()
        self.worker.moveToThread(self.thread)
        self._untrained.connect(self.worker.use_untrained)
        self._checkpoint.connect(self.worker.load_checkpoint)
        self._trace.connect(self.worker.trace)
        self._predict.connect(self.worker.predict)
        self._costs.connect(self.worker.error_costs)
        self._find_issues.connect(self.worker.find_issues)
        self.worker.finished.connect(self._job_finished)
        self.worker.predicted.connect(self._predicted)
        self._pending = 0
        self._predicting = 0
        self.thread.start()
        RUNNING.add(self)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    @property
    def predicting(self) -> bool:
        """Whether an "analyse all" job is queued or running."""
        return self._predicting > 0

    def use_untrained(self, class_names: tuple[str, ...]) -> None:
        self._send(self._untrained, tuple(class_names))

    def load_checkpoint(self, path: str, arch: str | None = None, class_names: tuple[str, ...] = ()) -> None:
        self._send(self._checkpoint, str(path), arch, tuple(class_names))

    def trace(self, request: TraceRequest) -> None:
        self.worker.latest_trace_key = request.key
        self._send(self._trace, request)

    def predict(self, key: int, entries: list[tuple[int, ImageEntry]], config_changes: dict, diagnosis: DiagnosisSettings = DiagnosisSettings()) -> None:
        self.worker.cancel.clear()
        self._predicting += 1
        self._send(self._predict, key, entries, config_changes, diagnosis)

    def error_costs(self, key: int, diagnoses: list[ImageDiagnosis]) -> None:
        """Cost the diagnoses in the worker; the answer comes with ``key`` (``worker.costed``)."""
        self.worker.latest_costs_key = key
        self._send(self._costs, key, diagnoses)

    def find_issues(self, key: int, sources: list[TruthSource], config_changes: dict, settings: DiagnosisSettings = DiagnosisSettings()) -> None:
        """Search ``sources`` for label issues (``worker.issues_found`` per image, then ``worker.issues_done``)."""
        self.worker.cancel.clear()
        self._send(self._find_issues, key, list(sources), dict(config_changes), settings)

    def _predicted(self, _key: int, _results: dict) -> None:
        self._predicting -= 1

    def cancel(self) -> None:
        """Stop a running "analyse all" after the current image."""
        self.worker.cancel.set()

    def _send(self, signal: QtCore.SignalInstance, *args) -> None:
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        signal.emit(*args)

    def _job_finished(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop the thread once its current job ends (called when the window closes)."""
        self.cancel()
        self.thread.quit()
        self.thread.wait(timeout_ms)
        RUNNING.discard(self)

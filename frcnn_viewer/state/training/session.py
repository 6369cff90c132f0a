"""The training dock's state: phase, curves, recorded steps, timeline, watch image, evaluation.

Plain Python (napari's model/view split): the controller feeds it what the training
thread reports; the dock observes :attr:`TrainingSession.changed`, emitted with a frozenset
of :class:`~.phases.SessionChange` members. The run's phase is a :class:`~.phases.Phase`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from frcnn_core import DetectorConfig, Trace
from frcnn_core.train import TrainConfig

from ..events import Event
from ..sources import Source
from .history import MetricHistory, ValidationHistory, split_rows
from .phases import ADVANCING, ALIVE, Phase, SessionChange
from .snapshots import SnapshotBuffer, StepSnapshot


@dataclass(frozen=True)
class TrainingInfo:
    """What the training thread built: sent once, before the first step.

    ``dataset`` is the training set (the UI only reads images from it) and ``source`` the same
    images as the image list takes them, catalogued in the training thread; ``previous`` holds
    the metrics already logged by a resumed run, up to ``start_iteration``.
    """

    device: str
    dataset: object
    data: str
    class_names: tuple[str, ...]
    detector: DetectorConfig
    train: TrainConfig
    start_iteration: int
    output_dir: Path
    settings: str
    source: Source
    previous: list[dict] = field(default_factory=list)
    arch: str | None = None  # the torchvision builder of a fine-tuned torchvision model


@dataclass(frozen=True)
class WatchResult:
    """The model's proposals and detections on the watch image after ``iteration`` (eval mode)."""

    key: int
    iteration: int
    trace: Trace


@dataclass(frozen=True)
class TrainingState(Mapping):
    """A snapshot of the session for scripts and tests, also a read-only mapping
    (``state["iteration"]``, ``"paused" in state``, ``dict(state)``).

    ``running``: training advances (starting, running or stepping); ``paused``: it waits for
    the user; ``alive``: a training thread exists. ``loss_history`` maps ``iteration``, the
    five losses, ``lr``, ``seconds`` and the sampling statistics to lists (``losses`` is the
    same mapping).
    """

    phase: Phase
    iteration: int
    total_iterations: int
    running: bool
    paused: bool
    alive: bool
    device: str
    loss_history: dict[str, list[float]]
    validations: list[dict]
    best_checkpoint: str | None
    recorded: list[int]
    checkpoint: str | None
    output_dir: str | None
    message: str | None

    @property
    def losses(self) -> dict[str, list[float]]:
        return self.loss_history

    def __getitem__(self, key: str):
        if key not in STATE_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(STATE_KEYS)

    def __len__(self) -> int:
        return len(STATE_KEYS)


STATE_KEYS = (*(f.name for f in fields(TrainingState)), "losses")


class TrainingSession:
    """Everything the dock shows about one run (see the module docstring)."""

    def __init__(self, buffer: SnapshotBuffer | None = None, history: MetricHistory | None = None) -> None:
        self.snapshots = buffer if buffer is not None else SnapshotBuffer()
        self.history = history if history is not None else MetricHistory()
        self.validations = ValidationHistory()
        self.changed = Event()
        self.phase = Phase.IDLE
        self.info: TrainingInfo | None = None
        self.iteration = 0
        self.position: int | None = None  # timeline position in `snapshots`; None follows the newest
        self.watch: WatchResult | None = None
        self.evaluation: dict | None = None
        self.checkpoint: str | None = None
        self.message: str | None = None
        self.source: str | None = None  # the metrics log shown, when not training

    # ----- lifecycle ------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.phase in ALIVE

    def begin(self) -> None:
        """A new run is being built: forget the previous one."""
        self.history.clear()
        self.validations.clear()
        self.snapshots.clear()
        self.info = self.watch = self.evaluation = self.checkpoint = self.message = self.source = None
        self.iteration, self.position = 0, None
        self._set(Phase.STARTING, {SessionChange.HISTORY, SessionChange.SNAPSHOTS, SessionChange.POSITION, SessionChange.WATCH, SessionChange.EVALUATION, SessionChange.CHECKPOINT, SessionChange.MESSAGE})

    def started(self, info: TrainingInfo) -> None:
        self.info = info
        self.iteration = info.start_iteration
        steps, validations = split_rows(info.previous)
        self.history.extend(steps)
        self.validations.extend(validations)
        self.changed.emit(frozenset({SessionChange.INFO, SessionChange.HISTORY}))

    def set_phase(self, phase: Phase | str) -> None:
        """A phase the training thread reported, or one the UI entered (pausing, stopping)."""
        if self.phase in (Phase.FAILED, Phase.STOPPED) and phase != Phase.STARTING:
            return  # late reports of a thread that has ended
        if phase == Phase.PAUSED and self.phase == Phase.STOPPING:
            return
        self._set(phase)

    def fail(self, text: str) -> None:
        self.message = text
        self._set(Phase.FAILED, {SessionChange.MESSAGE})

    def ended(self) -> None:
        """The training thread has finished (after its last checkpoint)."""
        if self.phase != Phase.FAILED:
            self._set(Phase.STOPPED)

    def _set(self, phase: Phase, aspects: set[SessionChange] = frozenset()) -> None:
        self.phase = Phase(phase)
        self.changed.emit(frozenset({SessionChange.PHASE, *aspects}))

    # ----- steps ----------------------------------------------------------------------
    def record(self, snapshot: StepSnapshot) -> None:
        """One finished iteration: its metrics join the curves, a traced one the timeline."""
        self.iteration = snapshot.iteration
        self.history.append(snapshot.metrics())
        aspects = {SessionChange.STEP}
        if snapshot.validation is not None:
            self.validations.append(snapshot.validation.record())
            aspects.add(SessionChange.VALIDATION)
        if snapshot.trace is not None:
            dropped = self.snapshots.append(snapshot)
            aspects.add(SessionChange.SNAPSHOTS)
            if self.position is not None and dropped:  # keep pointing at the same step while it is kept
                self.position = max(self.position - dropped, 0)
                aspects.add(SessionChange.POSITION)
        self.changed.emit(frozenset(aspects))

    def scrub(self, position: int | None) -> None:
        """Show recorded step ``position`` (0 = oldest kept); ``None`` follows the newest."""
        if position is not None:
            if not len(self.snapshots):
                return
            position = min(max(int(position), 0), len(self.snapshots) - 1)
            if position == len(self.snapshots) - 1:
                position = None
        if position != self.position:
            self.position = position
            self.changed.emit(frozenset({SessionChange.POSITION}))

    def shown(self) -> StepSnapshot | None:
        """The recorded step the timeline points at (the newest when following)."""
        if not len(self.snapshots):
            return None
        return self.snapshots[-1 if self.position is None else self.position]

    # ----- results --------------------------------------------------------------------
    def set_watch(self, result: WatchResult) -> None:
        self.watch = result
        self.changed.emit(frozenset({SessionChange.WATCH}))

    def set_evaluation(self, report: dict) -> None:
        self.evaluation = report
        self.changed.emit(frozenset({SessionChange.EVALUATION}))

    def set_checkpoint(self, path: str) -> None:
        self.checkpoint = path
        self.changed.emit(frozenset({SessionChange.CHECKPOINT}))

    def show_log(self, rows: list[dict], source: str) -> None:
        """Show a finished run's curves (from its ``metrics.jsonl``); refused while training."""
        if self.alive:
            raise RuntimeError("stop training before opening another run's metrics")
        steps, validations = split_rows(rows)
        self.history.clear()
        self.history.extend(steps)
        self.validations.clear()
        self.validations.extend(validations)
        self.snapshots.clear()
        self.info, self.position, self.source = None, None, source
        self.iteration = int(rows[-1]["iteration"]) if rows else 0
        self.changed.emit(frozenset({SessionChange.HISTORY, SessionChange.SNAPSHOTS, SessionChange.POSITION, SessionChange.INFO, SessionChange.VALIDATION}))

    @property
    def best_checkpoint(self) -> str | None:
        """``best.pt`` of the run shown, once a validation wrote it (the highest val mAP@0.5)."""
        if self.info is not None:
            folder = Path(self.info.output_dir)
        elif self.source is not None:
            folder = Path(self.source) if Path(self.source).is_dir() else Path(self.source).parent
        else:
            return None
        if self.validations.best() is None:
            return None
        path = Path(folder) / "best.pt"
        return str(path) if path.is_file() else None

    # ----- numbers --------------------------------------------------------------------
    @property
    def total_iterations(self) -> int:
        return self.info.train.iterations if self.info is not None else self.iteration

    def iterations_per_second(self, window: int = 20) -> float:
        """From the trainer's time of the last ``window`` steps (pauses do not count)."""
        seconds = self.history.column("seconds")[-window:]
        seconds = seconds[np.isfinite(seconds)]
        return float(1.0 / seconds.mean()) if len(seconds) and seconds.mean() > 0 else float("nan")

    def eta_seconds(self) -> float:
        """Time left to the last iteration at the current speed (NaN when unknown)."""
        speed = self.iterations_per_second()
        left = self.total_iterations - self.iteration
        return left / speed if speed > 0 else float("nan")

    def state(self) -> TrainingState:
        return TrainingState(
            phase=self.phase,
            iteration=self.iteration,
            total_iterations=self.total_iterations,
            running=self.phase in ADVANCING,
            paused=self.phase == Phase.PAUSED,
            alive=self.alive,
            device=self.info.device if self.info is not None else "",
            loss_history=self.history.to_dict(),
            validations=list(self.validations.rows),
            best_checkpoint=self.best_checkpoint,
            recorded=self.snapshots.iterations(),
            checkpoint=self.checkpoint,
            output_dir=str(self.info.output_dir) if self.info is not None else None,
            message=self.message,
        )

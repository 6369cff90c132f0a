"""The training loop as a generator, and the gate the UI uses to pause, step and stop it.

As in napari's generator workers, the work is a generator that yields once per unit
(:func:`training_steps`: one ``Trainer.step`` per ``next``), and the thread that drives it
asks a :class:`StepGate` before each unit whether to go on, wait, serve a request or stop.
The gate is the only state the UI thread and the training thread share; it is guarded by
one condition variable. No Qt here.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from frcnn_core.train import StepResult, Trainer

from .phases import Phase

# What the gate tells the training thread to do next (besides a request to serve).
STEP = "step"  # one step while running
SINGLE_STEP = "single_step"  # one of the steps the user asked for while paused
ABORT = "abort"



def training_steps(trainer: Trainer, want_trace: Callable[[int], bool]) -> Iterator[StepResult]:
    """Yield one trainer step at a time until the run is done; ``want_trace(iteration)``
    says whether the step that will complete ``iteration`` records a trace."""
    while not trainer.done:
        yield trainer.step(trace=want_trace(trainer.iteration + 1))


@dataclass(frozen=True)
class Request:
    """Work for the training thread between two steps: ``kind`` and its arguments."""

    kind: str
    args: tuple = ()


class StepGate:
    """Pause, resume, step ``n``, abort and requests, from any thread, for one loop.

    The loop calls :meth:`next_action` before each step. ``report(phase)`` is called (in the
    loop's thread) whenever the phase changes: ``running``, ``stepping`` (paused, doing the
    steps asked for), ``paused`` (waiting) or ``finished`` (nothing left to train, waiting
    for requests or the end).
    """

    def __init__(self, report: Callable[[Phase], None] = lambda phase: None, paused: bool = False) -> None:
        self._condition = threading.Condition()
        self._report = report
        self._paused = paused
        self._budget = 0
        self._aborted = False
        self._requests: deque[Request] = deque()
        self.phase: Phase | None = None

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def aborted(self) -> bool:
        return self._aborted

    def pause(self) -> None:
        with self._condition:
            self._paused, self._budget = True, 0

    def resume(self) -> None:
        with self._condition:
            self._paused, self._budget = False, 0
            self._condition.notify_all()

    def step(self, n: int = 1) -> None:
        """Allow ``n`` more steps while paused."""
        with self._condition:
            self._budget += max(int(n), 0)
            self._condition.notify_all()

    def abort(self) -> None:
        with self._condition:
            self._aborted = True
            self._condition.notify_all()

    def submit(self, request: Request) -> None:
        with self._condition:
            self._requests.append(request)
            self._condition.notify_all()

    def next_action(self, can_step: bool) -> str | Request:
        """Block until there is something to do: :data:`ABORT`, a :class:`Request` (served
        before any further step), :data:`STEP` or :data:`SINGLE_STEP`. ``can_step`` is
        false once the run is done."""
        with self._condition:
            while True:
                if self._aborted:
                    return ABORT
                if self._requests:
                    return self._requests.popleft()
                if can_step and not self._paused:
                    self._enter(Phase.RUNNING)
                    return STEP
                if can_step and self._budget > 0:
                    self._budget -= 1
                    self._enter(Phase.STEPPING)
                    return SINGLE_STEP
                self._enter(Phase.PAUSED if can_step else Phase.FINISHED)
                self._condition.wait()

    def _enter(self, phase: Phase) -> None:
        if phase != self.phase:
            self.phase = phase
            self._report(phase)


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA's ``OutOfMemoryError`` or an allocator's "out of memory" ``RuntimeError`` (MPS, CPU)."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "not enough memory" in text)

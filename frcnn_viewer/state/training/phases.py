"""The phases of a training run and what changed in the training session, as enums.

A :class:`Phase` is also its string (``Phase.PAUSED == "paused"``, hashed alike), so the
scripting API's ``training_state()["phase"] == "paused"`` reads naturally; the code uses
the members, so a typo is an ``AttributeError``, not a comparison that is never true.
"""

from __future__ import annotations

from enum import Enum


class Phase(str, Enum):
    """``idle`` (nothing yet), ``starting`` (building the trainer), ``running``, ``pausing``
    (asked, the current step is finishing), ``paused``, ``stepping`` (paused, doing the steps
    asked for), ``finished`` (all iterations done; the thread still serves checkpoints,
    evaluation and the watch image), ``stopping``, ``stopped``, ``failed``."""

    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    STEPPING = "stepping"
    FINISHED = "finished"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"

    __hash__ = str.__hash__

    def __str__(self) -> str:
        return self.value


ALIVE = frozenset({Phase.STARTING, Phase.RUNNING, Phase.PAUSING, Phase.PAUSED, Phase.STEPPING, Phase.FINISHED, Phase.STOPPING})
ADVANCING = frozenset({Phase.STARTING, Phase.RUNNING, Phase.PAUSING, Phase.STEPPING})
SETTLED = frozenset({Phase.PAUSED, Phase.FINISHED, Phase.STOPPED, Phase.FAILED, Phase.IDLE})


class SessionChange(Enum):
    """What changed in a :class:`~.session.TrainingSession`."""

    PHASE = "phase"
    INFO = "info"  # what the training thread built
    STEP = "step"  # a new iteration
    HISTORY = "history"  # the curves were replaced
    SNAPSHOTS = "snapshots"
    POSITION = "position"  # the timeline moved
    WATCH = "watch"
    EVALUATION = "evaluation"
    VALIDATION = "validation"  # a validation was added (or the validations replaced)
    CHECKPOINT = "checkpoint"
    MESSAGE = "message"

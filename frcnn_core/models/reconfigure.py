"""A model's settings change through one method, and whoever holds the model is told.

``model.reconfigure(**changes)`` validates the changes (:func:`plan_change`), applies them and
emits a :class:`ConfigChange` on ``model.reconfigured`` (a :class:`ReconfigureEvent`): the
staged trace drops the stages the change made stale, a trainer records it on its next step.
Nobody assigns ``model.config`` from outside, so no cache can miss a change.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..config import DetectorConfig, changed_fields, stages_to_rerun
from ..trace.stages import Stage


@dataclass(frozen=True)
class ConfigChange:
    """One accepted change of a model's settings.

    Attributes:
        before, after: the configurations before and after.
        fields: the names of the fields whose values changed, in declaration order.
        stale: the stages the change makes stale (the earliest stage of each field and every
            stage reading it; :func:`frcnn_core.config.stages_to_rerun`).
    """

    before: DetectorConfig
    after: DetectorConfig
    fields: tuple[str, ...]
    stale: frozenset[Stage]

    def describe(self) -> str:
        """``"nms_thresh 0.3 -> 0.5"``, one item per changed field."""
        return ", ".join(f"{name} {getattr(self.before, name)} -> {getattr(self.after, name)}" for name in self.fields)


def plan_change(config: DetectorConfig, changes: dict[str, Any], fixed: Iterable[str] = ()) -> ConfigChange:
    """The change ``changes`` (field names) makes to ``config``, validated and not applied.

    An unknown name is a ``ValueError`` listing the valid ones, a bad value one naming it (the
    :class:`DetectorConfig` checks), and so is a new value of a field in ``fixed`` (the fields a
    built model keeps). JSON lists pass for tuples.
    """
    changes = {name: tuple(value) if isinstance(value, list) else value for name, value in changes.items()}
    after = config.replace(**changes)
    fields = tuple(changed_fields(config, after))
    refused = [name for name in fields if name in set(fixed)]
    if refused:
        raise ValueError(
            f"{', '.join(refused)} cannot change on a built model (it is read when the model is built); "
            f"build a new model with the new value instead"
        )
    return ConfigChange(config, after, fields, stages_to_rerun(fields))


def reconfigure_to(model: Any, config: DetectorConfig) -> frozenset[Stage]:
    """``model.reconfigure`` with the fields of ``config`` that differ from ``model.config``:
    the model then runs with ``config``. Returns the stages made stale."""
    return model.reconfigure(**{name: getattr(config, name) for name in changed_fields(model.config, config)})


class ReconfigureEvent:
    """The listeners of one model's :class:`ConfigChange`\\ s, called in the thread that reconfigures.

    A bound method is held weakly (an object listening does not stay alive for it: a dropped
    staged trace stops listening by itself), any other callable strongly until
    :meth:`disconnect`. A copy of the model (``copy.deepcopy``, pickling) starts with no listeners.
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[], Callable[[ConfigChange], None] | None]] = []

    def connect(self, listener: Callable[[ConfigChange], None]) -> None:
        if hasattr(listener, "__self__") and hasattr(listener, "__func__"):
            self._listeners.append(weakref.WeakMethod(listener))
        else:
            self._listeners.append(lambda: listener)

    def disconnect(self, listener: Callable[[ConfigChange], None]) -> None:
        self._listeners = [ref for ref in self._listeners if ref() not in (None, listener)]

    def emit(self, change: ConfigChange) -> None:
        self._listeners = [ref for ref in self._listeners if ref() is not None]
        for ref in list(self._listeners):
            listener = ref()
            if listener is not None:
                listener(change)

    def __len__(self) -> int:
        return sum(ref() is not None for ref in self._listeners)

    def __deepcopy__(self, memo: dict) -> ReconfigureEvent:
        return ReconfigureEvent()

    def __reduce__(self):
        return (ReconfigureEvent, ())

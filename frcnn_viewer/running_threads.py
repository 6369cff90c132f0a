"""The objects whose QThread still runs, stopped when the process exits.

Qt aborts the process if a running ``QThread`` is destroyed, which would happen to a window
dropped without being closed; every client of a worker thread (inference, opening, training,
anchor design) registers here while its thread runs and is shut down at exit.
"""

from __future__ import annotations

import atexit
from typing import Protocol


class Stoppable(Protocol):
    def shutdown(self) -> None: ...


RUNNING: set[Stoppable] = set()


@atexit.register
def shutdown_running() -> None:
    """Stop every registered thread (at exit)."""
    for client in list(RUNNING):
        try:
            client.shutdown()
        except RuntimeError:  # Qt already deleted the thread object: nothing left to stop
            RUNNING.discard(client)

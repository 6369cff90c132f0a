"""Python's cyclic garbage collector, run in the GUI thread only, and paused while a set opens.

Two observations, both needed to keep the window alive:

- Run wherever an allocation triggers it, the collector may free a Qt object in a worker
  thread (a training or inference thread), whose destructor then waits for a lock the GUI
  thread holds while that waits for the interpreter: the window freezes for good (seen with a
  closed window's menus freed in the inference thread). So automatic collection is off and
  pyqtgraph's ``GarbageCollector`` collects on a timer in the GUI thread.
- Opening a big set (COCO train2017's 118 000 images) makes millions of objects and no
  cycles. The timer's collections walk all of them in the GUI thread, holding the
  interpreter lock: stalls of 0.3–1.5 s while the file is parsed. While any set is being
  opened (:func:`collection_paused`, entered by the opening thread) the timer skips its
  collections, and what opening left alive is frozen (never scanned again: the sets live as
  long as the window). Memory is still freed as references drop.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL_S = 1.0

_lock = threading.Lock()
_pauses = 0
_collector: GuiThreadCollector | None = None


class GuiThreadCollector(GarbageCollector):
    """pyqtgraph's timer collector that skips its turn while :func:`collection_paused` holds."""

    def check(self) -> None:
        if not collecting_paused():
            super().check()


def collecting_paused() -> bool:
    return _pauses > 0


def collect_garbage_in_the_gui_thread() -> None:
    """Start the timer collector (once, from the GUI thread, before the first window)."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector(interval=INTERVAL_S)


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No collection anywhere while the block runs (any thread); what it left alive is frozen."""
    global _pauses
    enabled = gc.isenabled()
    gc.disable()
    with _lock:
        _pauses += 1
    try:
        yield
    finally:
        gc.freeze()
        with _lock:
            _pauses -= 1
        if enabled:
            gc.enable()

"""The GUI thread's garbage collector skips its turn while a set is being opened."""

from __future__ import annotations

import gc
import threading

from frcnn_viewer import garbage


def test_the_timer_collector_skips_while_a_set_opens_in_another_thread(qapp, monkeypatch):
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    monkeypatch.setattr(gc, "get_count", lambda: (10_000, 100, 100))
    monkeypatch.setattr(gc, "freeze", lambda: None)
    collector = garbage.GuiThreadCollector(interval=3600)
    try:
        inside, leave = threading.Event(), threading.Event()

        def opening():
            with garbage.collection_paused():
                inside.set()
                leave.wait(10)

        thread = threading.Thread(target=opening)
        thread.start()
        assert inside.wait(10)
        collector.check()
        assert collected == [] and garbage.collecting_paused()
        leave.set()
        thread.join()
        collector.check()
        assert collected == [0, 1, 2] and not garbage.collecting_paused()
    finally:
        collector.timer.stop()

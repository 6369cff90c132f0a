"""No Qt object is touched from a worker thread: the worker's reports reach the window's widgets
in the GUI thread (the suite fails a test on Qt's cross-thread warnings, see conftest)."""

from __future__ import annotations

import threading

from PySide6 import QtCore


def test_a_refused_checkpoint_is_reported_in_the_gui_thread(window, tmp_path):
    threads = []
    window.document.message.connect(lambda _message: threads.append(QtCore.QThread.currentThread()))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    assert not window.load_checkpoint(garbage)
    assert threads and all(thread is window.thread() for thread in threads)
    assert "garbage.pt" in window.statusBar().currentMessage()


def test_a_failure_signalled_from_another_thread_is_handled_in_the_gui_thread(window, qtbot):
    threads = []
    window.document.message.connect(lambda _message: threads.append(QtCore.QThread.currentThread()))
    emitter = threading.Thread(target=lambda: window.client.worker.failed.emit("inference failed: test"))
    emitter.start()
    emitter.join()
    qtbot.waitUntil(lambda: bool(threads))
    assert threads == [window.thread()] and "inference failed: test" in window.statusBar().currentMessage()

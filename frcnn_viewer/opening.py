"""Opening datasets off the GUI thread: a worker that runs the opener, and its GUI-side client.

Opening a big set (COCO train2017's 118 000 images) takes seconds: parsing the annotations
and reading every image's record. The :class:`OpenWorker` does it in its own ``QThread``
with plain functions (:func:`frcnn_viewer.state.sources.open_sources` or the annotation
mode's opener) and hands the GUI thread plain Python objects (:class:`Opened`: the sources,
their entries already listed, and the problems); it never touches a widget. The
:class:`OpeningClient` lives in the GUI thread: it queues requests (answered in order),
relays the worker's progress, and knows whether an open is outstanding.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6 import QtCore

from .garbage import collection_paused
from .running_threads import RUNNING
from .state.sources import Progress, Source

log = logging.getLogger(__name__)

# opener(specs, progress) -> (sources, problems): open_sources' signature
Opener = Callable[[list[str], Progress | None], tuple[list[Source], list[str]]]

@dataclass
class Opened:
    """What one open request produced.

    Attributes:
        job: the request's number (from :meth:`OpeningClient.open`).
        specs: the paths (or ``shapes``) asked for.
        sources: what opened, each listed (:meth:`Source.prepare`).
        problems: one message per problem, naming the file or record.
        seconds: how long opening took in the worker.
    """

    job: int
    specs: list[str]
    sources: list[Source]
    problems: list[str]
    seconds: float


class OpenWorker(QtCore.QObject):
    """Runs openers in the worker thread; every request ends with ``opened``."""

    progress = QtCore.Signal(str, int, int)  # what, done, total (0: unknown)
    opened = QtCore.Signal(object)  # Opened

    @QtCore.Slot(int, object, object)
    def open(self, job: int, specs: list[str], opener: Opener) -> None:
        start = time.perf_counter()
        sources: list[Source] = []
        problems: list[str] = []
        try:
            with collection_paused():
                sources, problems = opener(specs, self.progress.emit)
                for source in sources:  # a mode's own opener may leave listing to the first use
                    source.prepare(self.progress.emit)
        except Exception as exc:  # the openers report bad input as problems; this is a bug
            log.exception("opening %s failed", specs)
            problems = problems + [f"opening {', '.join(specs)} failed: {exc}"]
        finally:
            self.opened.emit(Opened(job, specs, sources, problems, time.perf_counter() - start))


class OpeningClient(QtCore.QObject):
    """GUI-side handle on the opening thread.

    Signals:
        opened(Opened): a request is done (in request order), in the GUI thread.
        progress(str, int, int): what the worker is doing, done, total (0: unknown).
        busy_changed(bool): whether requests are outstanding; ``False`` comes after ``opened``.
    """

    opened = QtCore.Signal(object)
    progress = QtCore.Signal(str, int, int)
    busy_changed = QtCore.Signal(bool)
    _open = QtCore.Signal(int, object, object)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QtCore.QThread()
        self.thread.setObjectName("frcnn-opening")
        self.worker = OpenWorker()
        self.worker.moveToThread(self.thread)
        self._open.connect(self.worker.open)
        self.worker.opened.connect(self._opened)
        self.worker.progress.connect(self.progress)
        self._jobs = 0
        self._pending: set[int] = set()
        self.thread.start()
        RUNNING.add(self)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def open(self, specs: list[str], opener: Opener) -> int:
        """Queue ``opener(specs, progress)`` in the worker; returns the request's number."""
        self._jobs += 1
        self._pending.add(self._jobs)
        if len(self._pending) == 1:
            self.busy_changed.emit(True)
        self._open.emit(self._jobs, list(specs), opener)
        return self._jobs

    def wait(self, job: int, timeout_ms: int) -> bool:
        """Run the event loop until request ``job`` is answered; ``False`` on timeout."""
        if job not in self._pending:
            return True
        loop = QtCore.QEventLoop()

        def answered(opened: Opened) -> None:
            if opened.job == job:
                loop.quit()

        self.opened.connect(answered)
        QtCore.QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        self.opened.disconnect(answered)
        return job not in self._pending

    def _opened(self, opened: Opened) -> None:
        try:
            self.opened.emit(opened)
        finally:
            self._pending.discard(opened.job)
            if not self._pending:
                self.busy_changed.emit(False)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop the thread once the current open ends (called when the window closes)."""
        self.thread.quit()
        self.thread.wait(timeout_ms)
        RUNNING.discard(self)

"""What long commands show while they work: a tqdm bar on a terminal, a line for a slow open."""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from ..data import open_dataset

# An open that takes longer than this says so while it runs.
ANNOUNCE_AFTER_S = 1.0


def add_progress_flag(parser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (there is none either when stderr is not a terminal)")


def wants_progress(args) -> bool:
    """A bar unless ``--no-progress`` or stderr is not a terminal (a log file, a pipe)."""
    return not getattr(args, "no_progress", False) and sys.stderr.isatty()


@contextmanager
def progress_bar(enabled: bool, description: str, unit: str = "img"):
    """A ``progress(done, total)`` callback drawing a tqdm bar (rate and ETA), or ``None``."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=None, desc=description, unit=unit, dynamic_ncols=True, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        bar.close()


def open_dataset_announced(spec: str | os.PathLike, announce: bool = True, **kwargs):
    """:func:`open_dataset`; one that takes more than a second prints ``opening NAME …`` to
    stderr while it opens and the time it took once open."""
    name = Path(str(spec)).name or str(spec)
    fired = threading.Event()

    def say() -> None:
        fired.set()
        print(f"opening {name} …", file=sys.stderr, flush=True)

    timer = threading.Timer(ANNOUNCE_AFTER_S, say)
    timer.daemon = True
    start = time.perf_counter()
    if announce:
        timer.start()
    try:
        dataset = open_dataset(spec, **kwargs)
    finally:
        timer.cancel()
    if fired.is_set():
        print(f"opened {name} in {time.perf_counter() - start:.1f} s: {len(dataset)} images", file=sys.stderr, flush=True)
    return dataset

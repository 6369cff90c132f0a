"""Thumbnails of list entries, decoded off the GUI thread and kept in a small cache.

The list asks :meth:`ThumbnailCache.thumbnail` for the rows it paints; a miss queues the
entry in a small ``QThreadPool`` (one thread by default: the machine's cores belong to the
model), whose job decodes a reduced copy with :func:`frcnn_viewer.state.sources.thumbnail_pixels`
(the decoding of the image view, a JPEG straight at a reduced scale) and hands the numpy
array to the GUI thread through a queued signal; the ``QImage`` is made there. Jobs for rows
scrolled away before their turn are dropped (:meth:`ThumbnailCache.set_wanted`), so a fast
scroll through 100 000 rows decodes only what stays on screen.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np
from PySide6 import QtCore, QtGui

from .state.sources import ImageEntry, ImageLoadError, thumbnail_pixels

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 32  # pixels, the longest side of a thumbnail
CACHE_SIZE = 2000  # thumbnails kept (about 12 MB at 32 px)


class _Relay(QtCore.QObject):
    """Lives in the GUI thread: a pool thread emits, the slot runs in the GUI thread."""

    decoded = QtCore.Signal(object, object)  # key, [h, w, 3] uint8 array or None (unreadable)


class _DecodeJob(QtCore.QRunnable):
    def __init__(self, cache: ThumbnailCache, key: Hashable, entry: ImageEntry) -> None:
        super().__init__()
        self.cache, self.key, self.entry = cache, key, entry

    def run(self) -> None:
        cache = self.cache
        if not cache.still_wanted(self.key):
            cache.relay.decoded.emit(self.key, _DROPPED)
            return
        try:
            pixels = thumbnail_pixels(self.entry, cache.side)
        except ImageLoadError as exc:
            log.debug("no thumbnail: %s", exc)
            pixels = None
        except Exception:  # a bug in a dataset: one missing thumbnail, not a dead pool
            log.exception("thumbnail of %s failed", self.entry.name)
            pixels = None
        cache.relay.decoded.emit(self.key, pixels)


_DROPPED = "dropped"  # a job skipped because its row left the screen


class ThumbnailCache(QtCore.QObject):
    """Thumbnails by key (any hashable naming an entry), decoded in a thread pool.

    Signals:
        ready(object): the thumbnail of this key is now in the cache (or known unreadable).
    """

    ready = QtCore.Signal(object)

    def __init__(self, side: int = THUMBNAIL_SIDE, capacity: int = CACHE_SIZE, threads: int = 1, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.capacity = capacity
        self.pool = QtCore.QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.relay = _Relay(self)
        self.relay.decoded.connect(self._decoded)
        self._images: OrderedDict[Hashable, QtGui.QImage | None] = OrderedDict()
        self._queued: set[Hashable] = set()
        self._wanted: frozenset[Hashable] | None = None  # None: everything asked for is wanted
        self._lock = threading.Lock()
        self.decoded_count = 0  # thumbnails decoded so far (for tests and benchmarks)

    def thumbnail(self, key: Hashable, entry: ImageEntry) -> QtGui.QImage | None:
        """The cached thumbnail of ``key`` (``None`` while it is decoded, or if unreadable)."""
        if key in self._images:
            self._images.move_to_end(key)
            return self._images[key]
        if key not in self._queued:
            self._queued.add(key)
            self.pool.start(_DecodeJob(self, key, entry))
        return None

    def set_wanted(self, keys) -> None:
        """Only ``keys`` (the rows on screen) are still worth decoding; queued others are dropped."""
        with self._lock:
            self._wanted = frozenset(keys)

    def still_wanted(self, key: Hashable) -> bool:
        """Whether a queued ``key`` is still on screen (called from the pool threads)."""
        with self._lock:
            return self._wanted is None or key in self._wanted

    def clear(self) -> None:
        """Forget every thumbnail (the entries they showed are gone)."""
        self.pool.clear()
        self._images.clear()
        self._queued.clear()

    def shutdown(self) -> None:
        """Drop queued jobs and wait for the running ones (the window is closing)."""
        self.pool.clear()
        self.pool.waitForDone()

    def _decoded(self, key: Hashable, pixels) -> None:
        self._queued.discard(key)
        if isinstance(pixels, str):  # dropped: asked again when it is painted again
            return
        self.decoded_count += 1
        self._images[key] = None if pixels is None else _to_qimage(pixels)
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)
        self.ready.emit(key)


def _to_qimage(pixels: np.ndarray) -> QtGui.QImage:
    """A ``QImage`` owning a copy of ``[h, w, 3]`` uint8 RGB pixels."""
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    return QtGui.QImage(pixels.data, width, height, 3 * width, QtGui.QImage.Format.Format_RGB888).copy()

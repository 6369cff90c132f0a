"""Atomic file writes: a temporary file in the target's folder, fsync, then rename.

Every file the project writes (annotations, exports, checkpoints, images) goes through
here, so a failed or interrupted save never truncates or corrupts the existing file:
the target is either the complete old file or the complete new one.

The temporary file is named ``.<name>.<random>.tmp`` in the target's folder (a rename
is only atomic within one file system) and is removed when the write fails. A new
file gets the usual permissions (``0o666`` less the umask); replacing a file keeps
its permissions. A symbolic link is written through: its target is replaced.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

# Attempts at a fresh temporary name; 32 random bits make a second attempt rare.
_NAME_ATTEMPTS = 16


def _create_temp(target: Path) -> tuple[int, Path]:
    """Create and open a new, empty temporary file beside ``target``; return ``(fd, path)``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_NAME_ATTEMPTS):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file beside {target}")


def fsync_directory(directory: Path) -> None:
    """Make the names in ``directory`` durable (a file renamed, created or removed there)
    where the platform allows it (POSIX folders).

    Best effort: the files themselves are already in place, so a file system that refuses
    to sync a folder is not an error.
    """
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Yield a file object whose contents replace ``path`` only if the block succeeds.

    Args:
        path: the file to write; its folder must exist.
        mode: ``"wb"`` (binary, e.g. for ``torch.save(obj, f)``) or ``"w"`` (text).
        encoding: text mode only; ``"utf-8"`` when not given.

    On success the data is flushed, fsync'ed and renamed onto ``path``. If the block
    raises (or the flush, fsync or rename fails) the temporary file is removed, the
    exception propagates and ``path`` is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_output supports modes 'w' and 'wb', not {mode!r}")
    if encoding is not None and mode == "wb":
        raise ValueError("atomic_output: encoding is only meaningful in text mode 'w'")
    target = Path(os.path.realpath(path))
    text_options = {"encoding": encoding or "utf-8"} if mode == "w" else {}
    fd, tmp = _create_temp(target)
    try:
        with os.fdopen(fd, mode, **text_options) as f:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_directory(target.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``text`` encoded as ``encoding``, atomically (see :func:`atomic_output`)."""
    with atomic_output(path, "w", encoding=encoding) as f:
        f.write(text)

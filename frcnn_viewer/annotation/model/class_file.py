"""The class list of a folder, kept in its ``classes.txt`` (labelImg's convention): one name a line.

Plain Python, no Qt. Read when images of a folder are opened for annotation, written
atomically (:func:`frcnn_core.files.atomic.atomic_write_text`) when the class list changes, so the
number keys mean the same classes the next time the folder is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from frcnn_core.files.atomic import atomic_write_text

CLASS_FILE = "classes.txt"


class ClassFileError(ValueError):
    """A ``classes.txt`` that cannot be read (the message names the file)."""


def read_class_file(folder: Path) -> list[str]:
    """The names in ``folder/classes.txt`` in order (stripped, blank lines and repeats dropped);
    ``[]`` when there is no such file.

    Raises:
        ClassFileError: the file exists but cannot be read as UTF-8 text.
    """
    path = Path(folder) / CLASS_FILE
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ClassFileError(f"{path}: cannot read the class list: {exc}") from None
    names: list[str] = []
    for line in lines:
        name = line.strip()
        if name and name not in names:
            names.append(name)
    return names


def write_class_file(folder: Path, names: Sequence[str]) -> Path | None:
    """Write ``names`` to ``folder/classes.txt`` atomically unless it already says exactly that;
    returns the path when it was written."""
    path = Path(folder) / CLASS_FILE
    text = "".join(f"{name}\n" for name in names)
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return None
    except (OSError, UnicodeDecodeError):
        pass  # unreadable: replace it
    atomic_write_text(path, text)
    return path

"""Unlabelled images: files and folders, for detection without ground truth."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .errors import DatasetError
from .images import is_image_file, probe_image
from .sample import FileDataset, Record


def _expand(paths: Sequence[str | os.PathLike], problems: list[str]) -> list[Path]:
    """Files as given, then each folder's image files (not recursive, sorted by name)."""
    found: list[Path] = []
    for item in paths:
        path = Path(item).expanduser()
        if path.is_dir():
            found += sorted((p for p in path.iterdir() if p.is_file() and is_image_file(p)), key=lambda p: p.name)
        elif path.is_file():
            found.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return found


class ImageFolderDataset(FileDataset):
    """Images without annotations: every target is empty and ``class_names`` is ``()``.

    Args:
        path_or_paths: an image file or folder, or a list of them. A folder
            contributes its files with an image extension (:data:`.images.IMAGE_EXTENSIONS`),
            not its subfolders; a file named directly is tried whatever its
            extension. The same file given twice is listed once.

    Each file is probed while indexing (:func:`.images.probe_image`); missing,
    unreadable and truncated files are skipped and reported in ``problems``.
    ``image_id`` is the position in the list.
    """

    def __init__(self, path_or_paths: str | os.PathLike | Sequence[str | os.PathLike]) -> None:
        paths = [path_or_paths] if isinstance(path_or_paths, (str, os.PathLike)) else list(path_or_paths)
        problems: list[str] = []
        records: list[Record] = []
        seen: set[Path] = set()
        for path in _expand(paths, problems):
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                size = probe_image(path)
            except DatasetError as exc:
                problems.append(f"{exc}; skipped")
                continue
            records.append(Record.unlabelled(str(path), size, len(records)))
        super().__init__(records, (), (), problems)


"""COCO detection JSON (``instances_*.json``) as a dataset.

Labels are the categories sorted by their COCO id: label ``k`` is the ``k``-th
category, ``category_ids[k - 1]`` its COCO id, and ``image_id`` is the COCO image id,
so detections exported with :func:`frcnn_core.files.export.to_coco_results` use the file's
own ids. ``bbox`` ``[x, y, w, h]`` becomes ``(x, y, x + w, y + h)``.

Opening reads only the JSON, so a set of COCO train2017's size (118 000 images,
830 000 boxes) opens in seconds: sizes come from each image's ``width``/``height``
and the image files are checked when first used (``ds[i]``), not at opening. Only
an image listed without a size is probed (header and tail, see :mod:`.images`) at
opening. Boxes are held as flat arrays (``[N, 4]`` with per-image offsets) and
``segmentation`` polygons are dropped while parsing.

Bad records are reported in ``problems`` (naming the JSON file and the record) and
the rest loads: annotations with an unknown image or category id or a malformed
``bbox`` are skipped; boxes are clipped to the image (reported when they stick out by more than a
pixel) and dropped when nothing is left. An image whose file turns out to be missing,
unreadable or truncated when used raises :class:`DatasetError` for that image and is
reported once in ``problems``; one whose file disagrees with its listed size is
reported and its file's size wins (boxes refitted). ``iscrowd`` regions are kept as
``difficult`` so that training and evaluation ignore them. A file that is not COCO JSON
at all (unreadable, invalid or too deeply nested JSON, no ``images``/``categories``
lists, malformed categories) raises :class:`DatasetError`.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from torch import Tensor

from ..annotations.model import AnnotationError, fit_box
from ..files.json_input import load_json, parse_in_pieces
from .errors import DatasetError
from .images import probe_image, read_rgb
from .sample import DetectionDataset, Record, pixels_to_tensor

# How many of the listed files decide where the images live (see _default_image_root).
_ROOT_PROBES = 20
# Share of the progress scale spent parsing the JSON (the rest is indexing).
_PARSE_SHARE = 90
_NUMBER = (int, float)
# Work on the parsed file is done this many items at a time: one C call over a million items
# (a conversion, a free) holds the interpreter lock for up to a second, freezing the other
# threads of the process (the viewer's window opens sets in a thread); between slices they run.
_SLICE = 20_000

Progress = Callable[[int, int], None]


def _parse(raw: bytes, progress: Progress | None) -> object:
    """The JSON document, without ``segmentation`` entries; ``progress(0..90, 100)`` while parsing.

    The cyclic garbage collector is paused meanwhile: the parser makes millions of
    objects and no cycles, and each collection would walk all of them again.
    """
    braces = sum(raw.count(b"{", start, start + 64 * _SLICE) for start in range(0, len(raw), 64 * _SLICE))
    step = max(braces // _PARSE_SHARE, 1)  # every object but one per '{' (a few may sit inside strings)
    count = 0

    def drop_segmentation(obj: dict) -> dict:
        nonlocal count
        obj.pop("segmentation", None)
        count += 1
        if progress is not None and count % step == 0:
            progress(min(count // step, _PARSE_SHARE), 100)
        return obj

    enabled = gc.isenabled()
    gc.disable()
    try:
        return parse_in_pieces(raw, drop_segmentation)  # in pieces: other threads (the window) keep running
    finally:
        if enabled:
            gc.enable()


def _load_json(path: Path, progress: Progress | None) -> dict:
    data = load_json(path, "a COCO file", DatasetError, lambda raw: _parse(raw, progress))
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a COCO object with 'images' and 'categories', found a JSON {type(data).__name__}")
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise DatasetError(f"{path}: not a COCO detection file: no '{key}' list")
    if not isinstance(data.get("annotations", []), list):
        raise DatasetError(f"{path}: 'annotations' is not a list")
    return data


def _is_id(value) -> bool:
    return type(value) is int  # JSON integers; not bool, not float


def _categories(data: dict, path: Path) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """COCO ids and names of the categories, sorted by id."""
    found: dict[int, str] = {}
    for k, cat in enumerate(data["categories"]):
        if not isinstance(cat, dict) or not _is_id(cat.get("id")) or not isinstance(cat.get("name"), str):
            raise DatasetError(f"{path}: categories[{k}] needs an integer 'id' and a string 'name', got {cat!r}")
        if cat["id"] in found:
            raise DatasetError(f"{path}: categories[{k}]: duplicate category id {cat['id']}")
        found[cat["id"]] = cat["name"]
    ids = tuple(sorted(found))
    return ids, tuple(found[i] for i in ids)


def _default_image_root(json_path: Path, file_names: list[str]) -> Path:
    """The JSON's folder, or its ``images/`` subfolder if the listed files are there instead."""
    folder = json_path.parent
    probes = file_names[:_ROOT_PROBES]
    for candidate in (folder, folder / "images"):
        if any((candidate / name).is_file() for name in probes):
            return candidate
    return folder


def _sliced_array(values: list, dtype, shape: tuple[int, ...] = ()) -> np.ndarray:
    """``np.array(values, dtype)`` of shape ``[N, *shape]``, converted :data:`_SLICE` items at a time."""
    parts = [np.array(values[start:start + _SLICE], dtype).reshape(-1, *shape) for start in range(0, len(values), _SLICE)]
    return np.concatenate(parts) if parts else np.zeros((0, *shape), dtype)


def _release(items) -> None:
    """Empty a parsed list :data:`_SLICE` items at a time (its objects freed slice by slice)."""
    if type(items) is list:
        while items:
            del items[-_SLICE:]


def _int_column(values: list, path: Path, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(int64 values, valid)`` of a list that should hold JSON integers; invalid entries are -1."""
    valid = [type(v) is int for v in values]
    try:
        column = _sliced_array(values if all(valid) else [v if ok else -1 for v, ok in zip(values, valid)], np.int64)
    except OverflowError:
        raise DatasetError(f"{path}: a {what} does not fit in 64 bits") from None
    return column, _sliced_array(valid, bool)


def _lookup(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position of each ``wanted`` value in ``keys`` (unique), ``-1`` where absent."""
    if len(keys) == 0:
        return np.full(len(wanted), -1, np.int64)
    order = np.argsort(keys, kind="stable")
    pos = np.searchsorted(keys[order], wanted)
    found = pos < len(keys)
    found[found] = keys[order][pos[found]] == wanted[found]
    return np.where(found, order[np.minimum(pos, len(keys) - 1)], -1)


class CocoDataset(DetectionDataset):
    """Images and boxes of a COCO detection JSON file.

    Args:
        json_path: the annotation file.
        image_root: folder that ``file_name`` entries are relative to. Default: the
            JSON file's folder, or its ``images/`` subfolder when the first listed
            files are found there and not beside the JSON.
        progress: called as ``progress(done, 100)`` about 100 times while the file
            opens (from the opening thread), for a progress bar.
    """

    def __init__(self, json_path: str | os.PathLike, image_root: str | os.PathLike | None = None, progress: Progress | None = None) -> None:
        self.json_path = Path(json_path)
        data = _load_json(self.json_path, progress)
        category_ids, class_names = _categories(data, self.json_path)
        self.problems: list[str] = []
        self._problem_rows: list[tuple[int, str]] = []  # (annotation position, message), sorted at the end
        self._index_images(data["images"], image_root)
        _release(data.pop("images"))
        if progress is not None:
            progress(_PARSE_SHARE + 2, 100)
        self._index_annotations(data.get("annotations", []), np.array(category_ids, np.int64))
        _release(data.get("annotations"))
        del data
        self.problems += [message for _, message in sorted(self._problem_rows, key=lambda row: row[0])]
        del self._problem_rows
        self.class_names, self.category_ids = class_names, category_ids
        self._used: dict[int, Record] = {}  # checked records of images read so far
        self._unreadable: set[int] = set()
        if progress is not None:
            progress(100, 100)

    def _report(self, message: str) -> None:
        self.problems.append(f"{self.json_path}: {message}")

    # Indexing ---------------------------------------------------------------------------

    def _index_images(self, entries: list, image_root) -> None:
        """File names, ``(H, W)`` sizes and ids of the usable images, in file order."""
        names: list[str] = []
        ids: list[int] = []
        heights: list[int] = []
        widths: list[int] = []
        unsized: list[int] = []  # positions in names of images listed without a usable size
        seen: set[int] = set()
        for k, entry in enumerate(entries):
            if type(entry) is not dict or type(entry.get("id")) is not int or type(entry.get("file_name")) is not str:
                self._report(f"images[{k}]: needs an integer 'id' and a string 'file_name'; skipped")
                continue
            image_id = entry["id"]
            if image_id in seen:
                self._report(f"images[{k}]: duplicate image id {image_id} ('{entry['file_name']}'); skipped")
                continue
            seen.add(image_id)
            height, width = entry.get("height"), entry.get("width")
            if not (type(height) is int and type(width) is int and height > 0 and width > 0):
                unsized.append(len(names))
                height = width = 0
            names.append(entry["file_name"])
            ids.append(image_id)
            heights.append(height)
            widths.append(width)
        self.image_root = Path(image_root) if image_root is not None else _default_image_root(self.json_path, names)
        keep = np.ones(len(names), bool)
        for i in unsized:
            try:
                heights[i], widths[i] = probe_image(self.image_root / names[i])
            except DatasetError as exc:
                self._report(f"image id {ids[i]} ('{names[i]}'): no size listed and {exc}; skipped")
                keep[i] = False
        self._all_ids = np.array(ids, np.int64)  # every listed image, so annotations of skipped ones stay silent
        self._file_names = [name for name, ok in zip(names, keep) if ok]
        self._image_ids = self._all_ids[keep]
        self._sizes = np.stack([np.array(heights, np.int64), np.array(widths, np.int64)], axis=1).reshape(-1, 2)[keep]

    def _index_annotations(self, entries: list, category_ids: np.ndarray) -> None:
        """Boxes, labels and ``difficult`` flags as flat arrays grouped by image, in file order."""
        path = self.json_path
        empty: dict = {}
        anns = [a if type(a) is dict else empty for a in entries]
        is_object = _sliced_array([type(a) is dict for a in entries], bool)
        image_ids, image_ok = _int_column([a.get("image_id") for a in anns], path, "image_id")
        category, category_ok = _int_column([a.get("category_id") for a in anns], path, "category_id")
        bboxes = [a.get("bbox") for a in anns]
        bbox_ok = _sliced_array(
            [type(b) is list and len(b) == 4 and type(b[0]) in _NUMBER and type(b[1]) in _NUMBER and type(b[2]) in _NUMBER and type(b[3]) in _NUMBER for b in bboxes],
            bool,
        )
        crowd = _sliced_array([bool(a.get("iscrowd", 0)) for a in anns], bool)
        image = np.where(image_ok, _lookup(self._image_ids, image_ids), -1)
        label = np.where(category_ok, _lookup(category_ids, category) + 1, 0)
        listed = np.where(image_ok, _lookup(self._all_ids, image_ids), -1) >= 0  # includes images skipped above

        def where(k: int) -> str:
            ann = entries[k]
            text = f"annotation {ann.get('id', f'#{k}') if type(ann) is dict else f'#{k}'}"
            return f"{text} (image id {int(image_ids[k])}, '{self._file_names[image[k]]}')" if image[k] >= 0 else text

        for k in np.flatnonzero(~is_object):
            self._problem_rows.append((k, f"{path}: {where(k)}: not an object; skipped"))
        for k in np.flatnonzero(is_object & (image < 0) & ~listed):
            self._problem_rows.append((k, f"{path}: {where(k)}: unknown image id {anns[k].get('image_id')!r}; skipped"))
        for k in np.flatnonzero((image >= 0) & (label == 0)):
            self._problem_rows.append((k, f"{path}: {where(k)}: unknown category id {anns[k].get('category_id')!r}; skipped"))
        for k in np.flatnonzero((image >= 0) & (label > 0) & ~bbox_ok):
            self._problem_rows.append((k, f"{path}: {where(k)}: malformed bbox {anns[k].get('bbox')!r} (expected [x, y, width, height]); skipped"))
        rows = np.flatnonzero((image >= 0) & (label > 0) & bbox_ok)
        xywh = _sliced_array([bboxes[k] for k in rows.tolist()], np.float64, (4,))
        del anns, bboxes
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        boxes, rows = self._fit(boxes, rows, image, where)
        order = np.argsort(image[rows], kind="stable")  # grouped by image, file order within each
        rows, boxes = rows[order], boxes[order]
        self._boxes = boxes.astype(np.float32)
        self._labels = label[rows].astype(np.int64)
        self._difficult = crowd[rows]
        self._offsets = np.concatenate([[0], np.cumsum(np.bincount(image[rows], minlength=len(self._file_names)))]).astype(np.int64)

    def _fit(self, boxes: np.ndarray, rows: np.ndarray, image: np.ndarray, where) -> tuple[np.ndarray, np.ndarray]:
        """Boxes clipped to their images (as :func:`fit_box` does), and the rows that keep one."""
        height, width = (self._sizes[image[rows], j].astype(np.float64) for j in (0, 1))
        clipped = np.stack(
            [np.clip(boxes[:, 0], 0, width), np.clip(boxes[:, 1], 0, height), np.clip(boxes[:, 2], 0, width), np.clip(boxes[:, 3], 0, height)], axis=1
        )
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(boxes).all(axis=1)
            kept = finite & (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
            moved = kept & (np.abs(clipped - boxes).max(axis=1) > 1.0)
        for j in np.flatnonzero(~kept | moved):  # the messages come from fit_box itself
            k, i = int(rows[j]), int(image[rows[j]])
            try:
                _, warning = fit_box(tuple(boxes[j].tolist()), int(self._sizes[i, 1]), int(self._sizes[i, 0]), f"{self.json_path}: {where(k)}")
                self._problem_rows.append((k, warning))
            except AnnotationError as exc:
                self._problem_rows.append((k, f"{exc}; dropped"))
        return clipped[kept], rows[kept]

    # The dataset contract ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._file_names)

    @property
    def image_ids(self) -> list[int]:
        return self._image_ids.tolist()

    def record(self, index: int) -> Record:
        """The image's record: its listed size, or the file's once the file has been read."""
        used = self._used.get(index)
        if used is not None:
            return used
        start, stop = self._offsets[index], self._offsets[index + 1]
        return Record(
            path=str(self.image_root / self._file_names[index]),
            size=(int(self._sizes[index, 0]), int(self._sizes[index, 1])),
            image_id=int(self._image_ids[index]),
            boxes=self._boxes[start:stop].copy(),
            labels=self._labels[start:stop].copy(),
            difficult=self._difficult[start:stop].copy(),
        )

    def pixels(self, index: int, record: Record) -> np.ndarray:
        """Decode the image; the first read of each file checks it (see the module docstring)."""
        try:
            pixels = read_rgb(record.path)
        except DatasetError as exc:
            if index not in self._unreadable:
                self._unreadable.add(index)
                self._report(f"image id {record.image_id}: {exc}")
            raise
        size = (pixels.shape[0], pixels.shape[1])
        if index not in self._used and size != record.size:
            self._used[index] = self._refit(record, size)
        return pixels

    def __getitem__(self, index: int) -> tuple[Tensor, dict]:
        index = self._checked(index)
        pixels = self.pixels(index, self.record(index))
        return pixels_to_tensor(pixels), self.record(index).target()  # the record as checked by reading the file

    def _refit(self, record: Record, size: tuple[int, int]) -> Record:
        """``record`` with the file's ``size`` and its boxes clipped to it (reported)."""
        where = f"image id {record.image_id} ('{Path(record.path).name}')"
        self._report(f"{where}: listed as {record.size[1]}x{record.size[0]} but the file is {size[1]}x{size[0]}; using the file's size")
        keep, boxes = [], []
        for k, box in enumerate(record.boxes.tolist()):
            try:
                fitted, warning = fit_box(tuple(box), size[1], size[0], f"{self.json_path}: {where}")
            except AnnotationError as exc:
                self.problems.append(f"{exc}; dropped")
                continue
            if warning:
                self.problems.append(warning)
            keep.append(k)
            boxes.append(fitted)
        return Record(record.path, size, record.image_id, np.array(boxes, np.float32).reshape(-1, 4), record.labels[keep], record.difficult[keep])

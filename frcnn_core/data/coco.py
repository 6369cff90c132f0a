"""COCO detection JSON (``instances_*.json``) as a dataset.

Labels are the categories sorted by their COCO id: label ``k`` is the ``k``-th
category, ``category_ids[k - 1]`` its COCO id, and ``image_id`` is the COCO image id,
so detections exported with :func:`frcnn_core.export.to_coco_results` use the file's
own ids. ``bbox`` ``[x, y, w, h]`` becomes ``(x, y, x + w, y + h)``.

Bad records are reported in ``problems`` (naming the JSON file and the record) and
the rest loads: images whose file is missing or unreadable are skipped with their
annotations; annotations with an unknown image or category id or a malformed
``bbox`` are skipped; boxes are clipped to the image (reported when they stick out by more than a
pixel) and dropped when nothing is left. ``iscrowd`` regions are kept as ``difficult`` so that
training and evaluation ignore them. A file that is not COCO JSON at all (unreadable,
invalid JSON, no ``images``/``categories`` lists, malformed categories) raises
:class:`DatasetError`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..annotations.model import AnnotationError, fit_box
from .errors import DatasetError
from .images import probe_image
from .sample import FileDataset, Record

# How many of the listed files decide where the images live (see _default_image_root).
_ROOT_PROBES = 20


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a COCO object with 'images' and 'categories', found a JSON {type(data).__name__}")
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise DatasetError(f"{path}: not a COCO detection file: no '{key}' list")
    if not isinstance(data.get("annotations", []), list):
        raise DatasetError(f"{path}: 'annotations' is not a list")
    return data


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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


def _bbox_xyxy(bbox) -> tuple[float, float, float, float] | None:
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox):
        return None
    x, y, w, h = (float(v) for v in bbox)
    return x, y, x + w, y + h


class CocoDataset(FileDataset):
    """Images and boxes of a COCO detection JSON file.

    Args:
        json_path: the annotation file.
        image_root: folder that ``file_name`` entries are relative to. Default: the
            JSON file's folder, or its ``images/`` subfolder when the first listed
            files are found there and not beside the JSON.
        check_images: probe every image file while indexing (see :mod:`.images`):
            unreadable or truncated files are skipped and reported, and sizes come
            from the files. ``False`` trusts the JSON's ``width``/``height`` (faster
            for very large sets); bad files then fail when their pixels are read.
    """

    def __init__(self, json_path: str | os.PathLike, image_root: str | os.PathLike | None = None, check_images: bool = True) -> None:
        self.json_path = Path(json_path)
        data = _load_json(self.json_path)
        category_ids, class_names = _categories(data, self.json_path)
        images = [im for im in data["images"] if isinstance(im, dict)]
        names = [im["file_name"] for im in images if isinstance(im.get("file_name"), str)]
        self.image_root = Path(image_root) if image_root is not None else _default_image_root(self.json_path, names)
        self._check_images = check_images
        self._problems: list[str] = []
        self._skipped_images: set[int] = set()
        sizes, files = self._index_images(data["images"])
        boxes = self._index_annotations(data.get("annotations", []), sizes, files, {cid: k + 1 for k, cid in enumerate(category_ids)})
        records = []
        for image_id, size in sizes.items():
            rows = boxes.get(image_id, [])
            records.append(
                Record(
                    path=str(self.image_root / files[image_id]),
                    size=size,
                    image_id=image_id,
                    boxes=np.array([r[0] for r in rows], np.float32).reshape(-1, 4),
                    labels=np.array([r[1] for r in rows], np.int64),
                    difficult=np.array([r[2] for r in rows], bool),
                )
            )
        super().__init__(records, class_names, category_ids, self._problems)

    def _report(self, message: str) -> None:
        self._problems.append(f"{self.json_path}: {message}")

    def _image_size(self, entry: dict, path: Path, where: str) -> tuple[int, int] | None:
        listed = (entry.get("height"), entry.get("width"))
        if not self._check_images and all(_is_id(v) and v > 0 for v in listed):
            return listed
        try:
            size = probe_image(path)
        except DatasetError as exc:
            self._report(f"{where}: skipped: {exc}")
            return None
        if all(_is_id(v) for v in listed) and listed != size:
            self._report(f"{where}: listed as {listed[1]}x{listed[0]} but the file is {size[1]}x{size[0]}; using the file's size")
        return size

    def _index_images(self, entries: list) -> tuple[dict[int, tuple[int, int]], dict[int, str]]:
        """Sizes and file names of the usable images, by COCO image id, in file order."""
        sizes: dict[int, tuple[int, int]] = {}
        files: dict[int, str] = {}
        for k, entry in enumerate(entries):
            if not isinstance(entry, dict) or not _is_id(entry.get("id")) or not isinstance(entry.get("file_name"), str):
                self._report(f"images[{k}]: needs an integer 'id' and a string 'file_name'; skipped")
                continue
            image_id, file_name = entry["id"], entry["file_name"]
            where = f"image id {image_id} ('{file_name}')"
            if image_id in files or image_id in self._skipped_images:
                self._report(f"images[{k}]: duplicate {where}; skipped")
                continue
            size = self._image_size(entry, self.image_root / file_name, where)
            if size is None:
                self._skipped_images.add(image_id)
                continue
            sizes[image_id], files[image_id] = size, file_name
        return sizes, files

    def _index_annotations(self, entries: list, sizes: dict, files: dict, labels: dict[int, int]) -> dict[int, list]:
        """``(box, label, difficult)`` rows by image id."""
        rows: dict[int, list] = {}
        for k, ann in enumerate(entries):
            ann_id = ann.get("id", f"#{k}") if isinstance(ann, dict) else f"#{k}"
            where = f"annotation {ann_id}"
            if not isinstance(ann, dict):
                self._report(f"{where}: not an object; skipped")
                continue
            image_id, category_id = ann.get("image_id"), ann.get("category_id")
            if not _is_id(image_id) or image_id not in sizes:
                if image_id not in self._skipped_images:
                    self._report(f"{where}: unknown image id {image_id!r}; skipped")
                continue
            where = f"{where} (image id {image_id}, '{files[image_id]}')"
            if not _is_id(category_id) or category_id not in labels:
                self._report(f"{where}: unknown category id {category_id!r}; skipped")
                continue
            box = _bbox_xyxy(ann.get("bbox"))
            if box is None:
                self._report(f"{where}: malformed bbox {ann.get('bbox')!r} (expected [x, y, width, height]); skipped")
                continue
            height, width = sizes[image_id]
            try:
                box, warning = fit_box(box, width, height, where)
            except AnnotationError as exc:
                self._report(f"{exc}; dropped")
                continue
            if warning:
                self._report(warning)
            rows.setdefault(image_id, []).append((box, labels[category_id], bool(ann.get("iscrowd", 0))))
        return rows

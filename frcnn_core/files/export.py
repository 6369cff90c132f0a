"""Detections as JSON: COCO results for pycocotools, and a self-describing rich format.

Boxes are in the original image's pixels. Coordinates are rounded to 2 decimals and
scores to 5.

COCO results (:func:`to_coco_results`), what ``COCO.loadRes`` and the COCO evaluation
server read::

    [                                   # one object per detection
      {
        "image_id": int,                # the dataset's image id
        "category_id": int,             # the dataset's category id of the label
        "bbox": [x, y, width, height],  # pixels, (x, y) the top-left corner
        "score": float                  # 0..1
      }
    ]

Rich results (:func:`to_rich_results`, read back by :func:`read_rich_results`)::

    {
      "schema": "frcnn-viewer/detections",
      "schema_version": 1,
      "model": {                        # identity of the model, free-form, e.g.
        "checkpoint": str,              #   the checkpoint file
        "config_fingerprint": str,      #   DetectorConfig.fingerprint()
        "backbone": str
      },
      "class_names": [str],             # label k is class_names[k - 1]
      "images": [
        {
          "path": str | null,           # the image file; null or "" if generated
          "image_id": int,
          "width": int,                 # pixels of the original image
          "height": int,
          "detections": [               # in decreasing score
            {
              "box": [x1, y1, x2, y2],  # continuous pixels: pixel i covers [i, i + 1)
              "score": float,
              "label": int,             # 1..C
              "class_name": str
            }
          ]
        }
      ]
    }
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from .atomic import atomic_write_text
from .json_input import load_json

SCHEMA = "frcnn-viewer/detections"
SCHEMA_VERSION = 1
BOX_DECIMALS = 2
SCORE_DECIMALS = 5


class ResultsFormatError(ValueError):
    """A detections file is not what :func:`read_rich_results` reads; names the file and the record."""


def _as_list(values) -> list:
    return values.detach().cpu().tolist() if isinstance(values, torch.Tensor) else np.asarray(values).tolist()


def _rows(det: Mapping) -> list[tuple[list[float], float, int]]:
    """``(box xyxy, score, label)`` of each detection, as Python numbers."""
    boxes, scores, labels = _as_list(det["boxes"]), _as_list(det["scores"]), _as_list(det["labels"])
    return [(list(map(float, b)), float(s), int(k)) for b, s, k in zip(boxes, scores, labels)]


def _check_label(label: int, num_classes: int, image: int) -> None:
    if not 1 <= label <= num_classes:
        raise ValueError(f"image {image}: detection label {label} is outside 1..{num_classes}")


def to_coco_results(detections: Sequence[Mapping], image_ids: Sequence[int], category_ids: Sequence[int]) -> list[dict]:
    """COCO results (schema in the module docstring).

    Args:
        detections: per image, ``boxes`` ``[D, 4]`` xyxy, ``scores`` ``[D]``, ``labels`` ``[D]`` in 1..C.
        image_ids: the id of each image.
        category_ids: the category id of each label: ``category_ids[k - 1]`` for label ``k``.
    """
    if len(detections) != len(image_ids):
        raise ValueError(f"{len(detections)} detection lists for {len(image_ids)} image ids")
    results = []
    for i, (det, image_id) in enumerate(zip(detections, image_ids)):
        for (x1, y1, x2, y2), score, label in _rows(det):
            _check_label(label, len(category_ids), i)
            bbox = [round(v, BOX_DECIMALS) for v in (x1, y1, x2 - x1, y2 - y1)]
            results.append({"image_id": int(image_id), "category_id": int(category_ids[label - 1]), "bbox": bbox, "score": round(score, SCORE_DECIMALS)})
    return results


def to_rich_results(detections: Sequence[Mapping], images: Sequence[Mapping], class_names: Sequence[str], model_info: Mapping) -> dict:
    """Rich results (schema in the module docstring).

    Args:
        detections: per image, as for :func:`to_coco_results`.
        images: per image, ``{"path", "width", "height", "image_id"}``.
        class_names: one per label.
        model_info: the model's identity, stored as ``model``.
    """
    if len(detections) != len(images):
        raise ValueError(f"{len(detections)} detection lists for {len(images)} images")
    entries = []
    for i, (det, image) in enumerate(zip(detections, images)):
        rows = []
        for box, score, label in sorted(_rows(det), key=lambda row: -row[1]):
            _check_label(label, len(class_names), i)
            rows.append({"box": [round(v, BOX_DECIMALS) for v in box], "score": round(score, SCORE_DECIMALS), "label": label, "class_name": class_names[label - 1]})
        path = image.get("path")
        entries.append({"path": None if path is None else str(path), "image_id": int(image["image_id"]), "width": int(image["width"]), "height": int(image["height"]), "detections": rows})
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "model": dict(model_info), "class_names": list(class_names), "images": entries}


def _jsonable(value):
    """``value`` with tensors, arrays and paths made JSON types and NaN/inf made ``None``."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, torch.Tensor):
        return _jsonable(value.detach().cpu().tolist())
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def write_json(obj, path: str | os.PathLike, indent: int | None = None) -> Path:
    """Write ``obj`` as JSON atomically (never a half-written file); returns the path.

    Tensors and numpy values are converted, non-finite floats written as ``null``,
    and the parent folder is created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(_jsonable(obj), indent=indent, allow_nan=False) + "\n")
    return path


def _require(condition: bool, path: Path, where: str, expected: str, value) -> None:
    if not condition:
        raise ResultsFormatError(f"{path}: {where}: expected {expected}, got {repr(value)[:80]}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_image(image, path: Path, where: str) -> None:
    _require(isinstance(image, dict), path, where, "an object", image)
    _require(image.get("path") is None or isinstance(image.get("path"), str), path, f"{where}.path", "a string or null", image.get("path"))
    for key in ("image_id", "width", "height"):
        _require(_is_int(image.get(key)), path, f"{where}.{key}", "an integer", image.get(key))
    _require(isinstance(image.get("detections"), list), path, f"{where}.detections", "a list", image.get("detections"))
    for d, det in enumerate(image["detections"]):
        at = f"{where}.detections[{d}]"
        _require(isinstance(det, dict), path, at, "an object", det)
        box = det.get("box")
        _require(isinstance(box, list) and len(box) == 4 and all(map(_is_number, box)), path, f"{at}.box", "[x1, y1, x2, y2] numbers", box)
        _require(_is_number(det.get("score")), path, f"{at}.score", "a number", det.get("score"))
        _require(_is_int(det.get("label")) and det["label"] >= 1, path, f"{at}.label", "an integer >= 1", det.get("label"))
        _require(isinstance(det.get("class_name"), str), path, f"{at}.class_name", "a string", det.get("class_name"))


def read_rich_results(path: str | os.PathLike) -> dict:
    """Read and validate a rich results file (schema in the module docstring).

    Raises:
        ResultsFormatError: unreadable, not JSON, another schema, a newer or unknown
            ``schema_version``, or a malformed record; the message names the file and
            the record (e.g. ``images[3].detections[0].box``).
    """
    path = Path(path)
    data = load_json(path, "a results file", ResultsFormatError)
    _require(isinstance(data, dict) and data.get("schema") == SCHEMA, path, "schema", f"a {SCHEMA!r} object", data.get("schema") if isinstance(data, dict) else data)
    version = data.get("schema_version")
    if _is_int(version) and version > SCHEMA_VERSION:
        raise ResultsFormatError(f"{path}: schema_version {version} was written by a newer version; this one reads version {SCHEMA_VERSION}")
    _require(version == SCHEMA_VERSION and _is_int(version), path, "schema_version", str(SCHEMA_VERSION), version)
    _require(isinstance(data.get("model"), dict), path, "model", "an object", data.get("model"))
    names = data.get("class_names")
    _require(isinstance(names, list) and all(isinstance(n, str) for n in names), path, "class_names", "a list of strings", names)
    _require(isinstance(data.get("images"), list), path, "images", "a list", data.get("images"))
    for i, image in enumerate(data["images"]):
        _check_image(image, path, f"images[{i}]")
    return data

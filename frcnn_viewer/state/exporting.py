"""Export detections as JSON with ``frcnn_core.files.export``: the schemas ``frcnn detect`` writes.

Boxes go out in the original file's pixels (an image shown downscaled is scaled back),
with each dataset's own image ids and, for a COCO dataset whose classes the model
shares, its own category ids, as ``frcnn detect --data`` does.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from frcnn_core.files.export import to_coco_results, to_rich_results, write_json

from .models import ModelInfo
from .results import ImageResult
from .sources import ImageEntry

FORMATS = ("coco", "rich")


def _original_pixels(result: ImageResult):
    detections = result.detections
    if result.display_scale == (1.0, 1.0):
        return detections
    sx, sy = result.display_scale
    return dataclasses.replace(detections, boxes=detections.boxes / detections.boxes.new_tensor([sx, sy, sx, sy]))


def _category_ids(entry: ImageEntry, model: ModelInfo) -> list[int]:
    config = model.config
    ids = getattr(entry.source.dataset, "category_ids", None)
    if ids is not None and entry.source.annotated and tuple(entry.source.class_names) == tuple(config.class_names):
        return list(ids)
    return list(range(1, config.num_classes + 1))


def detections_payload(items: list[tuple[ImageEntry, ImageResult]], model: ModelInfo, fmt: str = "coco"):
    """The JSON payload for ``(entry, result)`` pairs in ``fmt`` (``"coco"`` or ``"rich"``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    infos = [entry.info() for entry, _ in items]
    detections = [_original_pixels(result) for _, result in items]
    if fmt == "coco":
        payload = []
        by_source: dict[int, list[int]] = {}
        for k, (entry, _) in enumerate(items):
            by_source.setdefault(id(entry.source), []).append(k)
        for ks in by_source.values():
            payload += to_coco_results([detections[k] for k in ks], [infos[k]["image_id"] for k in ks], _category_ids(items[ks[0]][0], model))
        return payload
    config = model.config
    images = [{"path": info.get("path"), "width": info["size"][1], "height": info["size"][0], "image_id": info["image_id"]} for info in infos]
    identity = {"checkpoint": model.checkpoint, "config_fingerprint": config.fingerprint(), "backbone": config.backbone}
    class_names = list(config.class_names) or [config.label_name(k) for k in range(1, config.num_classes + 1)]
    return to_rich_results(detections, images, class_names, identity)


def export_detections(path: str | Path, items: list[tuple[ImageEntry, ImageResult]], model: ModelInfo, fmt: str = "coco") -> Path:
    """Write the detections of ``items`` to ``path`` atomically; returns the path."""
    path = Path(path)
    write_json(detections_payload(items, model, fmt), path)
    return path

"""A real-photo large-object set made from a small-object one: each image of a VOC set
cropped around one box of a chosen class, so that the object fills 40-95 % of the crop's
shorter side (as in photo sets of one animal), boxes of that class only. From BCCD's white
blood cells: ``bccd_wbc``, one class, 1 object per image, real microscope pixels.
"""

from __future__ import annotations

import math

import numpy as np

from frcnn_core.data.sample import DetectionDataset, Record

FILL = (0.40, 0.95)  # the object's sqrt(area) over the crop's shorter side
ASPECT = 4 / 3  # the crop's width over its height


class ObjectCropsDataset(DetectionDataset):
    """One crop per box of class ``class_name`` in ``base`` (crops drawn with ``seed``);
    the crop is clipped to the image, and keeps the boxes of that class it wholly contains."""

    def __init__(self, base: DetectionDataset, class_name: str, seed: int = 0):
        self.base = base
        self.class_names = (class_name,)
        self.category_ids = (1,)
        self.problems = list(base.problems)
        label = base.class_names.index(class_name) + 1
        rng = np.random.default_rng(seed)
        self.crops: list[tuple[int, Record, tuple[int, int, int, int]]] = []  # (source index, record, window)
        for index in range(len(base)):
            source = base.record(index)
            boxes = source.boxes[source.labels == label]
            for box in boxes:
                crop = self._crop(box, source.size, rng)
                if crop is None:
                    continue
                x1, y1, x2, y2 = crop
                inside = (boxes[:, 0] >= x1) & (boxes[:, 1] >= y1) & (boxes[:, 2] <= x2) & (boxes[:, 3] <= y2)
                kept = boxes[inside] - np.array([x1, y1, x1, y1], np.float32)
                record = Record(source.path, (y2 - y1, x2 - x1), len(self.crops), kept.astype(np.float32),
                                np.ones(len(kept), np.int64), np.zeros(len(kept), bool))
                self.crops.append((index, record, crop))

    @staticmethod
    def _crop(box: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> tuple[int, int, int, int] | None:
        """A window ``(x1, y1, x2, y2)`` in whole pixels holding ``box``, or None when the image
        is too small to give the object at most 95 % of the shorter side."""
        height, width = size
        w, h = box[2] - box[0], box[3] - box[1]
        fill = math.exp(rng.uniform(math.log(FILL[0]), math.log(FILL[1])))
        crop_h = math.sqrt(w * h) / fill
        crop_w = crop_h * ASPECT
        crop_w, crop_h = max(crop_w, w + 2), max(crop_h, h + 2)
        crop_w, crop_h = min(crop_w, width), min(crop_h, height)
        if crop_w < w + 2 or crop_h < h + 2:
            return None
        lows = (max(0.0, box[2] - crop_w), max(0.0, box[3] - crop_h))
        highs = (max(0.0, min(box[0], width - crop_w)), max(0.0, min(box[1], height - crop_h)))
        x1, y1 = (math.floor(rng.uniform(low, max(low, high))) for low, high in zip(lows, highs))
        x2, y2 = min(width, math.ceil(x1 + crop_w)), min(height, math.ceil(y1 + crop_h))
        return x1, y1, x2, y2

    def __len__(self) -> int:
        return len(self.crops)

    def record(self, index: int) -> Record:
        return self.crops[index][1]

    def pixels(self, index: int, record: Record) -> np.ndarray:
        source, _, (x1, y1, x2, y2) = self.crops[index]
        return np.ascontiguousarray(self.base.pixels(source, self.base.record(source))[y1:y2, x1:x2])

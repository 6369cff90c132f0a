"""The model's detections on one image, matched to its GT: what sorting and export use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frcnn_core import Detections, DetectorConfig
from frcnn_core.diagnose import ImageDiagnosis
from frcnn_core.evaluate import ImageMatching, match_image

from .models import model_labels
from .sources import LoadedImage


@dataclass
class ImageResult:
    """The model's detections on one list image (display pixels) and how they match its GT.

    ``target`` is the GT they were matched with (``boxes`` ``[G, 4]`` display pixels, ``labels``
    ``[G]`` in the model's classes, ``difficult`` ``[G]``; only boxes of classes the model knows),
    ``None`` for an image without GT; ``diagnosis`` the stage of every miss and the type of every
    false positive (:mod:`frcnn_viewer.state.diagnosis`), made from the same pass.
    """

    detections: Detections
    display_scale: tuple[float, float]
    matching: ImageMatching | None
    target: dict | None = None
    diagnosis: ImageDiagnosis | None = None

    def errors(self, score_threshold: float) -> dict[str, int]:
        """True positives, false positives and missed GT at ``score_threshold`` (empty without GT)."""
        return self.matching.summary(score_threshold) if self.matching is not None else {}


def image_result(image: LoadedImage, detections: Detections, config: DetectorConfig) -> ImageResult:
    """Match ``detections`` of ``image`` to its GT (when it has any), by the rule of ``frcnn eval``."""
    matching = target = None
    if image.annotated:
        matching = match_image(
            detections.boxes.numpy(), detections.scores.numpy(), detections.labels.numpy(),
            image.gt_boxes, model_labels(image.gt_names, config), image.difficult,
        )
        target = model_target(image, config)
    return ImageResult(detections, image.display_scale, matching, target)


def model_target(image: LoadedImage, config: DetectorConfig) -> dict | None:
    """The GT of ``image`` in the model's labels, ``None`` for an image without GT: ``boxes``
    ``[G, 4]`` float32 xyxy displayed pixels, ``labels`` ``[G]`` int64 1..C, ``difficult`` ``[G]``
    bool; boxes of classes the model does not know are left out (as from the traced target)."""
    if not image.annotated:
        return None
    labels = model_labels(image.gt_names, config)
    known = labels > 0
    return {
        "boxes": np.asarray(image.gt_boxes, np.float32).reshape(-1, 4)[known],
        "labels": labels[known],
        "difficult": np.asarray(image.difficult, bool).reshape(-1)[known],
    }

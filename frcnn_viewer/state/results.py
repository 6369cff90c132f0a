"""The model's detections on one image, matched to its GT: what sorting and export use."""

from __future__ import annotations

from dataclasses import dataclass

from frcnn_core import Detections, DetectorConfig
from frcnn_core.evaluate import ImageMatching, match_image

from .models import model_labels
from .sources import LoadedImage


@dataclass
class ImageResult:
    """The model's detections on one list image (display pixels) and how they match its GT."""

    detections: Detections
    display_scale: tuple[float, float]
    matching: ImageMatching | None

    def errors(self, score_threshold: float) -> dict[str, int]:
        """True positives, false positives and missed GT at ``score_threshold`` (empty without GT)."""
        return self.matching.summary(score_threshold) if self.matching is not None else {}


def image_result(image: LoadedImage, detections: Detections, config: DetectorConfig) -> ImageResult:
    """Match ``detections`` of ``image`` to its GT (when it has any), by the rule of ``frcnn eval``."""
    matching = None
    if image.annotated:
        matching = match_image(
            detections.boxes.numpy(), detections.scores.numpy(), detections.labels.numpy(),
            image.gt_boxes, model_labels(image.gt_names, config), image.difficult,
        )
    return ImageResult(detections, image.display_scale, matching)

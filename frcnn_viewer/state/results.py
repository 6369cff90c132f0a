"""The model's detections on one image, matched to its GT: what sorting and export use.

Each result also carries the model's *uncertainty* on the image (:func:`detection_uncertainty`),
computed where the detections are made (the inference worker's "analyse all"), for sorting
the images to label next.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

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
    uncertainty: float = 0.0

    def errors(self, score_threshold: float) -> dict[str, int]:
        """True positives, false positives and missed GT at ``score_threshold`` (empty without GT)."""
        return self.matching.summary(score_threshold) if self.matching is not None else {}


def detection_uncertainty(class_scores: torch.Tensor) -> float:
    """The model's uncertainty on an image: the largest entropy, in bits, of a detection's class
    scores (``class_scores`` ``[D, C + 1]``, softmax rows with background first); 0 without
    detections.

    Entropy over the whole distribution (background included) is high both for a box the model
    is unsure is an object at all and for one it cannot name; the largest (not the sum) so
    that the dozens of low-score background detections a weak model makes on every image do
    not decide the order.
    """
    if class_scores.numel() == 0:
        return 0.0
    p = class_scores.double().clamp_min(0.0)
    entropy = -(torch.special.xlogy(p, p)).sum(dim=1) / torch.log(torch.tensor(2.0, dtype=torch.float64))
    return float(entropy.max())


def image_result(image: LoadedImage, detections: Detections, config: DetectorConfig) -> ImageResult:
    """Match ``detections`` of ``image`` to its GT (when it has any), by the rule of ``frcnn eval``."""
    matching = None
    if image.annotated:
        matching = match_image(
            detections.boxes.numpy(), detections.scores.numpy(), detections.labels.numpy(),
            image.gt_boxes, model_labels(image.gt_names, config), image.difficult,
        )
    return ImageResult(detections, image.display_scale, matching, detection_uncertainty(detections.class_scores))

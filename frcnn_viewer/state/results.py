"""The model's detections on one image, matched to its GT: what sorting and export use."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from frcnn_core import Detections, DetectorConfig
from frcnn_core.evaluate import ImageMatching, match_image

from .models import class_match, model_labels
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
    """Match ``detections`` of ``image`` to its GT (when it has any), by the rule of ``frcnn eval``.

    Classes meet by name (:class:`~frcnn_viewer.state.models.ClassMatch`): GT of a class the
    model lacks is left out (passed as ``difficult``: neither found nor missed), detections of a
    class the image's data lacks are ``ignored``, and with no class in common there is no matching.
    """
    if not image.annotated:
        return ImageResult(detections, image.display_scale, None)
    match = class_match(config, tuple(dict.fromkeys((*image.entry.source.class_names, *image.gt_names))))
    if not match.comparable:
        return ImageResult(detections, image.display_scale, None)
    labels = model_labels(image.gt_names, config)
    matching = match_image(
        detections.boxes.numpy(), detections.scores.numpy(), detections.labels.numpy(),
        image.gt_boxes, labels, image.difficult | (labels == 0),
    )
    foreign = np.isin(matching.labels, match.foreign_labels())
    if foreign.any():
        matching = dataclasses.replace(matching, ignored=matching.ignored | foreign)
    return ImageResult(detections, image.display_scale, matching)

"""The model's detections on one image, matched to its GT: what sorting and export use.

Each result also carries the model's *uncertainty* on the image (:func:`detection_uncertainty`),
computed where the detections are made (the inference worker's "analyse all"), for sorting
the images to label next.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from frcnn_core import Detections, DetectorConfig
from frcnn_core.evaluation.diagnose import ImageDiagnosis
from frcnn_core.evaluation.metrics import ImageMatching, match_image

from .models import class_match, model_labels
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
    uncertainty: float = 0.0
    target: dict | None = None
    diagnosis: ImageDiagnosis | None = None

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
    """Match ``detections`` of ``image`` to its GT (when it has any), by the rule of ``frcnn eval``.

    Classes meet by name (:class:`~frcnn_viewer.state.models.ClassMatch`): GT of a class the
    model lacks is left out (passed as ``difficult``: neither found nor missed), detections of a
    class the image's data lacks are ``ignored``, and with no class in common there is no matching.
    """
    uncertainty = detection_uncertainty(detections.class_scores)
    if not image.annotated:
        return ImageResult(detections, image.display_scale, None, uncertainty)
    target = model_target(image, config)
    match = class_match(config, tuple(dict.fromkeys((*image.entry.source.class_names, *image.gt_names))))
    if not match.comparable:
        return ImageResult(detections, image.display_scale, None, uncertainty, target)
    labels = model_labels(image.gt_names, config)
    matching = match_image(
        detections.boxes.numpy(), detections.scores.numpy(), detections.labels.numpy(),
        image.gt_boxes, labels, image.difficult | (labels == 0),
    )
    foreign = np.isin(matching.labels, match.foreign_labels())
    if foreign.any():
        matching = dataclasses.replace(matching, ignored=matching.ignored | foreign)
    return ImageResult(detections, image.display_scale, matching, uncertainty, target)


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

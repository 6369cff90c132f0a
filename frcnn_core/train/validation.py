"""Validation during training: the four losses and the scores of ``frcnn eval`` on a held-out set.

:func:`validate` runs the model in eval mode over the whole validation set in batches of
:data:`VAL_BATCH_SIZE` (the batches ``frcnn eval`` predicts in, so the detections, and with
them ``map50``, are the ones ``frcnn eval`` reports for the same weights), computing from
one trunk pass per batch both the training losses (:meth:`FasterRCNN.validation_pass`) and
the detections. The anchor and RoI sampling of the losses draws from a generator seeded
the same way at every validation, so two validations of the same weights give the same
losses and a change between two validations is the model's.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import torch

from ..data.errors import DatasetError
from ..evaluation.scoring import score_detections
from ..models.faster_rcnn import LOSS_NAMES

log = logging.getLogger(__name__)

VAL_BATCH_SIZE = 4  # frcnn eval's default --batch-size: the same padding, the same detections
VAL_SPLIT = "val"
SAME_SCORE = 1e-9  # scores this close are equal: the same detections summed in another order


@dataclass(frozen=True)
class ValidationResult:
    """One validation at ``iteration`` (completed iterations).

    ``losses`` holds the four losses and ``total``, each the mean over the validation
    images; ``map50`` is the VOC mAP@0.5 (area) and ``coco_ap`` the COCO AP@[.5:.95], as
    ``frcnn eval`` reports them; ``best`` whether this is the best validation of the run so
    far (:func:`is_better`; its weights are then in ``best.pt``); ``seconds`` how long it took.
    """

    iteration: int
    losses: dict[str, float]
    map50: float
    coco_ap: float
    seconds: float
    best: bool = False

    def record(self) -> dict:
        """The ``metrics.jsonl`` line: ``{"iteration", "split": "val", <losses>, "total", "map50", "coco_ap", ...}``."""
        return {
            "iteration": self.iteration, "split": VAL_SPLIT, **self.losses, "map50": self.map50, "coco_ap": self.coco_ap,
            "best": self.best, "seconds": self.seconds,
        }


def is_better(map50: float, coco_ap: float, best_map50: float | None, best_coco_ap: float | None) -> bool:
    """Whether a validation scoring ``map50`` / ``coco_ap`` is better than the best so far
    (``best_map50`` ``None``: none yet): a higher mAP@0.5, or the same (within
    :data:`SAME_SCORE`) and a higher COCO AP. On a small val set mAP@0.5 often stops moving
    (one object more or less found) while the boxes still tighten: the tie goes to the
    better-placed boxes."""
    if best_map50 is None:
        return True
    if map50 > best_map50 + SAME_SCORE:
        return True
    return map50 >= best_map50 - SAME_SCORE and coco_ap > (-1.0 if best_coco_ap is None else best_coco_ap) + SAME_SCORE


def best_validation(records: list[dict]) -> dict | None:
    """The record of ``records`` (``metrics.jsonl`` validation rows, in order) whose weights a
    run kept in ``best.pt``: the last one :func:`is_better` than all before it."""
    best = None
    for record in records:
        if is_better(record["map50"], record["coco_ap"], *((best["map50"], best["coco_ap"]) if best else (None, None))):
            best = record
    return best


def _load(dataset, index: int):
    try:
        image, target = dataset[index]
    except DatasetError as exc:  # deleted or cut short since the set was opened: scored as found nothing
        log.warning("validation image %d gets no detections: %s", index, exc)
        return None
    keep = ~target["difficult"] if "difficult" in target else slice(None)
    return image, {"boxes": target["boxes"][keep].float(), "labels": target["labels"][keep]}


@torch.no_grad()
def validate(model, dataset, device: torch.device, iteration: int = 0, seed: int = 0) -> ValidationResult:
    """Validation losses and scores of ``model`` (a :class:`FasterRCNN`, or a model without
    :meth:`~FasterRCNN.validation_pass`, whose losses are then NaN) on every image of
    ``dataset`` (the model's mode is restored). Losses are averaged over the readable
    images, weighted by batch size."""
    from ..inference import no_detections  # frcnn_core.inference imports this package (train.distributed)

    start = time.perf_counter()
    was_training = model.training
    model.eval()
    generator = torch.Generator(device=device).manual_seed(seed)
    totals = torch.zeros(len(LOSS_NAMES), device=device)
    counted = 0
    detections = []
    try:
        for first in range(0, len(dataset), VAL_BATCH_SIZE):
            loaded = [_load(dataset, i) for i in range(first, min(first + VAL_BATCH_SIZE, len(dataset)))]
            readable = [item for item in loaded if item is not None]
            found = iter([])
            if readable:
                images = [image.to(device) for image, _ in readable]
                targets = [{k: v.to(device) for k, v in target.items()} for _, target in readable]
                if hasattr(model, "validation_pass"):
                    result = model.validation_pass(images, targets, generator)
                    totals += torch.stack([result.losses[k].float() for k in LOSS_NAMES]) * len(readable)
                    counted += len(readable)
                    found = iter([d.map(lambda t: t.cpu()) for d in result.detections])
                else:  # a wrapped torchvision model computes no losses in eval mode: scores only, losses NaN
                    found = iter([d.map(lambda t: t.cpu()) for d in model(images)])
            detections += [next(found) if item is not None else no_detections(model.config.num_classes) for item in loaded]
    finally:
        model.train(was_training)
    means = (totals / counted).tolist() if counted else [float("nan")] * len(LOSS_NAMES)
    losses = dict(zip(LOSS_NAMES, means))
    losses["total"] = sum(means)
    report = score_detections(detections, dataset)
    return ValidationResult(iteration, losses, float(report["map50"]), float(report["coco_ap"]), time.perf_counter() - start)

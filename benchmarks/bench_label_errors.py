"""How well ``frcnn label-errors`` ranks injected annotation mistakes, against cleanlab, and its time against ``frcnn diagnose``.

A model trained on clean data looks at a held-out set whose labels were corrupted at known
rates: each GT box is dropped (a ``missing`` object), relabelled to another class
(``wrong_class``), or moved so that its IoU with the true box is 0.15-0.45 (``bad_box``),
each with its own probability, and boxes are added on empty background (``spurious``).
Both rankers see the same predictions: ours reads the trace (and the head on the labelled
boxes), cleanlab 2.x reads every detection the model outputs (its ``object_detection``
per-box scores ``compute_overlooked_box_scores``, ``compute_swap_box_scores`` and
``compute_badloc_box_scores``; lower means more likely an error, so they are ranked by
``1 - score``). Per kind, the average precision of each ranking:

- ``missing``: candidates are predicted boxes (ours: the ``missing`` entries; cleanlab's:
  the boxes it gives an overlooked score); one is a hit when its IoU with a dropped box not
  yet found is >= 0.5; recall over the dropped boxes;
- ``wrong_class``, ``bad_box``, ``spurious``: candidates are the labelled boxes (ours: the
  entries of that kind; cleanlab's: every box); a hit is a box corrupted that way;

AP is the area under the interpolated precision-recall curve (VOC's rule,
:func:`frcnn_core.evaluation.metrics.voc_ap`), candidates in decreasing score (ties in
image, then box order). Then ``frcnn label-errors``' work (one traced pass per image, the
head on the labels, the rule) and ``frcnn diagnose``'s alternate ``--repeats`` times on
the corrupted set; the best time of each is compared.

    frcnn train --data shapes --output runs/shapes --device cpu --iterations 1000
    python benchmarks/bench_label_errors.py --checkpoint runs/shapes/last.pt [--json rows.json]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from frcnn_core.boxes import pairwise_iou
from frcnn_core.data import open_dataset
from frcnn_core.evaluation.diagnose import diagnose_dataset
from frcnn_core.evaluation.label_errors import (
    MIN_SCORE,
    LabelErrorKind,
    find_label_errors,
    find_label_errors_dataset,
    trace_with_verdict,
)
from frcnn_core.evaluation.metrics import voc_ap
from frcnn_core.models.checkpoint import load_checkpoint

HIT_IOU = 0.5
CONFIDENT = 0.5  # our confident score (find_label_errors' score_threshold)
RANKED_MIN_SCORE = 1e-6  # the rankings hold every entry scoring above 0
SHIFT_IOU = (0.15, 0.45)
ADDED_SIZE = (20.0, 60.0)  # side of an added box, pixels
ADDED_MAX_IOU = 0.0  # an added box overlaps no labelled box


@dataclass
class Corruption:
    """What was done to one image's labels: the corrupted target and where each kind of mistake is."""

    target: dict
    dropped: list[tuple[list[float], int]]  # (true box, label) of each dropped box
    relabelled: list[int]  # rows of the corrupted target
    shifted: list[int]
    added: list[int]


def _iou(a, b) -> float:
    return float(pairwise_iou(torch.tensor([a], dtype=torch.float32), torch.tensor([b], dtype=torch.float32))[0, 0])


def _shifted(box: list[float], size: tuple[int, int], rng: np.random.Generator) -> list[float] | None:
    """``box`` moved in a random direction (and its far edges stretched or shrunk a little) until its
    IoU with itself is within :data:`SHIFT_IOU`, inside the image; ``None`` if it cannot be."""
    height, width = size
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    goal = rng.uniform(*SHIFT_IOU)
    angle = rng.uniform(0, 2 * math.pi)
    stretch = rng.uniform(0.85, 1.2, size=2)
    low, high = 0.0, 2.0
    for _ in range(40):  # bisection on the shift, in box sizes
        t = (low + high) / 2
        cx, cy = (x1 + x2) / 2 + t * w * math.cos(angle), (y1 + y2) / 2 + t * h * math.sin(angle)
        nw, nh = w * stretch[0], h * stretch[1]
        moved = [cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2]
        if _iou(box, moved) > goal:
            low = t
        else:
            high = t
    moved = [min(max(moved[0], 0.0), width - 1), min(max(moved[1], 0.0), height - 1), min(max(moved[2], 1.0), width), min(max(moved[3], 1.0), height)]
    value = _iou(box, moved)
    return moved if SHIFT_IOU[0] <= value <= SHIFT_IOU[1] and moved[2] - moved[0] >= 4 and moved[3] - moved[1] >= 4 else None


def _added_box(boxes: list[list[float]], size: tuple[int, int], rng: np.random.Generator) -> list[float] | None:
    height, width = size
    for _ in range(50):
        w, h = rng.uniform(*ADDED_SIZE, size=2)
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        box = [x, y, x + w, y + h]
        if all(_iou(box, other) <= ADDED_MAX_IOU for other in boxes):
            return box
    return None


def corrupt(target: dict, size: tuple[int, int], num_classes: int, rates: dict[str, float], rng: np.random.Generator) -> Corruption:
    """Each non-difficult box: dropped, relabelled or shifted with the given probabilities (at
    most one each); then ``rates["add"]`` boxes per original box added on empty background
    (drawn per box: the expected count)."""
    boxes, labels = target["boxes"].tolist(), target["labels"].tolist()
    difficult = target.get("difficult", torch.zeros(len(labels), dtype=torch.bool)).tolist()
    out_boxes, out_labels, out_difficult = [], [], []
    dropped, relabelled, shifted, added = [], [], [], []
    for box, label, hard in zip(boxes, labels, difficult):
        draw = rng.uniform()
        row = len(out_boxes)
        if not hard and draw < rates["drop"]:
            dropped.append((box, label))
            continue
        if not hard and draw < rates["drop"] + rates["relabel"] and num_classes > 1:
            label = int(rng.choice([k for k in range(1, num_classes + 1) if k != label]))
            relabelled.append(row)
        elif not hard and draw < rates["drop"] + rates["relabel"] + rates["shift"]:
            moved = _shifted(box, size, rng)
            if moved is not None:
                box = moved
                shifted.append(row)
        out_boxes.append(box)
        out_labels.append(label)
        out_difficult.append(hard)
    for _ in range(len(boxes)):
        if rng.uniform() < rates["add"]:
            box = _added_box(boxes + out_boxes, size, rng)
            if box is not None:
                added.append(len(out_boxes))
                out_boxes.append(box)
                out_labels.append(int(rng.integers(1, num_classes + 1)))
                out_difficult.append(False)
    corrupted = {
        "boxes": torch.tensor(out_boxes, dtype=torch.float32).reshape(-1, 4),
        "labels": torch.tensor(out_labels, dtype=torch.int64),
        "difficult": torch.tensor(out_difficult, dtype=torch.bool),
    }
    return Corruption(corrupted, dropped, relabelled, shifted, added)


class CorruptedDataset:
    """``base`` with each image's target replaced by its corruption (same images, ids and classes)."""

    def __init__(self, base, corruptions: list[Corruption]) -> None:
        self.base, self.corruptions = base, corruptions
        self.class_names = base.class_names

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        image, _ = self.base[index]
        return image, self.corruptions[index].target

    def info(self, index: int) -> dict:
        return {**self.base.info(index), "target": self.corruptions[index].target}


def ranking_ap(candidates: list[tuple[float, object]], positives: int) -> float:
    """VOC area AP of candidates ``(score, hit)`` in decreasing score (stable), ``hit`` true for a
    correct one; recall over ``positives``."""
    if positives == 0:
        return float("nan")
    order = sorted(range(len(candidates)), key=lambda i: -candidates[i][0])
    hits = np.array([bool(candidates[i][1]) for i in order], dtype=np.float64)
    tp, fp = np.cumsum(hits), np.cumsum(1.0 - hits)
    return voc_ap(tp / positives, tp / np.maximum(tp + fp, np.finfo(np.float64).eps))


def _missing_hits(ranked: list[tuple[float, int, list[float]]], corruptions: list[Corruption]) -> list[tuple[float, bool]]:
    """``(score, hit)`` of predicted boxes ``(score, image, box)``: a hit takes a dropped box of its
    image (IoU >= :data:`HIT_IOU`) that no better-ranked box took."""
    taken: set[tuple[int, int]] = set()
    out = []
    for score, image, box in sorted(ranked, key=lambda row: -row[0]):
        hit = False
        for j, (true_box, _label) in enumerate(corruptions[image].dropped):
            if (image, j) not in taken and _iou(box, true_box) >= HIT_IOU:
                taken.add((image, j))
                hit = True
                break
        out.append((score, hit))
    return out


def cleanlab_inputs(detections: list, corruptions: list[Corruption], num_classes: int) -> tuple[list[dict], list[list[np.ndarray]]]:
    """cleanlab's ``labels`` (0-based classes) and ``predictions`` (per class ``[M_k, 5]`` x1 y1 x2 y2
    probability) from our detections and the corrupted targets."""
    labels, predictions = [], []
    for det, c in zip(detections, corruptions):
        labels.append({"bboxes": c.target["boxes"].numpy().astype(np.float64), "labels": c.target["labels"].numpy() - 1})
        rows = np.concatenate([det.boxes.numpy(), det.scores.numpy()[:, None]], axis=1).astype(np.float64)
        predictions.append([rows[det.labels.numpy() == k].reshape(-1, 5) for k in range(1, num_classes + 1)])
    return labels, predictions


def trace_all(model, dataset: CorruptedDataset) -> list:
    """``(trace, verdict)`` of every image with its corrupted labels (one pass each)."""
    with torch.no_grad():
        return [trace_with_verdict(model, image, target["boxes"]) for image, target in (dataset[i] for i in range(len(dataset)))]


def evaluate(traced: list, corruptions: list[Corruption], num_classes: int) -> dict[str, dict[str, float]]:
    """Per kind: positives, our AP, cleanlab's AP and our entry count, from the traces of the corrupted set."""
    from cleanlab.object_detection.rank import compute_badloc_box_scores, compute_overlooked_box_scores, compute_swap_box_scores

    # every entry with a score above 0 is ranked, as cleanlab ranks every box; "entries" counts
    # those frcnn label-errors lists (score >= MIN_SCORE)
    ours: dict[LabelErrorKind, list] = {kind: [] for kind in LabelErrorKind}
    plain: dict[LabelErrorKind, list] = {kind: [] for kind in LabelErrorKind}  # the same rule without the head's verdict
    for i, ((trace, verdict), c) in enumerate(zip(traced, corruptions)):
        for found, given in ((ours, verdict), (plain, None)):
            for e in find_label_errors(trace, c.target, given, min_score=RANKED_MIN_SCORE):
                found[e.kind].append((e.score, i, e))
    detections = [trace.detections for trace, _ in traced]
    labels, predictions = cleanlab_inputs(detections, corruptions, num_classes)
    theirs = {}
    for name, threshold in (("cleanlab", None), ("cleanlab_0.5", CONFIDENT)):  # its defaults; its thresholds at our confident score
        theirs[name] = (
            compute_overlooked_box_scores(labels=labels, predictions=predictions, high_probability_threshold=threshold),
            compute_swap_box_scores(labels=labels, predictions=predictions, high_probability_threshold=threshold),
            compute_badloc_box_scores(labels=labels, predictions=predictions, low_probability_threshold=threshold),
        )

    rows = {}
    dropped = sum(len(c.dropped) for c in corruptions)
    listed = {kind: sum(s >= MIN_SCORE for s, _, _ in ours[kind]) for kind in LabelErrorKind}
    rows["missing"] = {"positives": dropped, "entries": listed[LabelErrorKind.MISSING]}
    for name, found in (("ours", ours), ("ours_no_head", plain)):
        hits = _missing_hits([(s, i, list(e.suggested_box)) for s, i, e in found[LabelErrorKind.MISSING]], corruptions)
        rows["missing"][name] = ranking_ap(hits, dropped)
    for name, (overlooked, _swap, _badloc) in theirs.items():
        candidates = []
        for i, (scores, per_class) in enumerate(zip(overlooked, predictions)):
            boxes = np.concatenate(per_class)[:, :4] if per_class else np.zeros((0, 4))
            candidates += [(1.0 - score, i, box) for score, box in zip(scores.tolist(), boxes.tolist()) if not math.isnan(score)]
        rows["missing"][name] = ranking_ap(_missing_hits(candidates, corruptions), dropped)

    for kind, attribute, column in ((LabelErrorKind.WRONG_CLASS, "relabelled", 1), (LabelErrorKind.BAD_BOX, "shifted", 2), (LabelErrorKind.SPURIOUS, "added", None)):
        truth = {(i, row) for i, c in enumerate(corruptions) for row in getattr(c, attribute)}
        rows[kind.value] = {"positives": len(truth), "entries": listed[kind]}
        for name, found in (("ours", ours), ("ours_no_head", plain)):
            rows[kind.value][name] = ranking_ap([(s, (i, e.index) in truth) for s, i, e in found[kind]], len(truth))
        for name, scores in theirs.items():
            rows[kind.value][name] = None if column is None else ranking_ap(
                [(1.0 - float(s), (i, row) in truth) for i, per_image in enumerate(scores[column]) for row, s in enumerate(per_image.tolist())], len(truth)
            )
    return rows


def time_against_diagnose(model, dataset, repeats: int) -> dict[str, float]:
    times = {"diagnose": [], "label-errors": []}
    for _ in range(repeats):
        for name, work in (("diagnose", lambda: diagnose_dataset(model, dataset)), ("label-errors", lambda: find_label_errors_dataset(model, dataset))):
            start = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a model trained on the clean training split")
    parser.add_argument("--data", default="shapes", help="shapes or composite (their val split), or any dataset frcnn opens")
    parser.add_argument("--split", default="val")
    parser.add_argument("--num-images", type=int, help="size of the generated val set (default 200)")
    parser.add_argument("--drop", type=float, default=0.1, help="share of GT boxes dropped")
    parser.add_argument("--relabel", type=float, default=0.1, help="share of GT boxes given another class")
    parser.add_argument("--shift", type=float, default=0.1, help="share of GT boxes moved to IoU 0.15-0.45")
    parser.add_argument("--add", type=float, default=0.1, help="boxes added on background, per GT box")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="timing runs of each side (0: no timing)")
    parser.add_argument("--json", help="write the table's rows to this file")
    args = parser.parse_args()

    generated = args.data in ("shapes", "composite")
    base = open_dataset(args.data, split=args.split, **({"num_images": args.num_images} if generated and args.num_images else {}))
    model, _ = load_checkpoint(args.checkpoint)
    model.eval()
    num_classes = len(base.class_names)
    rng = np.random.default_rng(args.seed)
    rates = {"drop": args.drop, "relabel": args.relabel, "shift": args.shift, "add": args.add}
    corruptions = []
    for i in range(len(base)):
        info = base.info(i)
        corruptions.append(corrupt(info["target"], tuple(info["size"]), num_classes, rates, rng))
    dataset = CorruptedDataset(base, corruptions)

    rows = evaluate(trace_all(model, dataset), corruptions, num_classes)
    total = sum(len(base.info(i)["target"]["labels"]) for i in range(len(base)))
    print(f"{len(base)} images of {args.data} ({args.split}), {total} GT boxes; injected: drop {args.drop:g}, relabel {args.relabel:g}, "
          f"shift {args.shift:g}, add {args.add:g} per box (seed {args.seed}); model {args.checkpoint}")
    print()
    print("| kind | injected | our entries | our AP | our AP without the head | cleanlab score | cleanlab AP (its defaults) | cleanlab AP (thresholds 0.5) |")
    print("|---|---|---|---|---|---|---|---|")
    functions = {"missing": "`compute_overlooked_box_scores`", "wrong_class": "`compute_swap_box_scores`", "bad_box": "`compute_badloc_box_scores`"}
    for kind, row in rows.items():
        theirs = " | ".join("—" if row[name] is None else f"{row[name]:.3f}" for name in ("cleanlab", "cleanlab_0.5"))
        print(f"| {kind} | {row['positives']} | {row['entries']} | **{row['ours']:.3f}** | {row['ours_no_head']:.3f} | "
              f"{functions.get(kind, '— (no such kind)')} | {theirs} |")
    if args.repeats:
        best = time_against_diagnose(model, dataset, args.repeats)
        rows["seconds"] = best
        print()
        print(f"label-errors {best['label-errors']:.2f} s, diagnose {best['diagnose']:.2f} s (best of {args.repeats}, torch threads "
              f"{torch.get_num_threads()}): ratio label-errors/diagnose {best['label-errors'] / best['diagnose']:.2f}x")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()

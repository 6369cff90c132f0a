"""Does the default recipe learn? ``frcnn train``'s defaults (the ``cpu`` preset, the
training-start anchor check, validation with ``best.pt``) trained per set and seed, the
recommended checkpoint scored on images neither training nor validation saw; beside each
run torchvision's FasterRCNN with the same trunk, anchors and image size, trained by the
same loop for as long in wall time (its speed measured on a short probe first).

Sets: ``bccd`` (``../shared/data/bccd/BCCD``, VOC: trains on ``train``, validates on
``val``, scored on ``test``), ``shapes`` and ``composite`` (generated: validated on their
``val`` split, scored on another ``val`` drawn with seed 1), ``large`` (a small
large-object set like a photo set of one animal: 200 training images of 512x384 with 1 or
2 crops of 45-95 % of the shorter side, 50 validation, 100 scored), ``bccd_wbc`` (real
photos of one large object: BCCD's splits cropped around each white blood cell, which then
fills 40-95 % of the shorter side; 214 / 87 / 71 images), or any dataset path
with ImageSets train/val/test.

``--detector``/``--train`` JSON objects change the recipe (``DetectorConfig`` and
``TrainConfig`` fields over the ``cpu`` preset's) and ``--autoanchor on|off`` overrides the
default, to measure a candidate against the defaults on the same seeds; ``--label`` names
the recipe in the rows.

    OMP_NUM_THREADS=1 python benchmarks/bench_learning.py --sets bccd,shapes,composite --seeds 0,1,2
    python benchmarks/bench_learning.py --sets large --seeds 0 --no-peer --label seed-border \
        --detector '{"rpn_allowed_border": 0}' --autoanchor off --json rows.json
    python benchmarks/bench_learning.py --sets bccd --seeds 0 --iterations 300 --no-peer --json rows.json
    python benchmarks/bench_learning.py --table rows.json,more.json   # the table of runs, finished or not
    python benchmarks/bench_learning.py --sets large --seeds 0 --no-peer --score-validations   # which checkpoint to choose
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch
from bench_autoanchor import LargeCropsDataset
from bench_detector import torchvision_peer
from bench_training import predict_torchvision, train_torchvision
from object_crops import ObjectCropsDataset
from row_files import add_row_file_options, read_rows, save_rows

from frcnn_core import FasterRCNN, open_dataset
from frcnn_core.anchors.check import anchors_for_training
from frcnn_core.evaluation.scoring import score_detections
from frcnn_core.inference import predict_dataset
from frcnn_core.models.checkpoint import read_checkpoint
from frcnn_core.presets import choose_preset, detector_config, train_config
from frcnn_core.train import Trainer, best_validation

BCCD = Path(__file__).resolve().parents[2] / "shared" / "data" / "bccd" / "BCCD"  # ../shared beside the repository
PROBE_ITERATIONS = 20  # torchvision iterations timed to size its run to our wall time


LARGE_IMAGES = {"train": 200, "val": 50, "scored": 100}


def datasets(name: str, bccd: Path) -> tuple:
    """``(train, validation, scored)`` of a set."""
    if name in ("shapes", "composite"):
        return open_dataset(name, split="train"), open_dataset(name, split="val"), open_dataset(name, split="val", seed=1)
    if name == "large":
        options = {"image_size": (384, 512), "max_objects": 2}
        return (LargeCropsDataset(LARGE_IMAGES["train"], split="train", **options),
                LargeCropsDataset(LARGE_IMAGES["val"], split="val", **options),
                LargeCropsDataset(LARGE_IMAGES["scored"], split="val", seed=1, **options))
    if name == "bccd_wbc":
        return tuple(ObjectCropsDataset(open_dataset(bccd, split=split), "WBC") for split in ("train", "val", "test"))
    root = bccd if name == "bccd" else Path(name)
    return open_dataset(root, split="train"), open_dataset(root, split="val"), open_dataset(root, split="test")


def scores(detections, dataset) -> dict:
    report = score_detections(detections, dataset)
    return {"map50": report["map50"], "coco_ap": report["coco_ap"]}


class ValidationScores:
    """A :class:`Trainer` callback scoring the weights of every validation on the scored set,
    so one run shows what each way of choosing the checkpoint would have given (rows
    ``{"iteration", "val_map50", "val_coco_ap", "map50", "coco_ap"}``); its time is kept apart."""

    def __init__(self, trainer: Trainer, test) -> None:
        self.trainer, self.test, self.rows, self.seconds = trainer, test, [], 0.0

    def __call__(self, step) -> None:
        if step.validation is None:
            return
        start = time.perf_counter()
        found = scores(predict_dataset(self.trainer.model, self.test, 4, "cpu"), self.test)
        self.rows.append({"iteration": step.iteration, "val_map50": step.validation.map50, "val_coco_ap": step.validation.coco_ap, **found})
        self.seconds += time.perf_counter() - start


def train_ours(train, val, test, iterations: int | None, seed: int, recipe: dict, keep: Path | None = None,
               score_validations: bool = False) -> tuple[dict, float, object]:
    """``frcnn train``'s defaults on a CPU changed by ``recipe`` (``detector``, ``train``:
    field overrides; ``autoanchor``: a bool or None for the default); returns the scores of
    the recommended checkpoint (copied to ``keep`` when given), the wall time and the config.
    With ``score_validations`` the row's ``validations`` holds the scores of every
    validation's weights (:class:`ValidationScores`; not counted in the wall time)."""
    preset = choose_preset("cpu", on_cpu=True)
    cfg = detector_config(tuple(train.class_names), preset, recipe["detector"])
    cfg, lines = anchors_for_training(train, cfg, recipe["autoanchor"])
    for line in lines:
        print(f"    {line}")
    overrides = {**recipe["train"], "seed": seed, **({"iterations": iterations} if iterations else {})}
    tcfg = train_config(preset, overrides)
    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(FasterRCNN(cfg), train, tcfg, folder, device="cpu", val_dataset=val)
        scored = ValidationScores(trainer, test)
        if score_validations:
            trainer.callbacks.append(scored)
        start = time.perf_counter()
        trainer.run()
        wall = time.perf_counter() - start - scored.seconds
        validation = sum(r["seconds"] for r in map(json.loads, (Path(folder) / "metrics.jsonl").read_text().splitlines()) if r.get("split") == "val")
        recommended = trainer.recommended_checkpoint
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(recommended, keep)
        trainer.model.load_state_dict(read_checkpoint(recommended)["model"])
        result = scores(predict_dataset(trainer.model, test, 4, "cpu"), test)
    result.update(seconds=wall, validation_seconds=validation, checkpoint=recommended.name, iterations=trainer.iteration,
                  anchor_scales=list(cfg.anchor_scales), anchor_ratios=list(cfg.anchor_ratios))
    if score_validations:
        result["validations"] = scored.rows
    return result, wall, cfg


def train_peer(cfg, train, test, seconds: float, seed: int, batch_size: int, lr: float) -> dict:
    """torchvision's FasterRCNN with ``cfg``'s trunk and anchors, trained for about ``seconds``."""
    preset = choose_preset("cpu", on_cpu=True)
    torch.manual_seed(seed)
    probe = train_config(preset, {"iterations": PROBE_ITERATIONS, "seed": seed, "batch_size": batch_size, "lr": lr})
    seconds_per_iteration = train_torchvision(torchvision_peer(cfg), train, probe, torch.device("cpu"))
    iterations = max(int(seconds / seconds_per_iteration), 1)
    torch.manual_seed(seed)
    model = torchvision_peer(cfg)
    train_torchvision(model, train, train_config(preset, {"iterations": iterations, "seed": seed, "batch_size": batch_size, "lr": lr}), torch.device("cpu"))
    return {**scores(predict_torchvision(model, test, "cpu"), test), "iterations": iterations}


def print_table(rows: list[dict]) -> None:
    print(f"{'recipe':12s} {'set':10s} {'seed':>4s} {'ours mAP@0.5':>12s} {'COCO AP':>8s} {'ckpt':>8s} {'train s':>8s} {'val %':>6s} "
          f"{'tv mAP@0.5':>10s} {'tv AP':>6s} {'tv it':>6s}")
    for r in rows:
        peer = r.get("peer")
        tv = f"{peer['map50']:10.3f} {peer['coco_ap']:6.3f} {peer['iterations']:6d}" if peer else f"{'-':>10s} {'-':>6s} {'-':>6s}"
        share = 100 * r["validation_seconds"] / r["seconds"]
        print(f"{r.get('recipe', 'defaults'):12s} {r['set']:10s} {r['seed']:4d} {r['map50']:12.3f} {r['coco_ap']:8.3f} {r['checkpoint']:>8s} {r['seconds']:8.0f} {share:6.1f} {tv}")
    for recipe, name in dict.fromkeys((r.get("recipe", "defaults"), r["set"]) for r in rows):
        group = [r for r in rows if (r.get("recipe", "defaults"), r["set"]) == (recipe, name)]
        mean = lambda key, rs=group: sum(r[key] for r in rs) / len(rs)  # noqa: E731
        line = f"{recipe} {name}: mean over {len(group)} seed(s): mAP@0.5 {mean('map50'):.3f}, COCO AP {mean('coco_ap'):.3f}"
        peers = [r["peer"] for r in group if r.get("peer")]
        if peers:
            tv_map = sum(p["map50"] for p in peers) / len(peers)
            line += f"; torchvision {tv_map:.3f} (ours/theirs {mean('map50') / max(tv_map, 1e-9):.2f}x)"
        print(line)


def print_picks(rows: list[dict]) -> None:
    """Per run scored with ``--score-validations``: the scored set's figures of the checkpoint
    each rule picks: the first validation of the highest mAP@0.5, ``best.pt``'s rule
    (:func:`best_validation`: of equal ones the higher COCO AP), and the last; then the means."""
    picks = {"first of highest": lambda vs: max(vs, key=lambda v: v["val_map50"]),
             "best.pt": lambda vs: vs[best_validation([{"map50": v["val_map50"], "coco_ap": v["val_coco_ap"], "index": i}
                                                       for i, v in enumerate(vs)])["index"]],
             "last": lambda vs: vs[-1]}
    scored = [r for r in rows if r.get("validations")]
    if not scored:
        return
    print(f"\n{'recipe':12s} {'set':10s} {'seed':>4s}" + "".join(f" {name + ' (it)':>28s}" for name in picks))
    for r in scored:
        chosen = [pick(r["validations"]) for pick in picks.values()]
        print(f"{r.get('recipe', 'defaults'):12s} {r['set']:10s} {r['seed']:4d}"
              + "".join(f" {v['map50']:8.3f} / {v['coco_ap']:.3f} ({v['iteration']:5d})" for v in chosen))
    for recipe, name in dict.fromkeys((r.get("recipe", "defaults"), r["set"]) for r in scored):
        group = [r["validations"] for r in scored if (r.get("recipe", "defaults"), r["set"]) == (recipe, name)]
        means = [(sum(pick(vs)["map50"] for vs in group) / len(group), sum(pick(vs)["coco_ap"] for vs in group) / len(group)) for pick in picks.values()]
        print(f"{recipe} {name}, {len(group)} seed(s): " + "; ".join(f"{n} {m:.3f} / {c:.3f}" for n, (m, c) in zip(picks, means)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="bccd,shapes,composite")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--iterations", type=int, help="default: the cpu preset's")
    parser.add_argument("--bccd", type=Path, default=BCCD, help=f"the BCCD VOC folder (default {BCCD})")
    parser.add_argument("--no-peer", action="store_true", help="skip torchvision")
    parser.add_argument("--detector", type=json.loads, default={}, help="DetectorConfig fields over the cpu preset's, as JSON")
    parser.add_argument("--train", type=json.loads, default={}, help="TrainConfig fields over the cpu preset's, as JSON")
    parser.add_argument("--autoanchor", choices=("on", "off"), help="default: frcnn train's")
    parser.add_argument("--label", default="defaults", help="the recipe's name in the rows")
    parser.add_argument("--score-validations", action="store_true",
                        help="score every validation's weights too, to compare ways of choosing the checkpoint (--table then shows them)")
    parser.add_argument("--keep", type=Path, help="copy each run's recommended checkpoint to KEEP/LABEL-SET-SEED.pt (for frcnn diagnose)")
    add_row_file_options(parser)
    args = parser.parse_args()
    if args.table:  # several files: comma-separated
        rows = [row for path in args.table.split(",") for row in read_rows(path)]
        print_table(rows)
        print_picks(rows)
        return
    torch.set_num_threads(1)
    recipe = {"detector": args.detector, "train": args.train, "autoanchor": None if args.autoanchor is None else args.autoanchor == "on"}
    rows = read_rows(args.json) if args.json and Path(args.json).exists() else []
    for name in args.sets.split(","):
        train, val, test = datasets(name, args.bccd)
        print(f"{name}: {len(train)} train, {len(val)} validation, {len(test)} scored images", flush=True)
        for seed in (int(s) for s in args.seeds.split(",")):
            keep = args.keep / f"{args.label}-{Path(name).name}-{seed}.pt" if args.keep else None
            row, wall, cfg = train_ours(train, val, test, args.iterations, seed, recipe, keep, args.score_validations)
            row.update(set=name, seed=seed, recipe=args.label, detector=args.detector, train=args.train, autoanchor=args.autoanchor)
            if not args.no_peer:
                tcfg = train_config(choose_preset("cpu", on_cpu=True))
                row["peer"] = train_peer(cfg, train, test, wall, seed, tcfg.batch_size, tcfg.lr)
            rows.append(row)
            print(f"  seed {seed}: mAP@0.5 {row['map50']:.3f}, COCO AP {row['coco_ap']:.3f} ({row['checkpoint']}, {wall:.0f} s)"
                  + (f"; torchvision {row['peer']['map50']:.3f} / {row['peer']['coco_ap']:.3f}" if "peer" in row else ""), flush=True)
            save_rows(args.json, rows)
    print()
    print_table(rows)
    print_picks(rows)


if __name__ == "__main__":
    main()

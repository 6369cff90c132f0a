"""Do optimised anchors train better? The `cpu` preset trained with its own anchors and
with the anchors `frcnn anchors --optimize` finds on the training set, under both RPN
assignment rules (the preset's 4 best anchors per GT positive, and the seed's single
best anchor with IoU >= 0.7 positive), on three sets, several seeds, same iterations:
coverage before/after, mAP@0.5 and COCO AP on held-out images, in one table.

Sets: `shapes`; photo-sized `composite` (512x384, up to 8 crops); `large`, crops of the
bundled photos filling most of a 512x384 image (1 or 2 per image).

    OMP_NUM_THREADS=1 nohup python benchmarks/bench_autoanchor.py --iterations 300 --json rows.json > autoanchor.txt &
    python benchmarks/bench_autoanchor.py --table rows.json   # the table so far
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from row_files import add_row_file_options, read_rows, save_rows

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.anchors.coverage import AnchorLayout, GtBoxes, grid_coverage
from frcnn_core.anchors.optimizer import optimize_anchors
from frcnn_core.cli.evaluation import score_detections
from frcnn_core.data import CompositeDataset, open_dataset
from frcnn_core.data.composite import CROP_KINDS, Paste, outline_mask
from frcnn_core.inference import predict_dataset
from frcnn_core.train import TrainConfig, Trainer

RULES = {
    "k-best (cpu preset)": {},
    "seed (1 best, IoU 0.7)": {"rpn_positives_per_gt": 1, "rpn_pos_iou": 0.7},
    # torchvision's and Detectron2's border rule: anchors crossing the image edge train too
    "k-best, every anchor": {"rpn_allowed_border": 1e5},
}
RULE_KEYS = {"kbest": "k-best (cpu preset)", "seed": "seed (1 best, IoU 0.7)", "every": "k-best, every anchor"}


class LargeCropsDataset(CompositeDataset):
    """The composite set with crops whose sqrt(area) is 45 % to 95 % of the shorter side
    (longer side at most 95 % of it): objects filling most of the image."""

    def _propose(self, rng: np.random.Generator):
        height, width = self.image_size
        label = int(rng.integers(1, len(CROP_KINDS) + 1))
        kind = CROP_KINDS[label - 1]
        side = math.exp(rng.uniform(math.log(0.45 * min(height, width)), math.log(0.95 * min(height, width))))
        aspect = kind.aspect * math.exp(rng.uniform(-0.1, 0.1))
        w, h = side * math.sqrt(aspect), side / math.sqrt(aspect)
        shrink = min(1.0, 0.95 * width / w, 0.95 * height / h)
        w, h = max(4, round(w * shrink)), max(4, round(h * shrink))
        x, y = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
        paste = Paste(label, x, y, w, h, bool(rng.integers(2)), float(rng.uniform(0.8, 1.2)))
        return paste, outline_mask(kind, x, y, w, h, self.image_size)


def datasets(name: str, num_train: int, num_val: int):
    if name == "shapes":
        return open_dataset("shapes", split="train", num_images=num_train), open_dataset("shapes", split="val", num_images=num_val)
    options = {"image_size": (384, 512), "max_objects": 8 if name == "composite" else 2}
    if name == "composite":
        return (open_dataset("composite", split="train", num_images=num_train, **options),
                open_dataset("composite", split="val", num_images=num_val, **options))
    return LargeCropsDataset(num_train, split="train", **options), LargeCropsDataset(num_val, split="val", **options)


def train_and_score(cfg, train, val, iterations: int, batch_size: int, seed: int) -> dict:
    torch.manual_seed(seed)
    model = FasterRCNN(cfg)
    trainer = Trainer(model, train, TrainConfig(iterations=iterations, batch_size=batch_size, lr=0.02, seed=seed, checkpoint_every=10**9), device="cpu")
    trainer.run()
    report = score_detections(predict_dataset(model, val, 4, "cpu"), val)
    return {"map50": report["map50"], "coco_ap": report["coco_ap"]}


def print_table(rows: list[dict], iterations: int, batch_size: int, num_val: int) -> None:
    """One line per set, rule and anchors: held-out coverage, then mAP@0.5 and COCO AP as the
    mean over seeds and each seed's value."""
    print(f"{iterations} iterations of {batch_size} at 256 px, {num_val} held-out images per set; coverage: share of held-out "
          f"GT boxes with an anchor of IoU >= 0.7 / >= 0.5; scores: mean over seeds (each seed)")
    print(f"{'set':10s} {'rule':24s} {'anchors':9s} {'>=0.7':>6s} {'>=0.5':>6s} {'mAP@0.5':>22s} {'COCO AP':>22s}")
    keys = list(dict.fromkeys((r["set"], r["rule"], r["anchors"]) for r in rows))  # in the order run
    for key in keys:
        group = [r for r in rows if (r["set"], r["rule"], r["anchors"]) == key]
        each_map = " ".join(f"{r['map50']:.3f}" for r in group)
        each_ap = " ".join(f"{r['coco_ap']:.3f}" for r in group)
        mean_map = sum(r["map50"] for r in group) / len(group)
        mean_ap = sum(r["coco_ap"] for r in group) / len(group)
        print(f"{key[0]:10s} {key[1]:24s} {key[2]:9s} {group[0]['iou_0.7']:6.3f} {group[0]['iou_0.5']:6.3f} "
              f"{mean_map:6.3f} ({each_map:>13s}) {mean_ap:6.3f} ({each_ap:>13s})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="shapes,composite,large")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--num-train", type=int, default=1000)
    parser.add_argument("--num-val", type=int, default=100)
    parser.add_argument("--rules", default="kbest,seed", help=f"comma-separated, of {', '.join(RULE_KEYS)}")
    parser.add_argument("--anchors", default="preset,optimised", help="which anchors to train: preset, optimised or both")
    add_row_file_options(parser)
    args = parser.parse_args()
    if args.table:
        print_table(read_rows(args.table), args.iterations, args.batch_size, args.num_val)
        return
    torch.set_num_threads(1)

    rows = []
    for set_name in args.sets.split(","):
        train, val = datasets(set_name, args.num_train, args.num_val)
        base = cpu_config(len(train.class_names), tuple(train.class_names))
        start = time.perf_counter()
        search = optimize_anchors(GtBoxes.from_dataset(train), AnchorLayout.from_config(base))
        val_gt = GtBoxes.from_dataset(val)
        print(f"{set_name}: optimised anchors {search.layout.anchor_scales} / {search.layout.anchor_ratios} in {time.perf_counter() - start:.1f} s "
              f"(train coverage >=0.5 {search.start.share_at_least(0.5):.3f} -> {search.result.share_at_least(0.5):.3f})", flush=True)
        for rule in (RULE_KEYS[key] for key in args.rules.split(",")):
            changes = RULES[rule]
            for anchors_name, layout in (("preset", AnchorLayout.from_config(base)), ("optimised", search.layout)):
                if anchors_name not in args.anchors.split(","):
                    continue
                cfg = layout.apply_to(base.replace(**changes))
                coverage = grid_coverage(val_gt, AnchorLayout.from_config(cfg))
                for seed in range(args.seeds):
                    start = time.perf_counter()
                    scores = train_and_score(cfg, train, val, args.iterations, args.batch_size, seed)
                    row = {"set": set_name, "rule": rule, "anchors": anchors_name, "scales": list(cfg.anchor_scales), "ratios": list(cfg.anchor_ratios),
                           "seed": seed, "iou_0.7": coverage.share_at_least(0.7), "iou_0.5": coverage.share_at_least(0.5), **scores}
                    rows.append(row)
                    print(f"  {rule:24s} {anchors_name:9s} seed {seed}: mAP@0.5 {scores['map50']:.3f} COCO AP {scores['coco_ap']:.3f} "
                          f"({time.perf_counter() - start:.0f} s)", flush=True)
                    save_rows(args.json, rows)

    print()
    print_table(rows, args.iterations, args.batch_size, args.num_val)

if __name__ == "__main__":
    main()

"""Train our detector and torchvision's FasterRCNN with the same trunk, anchors, image
size, iterations, schedule and data, in one run, then print both mAPs and seconds per
iteration. Run on the built-in `shapes` set and on `composite` (object crops pasted on
real photographs: not drawn by the shapes generator), or on any dataset path.

    python benchmarks/bench_training.py --data shapes --iterations 1500
    python benchmarks/bench_training.py --data composite --iterations 1500
    python benchmarks/bench_training.py --data composite --generated-size 512x384 --max-objects 8
    python benchmarks/bench_training.py --data instances.json   # 20 % held out
    python benchmarks/bench_training.py --data train.json --val-data val.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from bench_detector import torchvision_peer

from frcnn_core import FasterRCNN, build_backbone, cpu_config
from frcnn_core.cli.options import float_list, image_size, positive_int
from frcnn_core.data import open_dataset, split_dataset
from frcnn_core.evaluation.scoring import score_detections
from frcnn_core.inference import predict_dataset
from frcnn_core.roi.postprocess import Detections
from frcnn_core.train import TrainConfig, Trainer, describe_device, select_device
from frcnn_core.train.batches import batch_source
from frcnn_core.train.schedule import lr_factor


def train_torchvision(model, dataset, cfg: TrainConfig, device) -> float:
    """The same loop as our Trainer (batches, flips, prefetching, SGD, schedule, clipping); returns s/iter."""
    torch.manual_seed(cfg.seed)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda it: lr_factor(it, cfg))
    batches = batch_source(dataset, cfg, device)
    start = time.perf_counter()
    for _ in range(cfg.iterations):
        batch = batches.next()
        targets = []
        for target in batch.targets:
            boxes = target["boxes"].clone()
            # torchvision rejects zero-size boxes outright; widen them by a hair instead
            boxes[:, 2:] = torch.maximum(boxes[:, 2:], boxes[:, :2] + 1e-2)
            targets.append({"boxes": boxes.to(device), "labels": target["labels"].to(device)})
        loss = sum(model([image.to(device) for image in batch.images], targets).values())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        optimizer.step()
        scheduler.step()
    return (time.perf_counter() - start) / cfg.iterations


@torch.no_grad()
def predict_torchvision(model, dataset, device) -> list[Detections]:
    model.eval()
    out = []
    for i in range(len(dataset)):
        d = model([dataset[i][0].to(device)])[0]
        n = d["boxes"].shape[0]
        empty = torch.zeros(n, dtype=torch.long)
        out.append(Detections(d["boxes"].cpu(), d["scores"].cpu(), d["labels"].cpu(), torch.zeros(n, 1), empty, torch.zeros(n, 4)))
    return out


def train_and_val_sets(spec: str, val_spec: str | None, generator_options: dict | None = None):
    """The training set and the held-out set: ``val_spec``'s, else ``spec``'s own ``val``
    split, else (a COCO file or a flat folder has none) a seeded 20 % of ``spec``.
    ``generator_options`` go to the generated sets' constructors."""
    if val_spec:
        return open_dataset(spec, split="train"), open_dataset(val_spec, split="val")
    if spec in ("shapes", "composite"):
        options = generator_options or {}
        return open_dataset(spec, split="train", **options), open_dataset(spec, split="val", **options)
    if (Path(spec) / "ImageSets" / "Main" / "val.txt").is_file():
        return open_dataset(spec, split="train"), open_dataset(spec, split="val")
    train, val = split_dataset(open_dataset(spec), val_fraction=0.2, seed=0)
    print(f"{spec} has no split of its own: {len(val)} of its {len(train) + len(val)} images held out for evaluation (--val-data to choose)")
    return train, val


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="shapes")
    parser.add_argument("--val-data", help="default: the val split of --data")
    parser.add_argument("--generated-size", type=image_size, help="WIDTHxHEIGHT of the generated sets' images (default 256x256)")
    parser.add_argument("--max-objects", type=positive_int, help="most crops per composite image (default 5)")
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--backbone", default="small")
    parser.add_argument("--anchor-scales", type=float_list, default=(1.5, 2.5, 4.0, 6.5))
    parser.add_argument("--roi-op", choices=("pool", "align"), default="align", help="our RoI pooling (torchvision's is always align)")
    parser.add_argument("--positives-per-gt", type=int, default=4, help="our best anchors per GT made positive (the seed: 1)")
    parser.add_argument("--gt-jitter", type=int, default=4, help="our jittered copies of each GT box among the head's RoIs (the seed: 0)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    device = select_device(args.device)
    if args.max_objects is not None and args.data != "composite":
        parser.error("--max-objects applies only to --data composite")
    if args.generated_size is not None and args.data not in ("shapes", "composite"):
        parser.error("--generated-size applies only to the generated sets shapes and composite")
    generator_options = {"image_size": args.generated_size} if args.generated_size else {}
    if args.max_objects is not None:
        generator_options["max_objects"] = args.max_objects
    train, val = train_and_val_sets(args.data, args.val_data, generator_options)
    # torchvision's RPN head keeps the trunk's width in its 3x3 conv: ours gets the same
    trunk_channels = build_backbone(args.backbone).out_channels
    cfg = cpu_config(
        len(train.class_names), tuple(train.class_names), backbone=args.backbone, min_size=args.image_size, max_size=args.image_size * 2,
        anchor_scales=args.anchor_scales, roi_op=args.roi_op, rpn_mid_channels=trunk_channels,
        rpn_positives_per_gt=args.positives_per_gt, roi_gt_jitter=args.gt_jitter,
    )
    tcfg = TrainConfig(iterations=args.iterations, batch_size=args.batch_size, lr=args.lr, checkpoint_every=10**9)
    print(f"{args.data}{f' {generator_options}' if generator_options else ''}: {len(train)} train / {len(val)} val images on {describe_device(device)}, backbone {args.backbone} at {args.image_size} px, our RoI op {args.roi_op}, RPN conv {trunk_channels} wide, our {cfg.rpn_positives_per_gt} best anchors per GT positive and {cfg.roi_gt_jitter} jittered copies among the RoIs, {args.iterations} iterations of {args.batch_size}")

    torch.manual_seed(0)
    ours = FasterRCNN(cfg)
    trainer = Trainer(ours, train, tcfg, device=device)
    start = time.perf_counter()
    trainer.run()
    ours_s = (time.perf_counter() - start) / args.iterations
    ours_map = score_detections(predict_dataset(ours, val, 4, device), val)["map50"]

    torch.manual_seed(0)
    theirs = torchvision_peer(cfg)
    theirs_s = train_torchvision(theirs, train, tcfg, device)
    theirs_map = score_detections(predict_torchvision(theirs, val, device), val)["map50"]

    print(f"{'':12s} {'mAP@0.5':>8s} {'s/iter':>8s}")
    print(f"{'ours':12s} {ours_map:8.4f} {ours_s:8.3f}")
    print(f"{'torchvision':12s} {theirs_map:8.4f} {theirs_s:8.3f}")
    print(f"ratio (ours/theirs): mAP {ours_map / max(theirs_map, 1e-9):.2f}x, time per iteration {ours_s / theirs_s:.2f}x")


if __name__ == "__main__":
    main()

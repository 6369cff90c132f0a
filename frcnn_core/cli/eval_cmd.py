"""``frcnn eval``: mAP@0.5, COCO AP and per-class AP of a checkpoint on a dataset."""

from __future__ import annotations

from pathlib import Path

from ..checkpoint import load_checkpoint
from ..data import open_dataset
from ..train import select_device
from .evaluation import evaluate_and_report
from .options import generated_size


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a checkpoint", description="Print mAP@0.5 (VOC), COCO AP and per-class AP.")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--data", required=True, help="COCO JSON, VOC directory, labelled folder, or shapes/composite (their val split)")
    p.add_argument("--split", default="val", help="split for VOC/shapes/composite (default val)")
    p.add_argument("--num-images", type=int, help="size of the generated set for shapes/composite")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    p.add_argument("--plots", type=Path, metavar="DIR", help="also write PR curves and the confusion matrix (IoU 0.5, score 0.5) as PNGs into DIR")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=4)
    p.set_defaults(run=run)


def open_checkpoint_and_data(args):
    """``(model, dataset, device)`` from ``args.checkpoint``, ``args.data``, ``args.split``,
    ``args.num_images`` and ``args.device``; the classes must agree."""
    device = select_device(args.device)
    dataset = open_dataset(args.data, split=args.split, **generated_size(args.data, args.num_images))
    model, _ = load_checkpoint(args.checkpoint, map_location=device)
    if tuple(dataset.class_names) != tuple(model.config.class_names) and model.config.class_names:
        raise ValueError(f"{args.checkpoint} was trained for classes {list(model.config.class_names)}, but {args.data} has {list(dataset.class_names)}")
    return model, dataset, device


def run(args) -> int:
    model, dataset, device = open_checkpoint_and_data(args)
    evaluate_and_report(model, dataset, device, args.json, args.batch_size, args.plots)
    return 0

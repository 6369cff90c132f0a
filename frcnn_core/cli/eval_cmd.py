"""``frcnn eval``: mAP@0.5, COCO AP and per-class AP of a checkpoint on a dataset.

Under ``torchrun --nproc_per_node=N`` the images are shared among the processes and the
first one scores, prints and writes."""

from __future__ import annotations

from pathlib import Path

from ..train import init_from_environment, select_device
from ..train.distributed import shutdown
from .evaluation import evaluate_and_report
from .model_file import add_model_flags, open_model
from .options import generated_size
from .progress import add_progress_flag, open_dataset_announced, wants_progress


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
    add_model_flags(p)
    add_progress_flag(p)
    p.set_defaults(run=run)


def open_checkpoint_and_data(args, device, announce: bool = True):
    """``(model, dataset)`` from ``args.checkpoint`` (``args.arch``, ``args.classes``), ``args.data``,
    ``args.split`` and ``args.num_images``; the classes must agree."""
    dataset = open_dataset_announced(args.data, announce=announce and not args.no_progress, split=args.split, **generated_size(args.data, args.num_images))
    model = open_model(args, device, announce, dataset)
    if tuple(dataset.class_names) != tuple(model.config.class_names) and model.config.class_names:
        raise ValueError(f"{args.checkpoint} was trained for classes {list(model.config.class_names)}, but {args.data} has {list(dataset.class_names)}")
    return model, dataset


def run(args) -> int:
    device = select_device(args.device)
    group = init_from_environment(device)  # under torchrun the images are shared among the processes
    try:
        model, dataset = open_checkpoint_and_data(args, device, announce=group.is_main)
        evaluate_and_report(
            model, dataset, device, args.json, args.batch_size, progress=wants_progress(args) and group.is_main, process_group=group, plots=args.plots
        )
    finally:
        shutdown()
    return 0

"""``frcnn train``: train a detector on COCO, VOC or the built-in shapes set."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from ..data import open_validation_split
from ..models.backbones import fetch_imagenet_weights
from ..models.checkpoint import read_checkpoint
from ..models.faster_rcnn import FasterRCNN
from ..presets import PRESETS, choose_preset, detector_config, input_size_fields, read_config_file, train_config
from ..train import LAST_CHECKPOINT, Trainer, describe_device, init_from_environment, select_device
from ..train.distributed import shutdown
from ..train.fine_tune import start_fine_tuning
from .anchors_cmd import add_autoanchor_flags, anchors_at_training_start
from .evaluation import evaluate_and_report
from .options import float_list, generated_size, positive_int
from .progress import open_dataset_announced


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a detector", description="Train Faster R-CNN. Works under torchrun for several processes.")
    p.add_argument("--data", required=True, help="a COCO JSON file, a VOC directory, a labelled image folder, or 'shapes'")
    p.add_argument("--output", required=True, type=Path, help="directory for checkpoints (*.pt) and metrics.jsonl")
    p.add_argument("--config", type=Path, help='JSON file {"detector": {...DetectorConfig fields}, "train": {...TrainConfig fields}}')
    p.add_argument(
        "--preset", choices=PRESETS,
        help="cpu: light trunk at 256 px; seed: VGG16 at 800 px (default: seed from ImageNet weights on a GPU when they are cached, else cpu)",
    )
    p.add_argument("--backbone", help="vgg16, resnet18, resnet34 or small")
    p.add_argument("--pretrained", action="store_true", help="start from torchvision's ImageNet weights (downloaded once into the torch hub cache when missing)")
    p.add_argument("--image-size", type=positive_int, help="shorter image side after resizing (the seed uses 800)")
    p.add_argument("--anchor-scales", type=float_list, help="e.g. 8,16,32 (multiples of the stride)")
    p.add_argument("--anchor-ratios", type=float_list, help="height/width ratios, e.g. 0.5,1,2")
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--lr", type=float)
    p.add_argument("--iterations", type=positive_int)
    p.add_argument("--checkpoint-every", type=positive_int)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--resume", action="store_true", help=f"continue from OUTPUT/{LAST_CHECKPOINT} exactly")
    p.add_argument(
        "--init", type=Path, metavar="CHECKPOINT",
        help="fine-tune the detector in this file: ours, or a torchvision Faster R-CNN (a state_dict or the reference "
        "train.py checkpoint), with torchvision's reference recipe (SGD, lr 0.02 x batch/16, momentum 0.9, weight decay 1e-4, warm-up)",
    )
    p.add_argument("--arch", help="with --init: the torchvision builder of the file (e.g. fasterrcnn_mobilenet_v3_large_320_fpn), when it cannot tell")
    p.add_argument("--val-data", help="dataset to validate on during training (default: the data's val split, when it has one)")
    p.add_argument("--val-every", type=positive_int, help="validate every N iterations (default: ten times a run, fewer when the val set is large against the run) and at the end")
    p.add_argument("--patience", type=positive_int, help="stop after K validations in a row without a better one (a higher val mAP@0.5, or the same and a higher COCO AP)")
    p.add_argument("--num-images", type=positive_int, help="size of the generated train set for shapes/composite")
    p.add_argument("--no-progress", action="store_true")
    add_autoanchor_flags(p)
    p.set_defaults(run=run)


def config_overrides(args) -> tuple[dict, dict]:
    """``DetectorConfig`` and ``TrainConfig`` changes asked for: the config file, then the flags."""
    detector, train = read_config_file(args.config)
    detector, train = dict(detector), dict(train)
    if args.backbone:
        detector["backbone"] = args.backbone
    if args.pretrained:
        detector["pretrained_backbone"] = True
    if args.image_size:
        detector.update(input_size_fields(args.image_size))
    if args.anchor_scales:
        detector["anchor_scales"] = args.anchor_scales
    if args.anchor_ratios:
        detector["anchor_ratios"] = args.anchor_ratios
    for field in ("batch_size", "lr", "iterations", "checkpoint_every", "seed", "val_every", "patience"):
        if getattr(args, field) is not None:
            train[field] = getattr(args, field)
    return detector, train


@contextmanager
def finish_step_on_interrupt(trainer: Trainer, enabled: bool = True):
    """While training, a first Ctrl-C lets the step in progress finish and stops the run; a
    second one interrupts at once. (Not under torchrun: ranks must stop at the same step.)"""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame) -> None:
        print("\nfrcnn: stopping after this iteration (Ctrl-C again to abort)", file=sys.stderr)
        trainer.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(args) -> int:
    device = select_device(args.device)
    group = init_from_environment(device)
    try:
        dataset = open_dataset_announced(args.data, announce=group.is_main and not args.no_progress, split="train", **generated_size(args.data, args.num_images))
        for problem in dataset.problems:
            print(f"warning: {problem}")
        val = open_validation_split(args.data, args.val_data, dataset)
        checkpoint = args.output / LAST_CHECKPOINT
        if args.resume and args.init is not None:
            raise ValueError("--resume continues the run in --output; --init starts a new one from a file: give one of them")
        if args.resume:
            if not checkpoint.is_file():
                raise ValueError(f"--resume: no checkpoint at {checkpoint}")
            trainer = Trainer.resume(checkpoint, dataset, args.output, device, process_group=group, iterations=args.iterations, val_dataset=val)
        elif args.init is not None:
            preset = choose_preset(args.preset, on_cpu=device.type == "cpu")
            detector_changes, train_changes = config_overrides(args)
            model, schedule, lines = start_fine_tuning(
                args.init, dataset, args.arch, train_changes, train_config(preset, train_changes), detector_changes,
            )
            if group.is_main:
                print("\n".join(lines))
            trainer = Trainer(model, dataset, schedule, args.output, device, process_group=group, val_dataset=val)
        else:
            if args.arch is not None:
                raise ValueError("--arch names the architecture of the file given with --init")
            preset = choose_preset(args.preset, on_cpu=device.type == "cpu")
            if preset.note and group.is_main:
                print(preset.note)
            detector_changes, train_changes = config_overrides(args)
            cfg = detector_config(tuple(dataset.class_names), preset, detector_changes)
            cfg = anchors_at_training_start(args, dataset, cfg, announce=group.is_main)
            if cfg.pretrained_backbone:
                fetch_imagenet_weights(cfg.backbone, announce=print if group.is_main else None)
            trainer = Trainer(FasterRCNN(cfg), dataset, train_config(preset, train_changes), args.output, device, process_group=group, val_dataset=val)
        if group.is_main:
            cfg = trainer.model.config
            print(
                f"training on {describe_device(trainer.device)} x{group.world_size}: {len(dataset)} images, "
                f"{cfg.num_classes} classes, backbone {cfg.backbone} at {cfg.min_size} px, "
                f"iterations {trainer.iteration}->{trainer.config.iterations}, batch {trainer.config.batch_size}"
            )
            if val is not None:
                print(f"validating on {len(val)} images every {trainer.validation_interval} iterations"
                      + (f", patience {trainer.config.patience}" if trainer.config.patience else ""))
        with finish_step_on_interrupt(trainer, enabled=not group.distributed):
            trainer.run(progress=not args.no_progress)
        if not trainer.done:  # interrupted: keep the whole steps done so far
            if group.is_main and trainer.iteration > 0:
                print(f"interrupted at iteration {trainer.iteration}; checkpoint: {trainer.save_checkpoint()} (--resume continues)", file=sys.stderr)
            return 130
        if group.is_main:
            print(f"checkpoint: {trainer.last_checkpoint}")
            if trainer.stopped_early:
                print(f"stopped early at iteration {trainer.iteration}: {trainer.validations_since_best} validations without a better one")
            best = trainer.best_checkpoint
            if best is not None:
                print(f"use {best}: the highest val mAP@0.5, {trainer.best_map50:.4f} at iteration {trainer.best_iteration}")
                trainer.model.load_state_dict(read_checkpoint(best)["model"])
            else:
                print(f"use {trainer.last_checkpoint}: the run had no validation set (--val-data)")
            if val is not None:
                evaluate_and_report(trainer.model, val, device, args.output / "eval.json")
    finally:
        shutdown()
    return 0

"""``frcnn train``: train a detector on COCO, VOC or the built-in shapes set."""

from __future__ import annotations

import json
import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..backbones import imagenet_weights_cached
from ..config import DetectorConfig, cpu_config
from ..data import open_dataset
from ..model import FasterRCNN
from ..train import LAST_CHECKPOINT, TrainConfig, Trainer, describe_device, init_from_environment, select_device
from ..train.distributed import shutdown
from .anchors_cmd import add_autoanchor_flags, anchors_at_training_start
from .evaluation import evaluate_and_report
from .options import float_list, generated_size, positive_int

PRESETS = ("cpu", "seed")


@dataclass(frozen=True)
class Preset:
    """The starting settings of a run: ``name`` in :data:`PRESETS`; ``pretrained`` starts the
    trunk from its cached ImageNet weights; ``note`` tells the user why, when it was chosen for them."""

    name: str
    pretrained: bool = False
    note: str | None = None


def choose_preset(requested: str | None, on_cpu: bool) -> Preset:
    """``requested``, else ``cpu`` on a CPU; on a GPU ``seed`` (VGG16 at 800 px) from VGG16's
    cached ImageNet weights, as the paper trains it, and ``cpu`` when they are not cached:
    VGG16 from scratch is near mAP 0 after the default 2000 iterations (0.02 after 500 on
    ``shapes``), the light trunk reaches 0.9 there in about as many."""
    if requested is not None:
        return Preset(requested)
    if on_cpu:
        return Preset("cpu")
    if imagenet_weights_cached("vgg16"):
        return Preset("seed", pretrained=True, note="preset seed: VGG16 at 800 px from its cached ImageNet weights")
    return Preset(
        "cpu",
        note="preset cpu: VGG16's ImageNet weights are not cached and from scratch it learns far too slowly; "
        "training the light trunk at 256 px (--preset seed to insist, --pretrained once the weights are cached)",
    )


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
    p.add_argument("--pretrained", action="store_true", help="start from cached torchvision ImageNet weights (never downloads)")
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
    p.add_argument("--val-data", help="dataset to evaluate on at the end (default: the val split of shapes/composite)")
    p.add_argument("--num-images", type=positive_int, help="size of the generated train set for shapes/composite")
    p.add_argument("--no-progress", action="store_true")
    add_autoanchor_flags(p)
    p.set_defaults(run=run)


def _read_config_file(path: Path | None) -> tuple[dict, dict]:
    if path is None:
        return {}, {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"config file {path}: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"detector", "train"}:
        raise ValueError(f"config file {path}: expected an object with 'detector' and/or 'train' sections")
    return data.get("detector", {}), data.get("train", {})


def detector_config(args, class_names: tuple[str, ...], preset: Preset) -> DetectorConfig:
    """Preset, then the config file, then explicit flags."""
    detector_file, _ = _read_config_file(args.config)
    if preset.name == "cpu":
        base = cpu_config(len(class_names), class_names)
    else:
        base = DetectorConfig(num_classes=len(class_names), class_names=class_names, pretrained_backbone=preset.pretrained)
    changes = dict(detector_file)
    if args.backbone:
        changes["backbone"] = args.backbone
        if args.backbone != base.backbone and "pretrained_backbone" not in changes:
            changes["pretrained_backbone"] = False  # the preset's weights are its own trunk's
    if args.pretrained:
        changes["pretrained_backbone"] = True
    if args.image_size:
        changes.update(min_size=args.image_size, max_size=max(args.image_size, round(args.image_size * 5 / 3)))
    if args.anchor_scales:
        changes["anchor_scales"] = args.anchor_scales
    if args.anchor_ratios:
        changes["anchor_ratios"] = args.anchor_ratios
    if changes.get("backbone", base.backbone) != "vgg16" and base.head_hidden == 4096 and "head_hidden" not in changes:
        changes["head_hidden"] = 1024
    return base.replace(**{k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()})


def train_config(args, preset: Preset) -> TrainConfig:
    _, train_file = _read_config_file(args.config)
    base = TrainConfig(iterations=2000, batch_size=4, lr=0.02) if preset.name == "cpu" else TrainConfig()
    changes = dict(train_file)
    for flag, field in (("batch_size", "batch_size"), ("lr", "lr"), ("iterations", "iterations"), ("checkpoint_every", "checkpoint_every"), ("seed", "seed")):
        value = getattr(args, flag)
        if value is not None:
            changes[field] = value
    return base.replace(**changes)


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
        dataset = open_dataset(args.data, split="train", **generated_size(args.data, args.num_images))
        for problem in dataset.problems:
            print(f"warning: {problem}")
        checkpoint = args.output / LAST_CHECKPOINT
        if args.resume:
            if not checkpoint.is_file():
                raise ValueError(f"--resume: no checkpoint at {checkpoint}")
            trainer = Trainer.resume(checkpoint, dataset, args.output, device, process_group=group, iterations=args.iterations)
        else:
            preset = choose_preset(args.preset, on_cpu=device.type == "cpu")
            if preset.note and group.is_main:
                print(preset.note)
            cfg = detector_config(args, tuple(dataset.class_names), preset)
            cfg = anchors_at_training_start(args, dataset, cfg, announce=group.is_main)
            trainer = Trainer(FasterRCNN(cfg), dataset, train_config(args, preset), args.output, device, process_group=group)
        if group.is_main:
            cfg = trainer.model.config
            print(
                f"training on {describe_device(trainer.device)} x{group.world_size}: {len(dataset)} images, "
                f"{cfg.num_classes} classes, backbone {cfg.backbone} at {cfg.min_size} px, "
                f"iterations {trainer.iteration}->{trainer.config.iterations}, batch {trainer.config.batch_size}"
            )
        with finish_step_on_interrupt(trainer, enabled=not group.distributed):
            trainer.run(progress=not args.no_progress)
        if not trainer.done:  # interrupted: keep the whole steps done so far
            if group.is_main and trainer.iteration > 0:
                print(f"interrupted at iteration {trainer.iteration}; checkpoint: {trainer.save_checkpoint()} (--resume continues)", file=sys.stderr)
            return 130
        if group.is_main:
            print(f"checkpoint: {trainer.last_checkpoint}")
            val_spec = args.val_data or (args.data if args.data in ("shapes", "composite") else None)
            if val_spec is not None:
                val = open_dataset(val_spec, split="val")
                evaluate_and_report(trainer.model, val, device, args.output / "eval.json")
    finally:
        shutdown()
    return 0

"""What to train and how: the dock's form and ``start_training``'s keywords, built into a Trainer.

The defaults are ``frcnn train``'s, from the same :mod:`frcnn_core.presets`: the ``cpu``
preset (light trunk at 256 px, 2000 iterations of batch 4), or on a GPU with VGG16's
ImageNet weights cached the ``seed`` preset (VGG16 at 800 px from those weights).
Everything here runs without Qt; :func:`build_trainer` runs in the training thread, since
opening a dataset or building VGG16 takes a while.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from frcnn_core import DetectorConfig, FasterRCNN
from frcnn_core.anchors.check import AUTOANCHOR_DEFAULT, anchors_for_training
from frcnn_core.data import open_dataset
from frcnn_core.data.errors import DatasetError
from frcnn_core.data.loading import open_validation_split, split_dataset
from frcnn_core.models.checkpoint import CheckpointError
from frcnn_core.presets import PRESETS, choose_preset, detector_config, input_size_fields, train_config
from frcnn_core.train import METRICS_FILE, TrainConfig, Trainer, select_device
from frcnn_core.train.fine_tune import start_fine_tuning

from .metrics_log import MetricsLogError, read_metrics

GENERATED = ("shapes", "composite")
DETECTOR_FIELDS = frozenset(f.name for f in dataclasses.fields(DetectorConfig))
TRAIN_FIELDS = frozenset(f.name for f in dataclasses.fields(TrainConfig))


def default_run_dir() -> Path:
    """A new, empty folder for a run: ``~/.cache/frcnn-viewer/runs/<time>[-n]`` (created here)."""
    base = Path.home() / ".cache" / "frcnn-viewer" / "runs" / time.strftime("%Y%m%d-%H%M%S")
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            path, n = base.with_name(f"{base.name}-{n}"), n + 1


@dataclass(frozen=True)
class TrainingOptions:
    """A training run as the user asked for it.

    Attributes:
        data: ``"shapes"``, ``"composite"``, a COCO JSON file, a VOC directory or a labelled
            image folder (its ``train`` split, as ``frcnn train --data``).
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
        output_dir: the run's folder (``last.pt``, ``metrics.jsonl``); default: the resumed
            checkpoint's folder, else :func:`default_run_dir`.
        resume: a checkpoint with training state to continue from; its own configuration wins
            (only ``iterations`` may be changed, to extend the run).
        preset: ``"cpu"`` or ``"seed"``; default as :func:`~frcnn_core.presets.choose_preset`.
        image_size: shorter image side after resizing (as ``--image-size``).
        detector, train: ``DetectorConfig`` / ``TrainConfig`` fields to change.
        num_images, val_images: sizes of the generated train / validation sets.
        val_data: the dataset to evaluate on (default: ``data``'s ``val`` split).
        trace_every: while running, every K-th step is traced and shown (every step is, when stepping).
        watch_every: the watch image is refreshed every K steps.
        autoanchor: train with optimised anchors when the training-start check finds the
            configured ones cover the data poorly (``frcnn train --autoanchor``; ``None``:
            when every anchor trains, as ``frcnn train`` does); anchors set in ``detector``
            are never replaced.
        class_names: the classes of a file dataset, in label order (default: what it finds).
        val_fraction: hold out this share of ``data`` (seeded, :func:`split_dataset`) to
            validate on, for a set without a split of its own (a labelImg folder).
        init: a checkpoint to fine-tune (``frcnn train --init``): ours, or a torchvision
            Faster R-CNN file, trained with its kind's recipe
            (:func:`frcnn_core.train.fine_tune.start_fine_tuning`).
        arch: with ``init``, its torchvision builder when the file cannot tell.
    """

    data: str = "shapes"
    device: str = "auto"
    output_dir: str | None = None
    resume: str | None = None
    preset: str | None = None
    image_size: int | None = None
    detector: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    num_images: int | None = None
    val_data: str | None = None
    val_images: int | None = None
    trace_every: int = 10
    watch_every: int = 10
    autoanchor: bool | None = AUTOANCHOR_DEFAULT
    class_names: tuple[str, ...] | None = None
    val_fraction: float | None = None
    init: str | None = None
    arch: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.init is not None and self.resume is not None:
            problems.append("init starts a new run from a file and resume continues one: give one of them")
        if self.arch is not None and self.init is None:
            problems.append("arch names the architecture of the file given as init")
        if self.preset is not None and self.preset not in PRESETS:
            problems.append(f"preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        for name in ("image_size", "num_images", "val_images"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                problems.append(f"{name} must be a positive integer, got {value!r}")
        if self.val_fraction is not None and not 0.0 < self.val_fraction < 1.0:
            problems.append(f"val_fraction must be between 0 and 1, got {self.val_fraction!r}")
        if self.trace_every < 1 or self.watch_every < 1:
            problems.append(f"trace_every and watch_every must be >= 1, got {self.trace_every} / {self.watch_every}")
        unknown = sorted((set(self.detector) - DETECTOR_FIELDS) | (set(self.train) - TRAIN_FIELDS))
        if unknown:
            problems.append(f"unknown setting(s) {', '.join(unknown)}")
        if problems:
            raise ValueError("; ".join(problems))
        try:  # values are checked here, in the UI thread; the classes are known only in the worker
            TrainConfig().replace(**self.train)
            DetectorConfig().replace(**{k: v for k, v in self.detector.items() if k not in ("num_classes", "class_names")})
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from None

    @classmethod
    def from_keywords(cls, data: str | Path = "shapes", iterations: int | None = None, device: str = "auto", **config) -> TrainingOptions:
        """``MainWindow.start_training``'s arguments: the fields of this class, and any
        ``TrainConfig`` or ``DetectorConfig`` field by name (e.g. ``lr=0.01, batch_size=2,
        backbone="resnet18"``). Raises ``ValueError`` naming an unknown keyword or a bad value."""
        own = {f.name for f in dataclasses.fields(cls)} - {"detector", "train"}
        unknown = sorted(k for k in config if k not in own | DETECTOR_FIELDS | TRAIN_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown training setting(s) {', '.join(unknown)}; use TrainConfig or DetectorConfig fields, "
                f"or {', '.join(sorted(own))}"
            )
        train = {k: v for k, v in config.items() if k in TRAIN_FIELDS and k not in own}
        if iterations is not None:
            train["iterations"] = iterations
        detector = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k in DETECTOR_FIELDS and k not in own}
        rest = {k: v for k, v in config.items() if k in own}
        return cls(data=str(data), device=device, detector=detector, train=train, **rest)

    def replace(self, **changes) -> TrainingOptions:
        return dataclasses.replace(self, **changes)

    def run_dir(self) -> Path:
        """Where the run writes: ``output_dir``, the resumed checkpoint's folder, or a new folder."""
        if self.output_dir is not None:
            return Path(self.output_dir).expanduser()
        if self.resume is not None:
            return Path(self.resume).expanduser().parent
        return default_run_dir()


def open_training_data(options: TrainingOptions):
    """The ``train`` split of ``options.data``; a set without classes is refused."""
    size = {"num_images": options.num_images} if options.num_images and options.data in GENERATED else {}
    dataset = open_dataset(options.data, split="train", **size, **_named(options))
    if options.val_fraction is not None:
        dataset = split_dataset(dataset, options.val_fraction)[0]
    if not tuple(getattr(dataset, "class_names", ()) or ()):
        raise DatasetError(f"{options.data}: no classes (images without annotations cannot be trained on)")
    if len(dataset) == 0:
        raise DatasetError(f"{options.data}: no images in its train split")
    return dataset


def open_validation_data(options: TrainingOptions):
    """The set to evaluate on: ``val_data``, or the ``val`` split of ``data`` (a COCO file is its own split)."""
    spec = options.val_data or options.data
    size = {"num_images": options.val_images} if options.val_images and spec in GENERATED else {}
    if options.val_fraction is not None and options.val_data is None:
        return split_dataset(open_dataset(spec, split="val", **_named(options)), options.val_fraction)[1]
    return open_dataset(spec, split="val", **size)


def validation_set(options: TrainingOptions, train):
    """The set the trainer validates on while it trains (``None`` when there is none):
    ``val_data``, the held-out ``val_fraction`` of ``data``, or ``data``'s own val split,
    as ``frcnn train`` chooses it (:func:`~frcnn_core.data.open_validation_split`)."""
    if options.val_fraction is not None and options.val_data is None:
        return open_validation_data(options)
    spec = options.val_data or options.data
    size = {"num_images": options.val_images} if options.val_images and spec in GENERATED else {}
    return open_validation_split(options.data, options.val_data, train, **size)


def _named(options: TrainingOptions) -> dict:
    """``class_names`` for the dataset's constructor, when given."""
    return {} if options.class_names is None else {"class_names": tuple(options.class_names)}


def build_trainer(
    options: TrainingOptions, dataset, output_dir: Path, report: Callable[[str, str], None] = lambda level, text: None, val_dataset=None,
) -> Trainer:
    """A new :class:`Trainer` (the preset, then ``options``, then the training-start anchor
    check, whose findings go to ``report(level, text)``), one fine-tuning the file
    ``options.init`` (its kind's recipe), or one resumed from ``options.resume``; it
    validates on ``val_dataset`` when given."""
    device = select_device(options.device)
    class_names = tuple(dataset.class_names)
    if options.resume is not None:
        trainer = Trainer.resume(options.resume, dataset, output_dir, device, iterations=options.train.get("iterations"), val_dataset=val_dataset)
        trained_for = tuple(trainer.model.config.class_names)
        if trained_for and trained_for != class_names:
            raise CheckpointError(
                f"checkpoint {options.resume} was trained for the classes ({', '.join(trained_for)}); "
                f"{options.data} has ({', '.join(class_names)})"
            )
        return trainer
    preset = choose_preset(options.preset, on_cpu=device.type == "cpu")
    detector = dict(options.detector)
    if options.image_size is not None:
        detector.update(input_size_fields(options.image_size))
    if options.init is not None:
        model, schedule, lines = start_fine_tuning(
            options.init, dataset, options.arch, options.train, train_config(preset, options.train), detector,
        )
        for line in lines:
            report("info", line)
        return Trainer(model, dataset, schedule, output_dir, device, val_dataset=val_dataset)
    config = detector_config(class_names, preset, detector)
    anchors_fixed = "anchor_scales" in options.detector or "anchor_ratios" in options.detector
    config, lines = anchors_for_training(dataset, config, options.autoanchor, anchors_fixed)
    for line in lines:
        report("warning" if line.startswith("warning") else "info", line.removeprefix("warning: "))
    return Trainer(FasterRCNN(config), dataset, train_config(preset, options.train), output_dir, device, val_dataset=val_dataset)


def previous_metrics(output_dir: Path, up_to: int) -> list[dict]:
    """Rows of ``output_dir/metrics.jsonl`` up to iteration ``up_to``: a resumed run's curves so far."""
    path = output_dir / METRICS_FILE
    if up_to <= 0 or not path.is_file():
        return []
    try:
        rows = read_metrics(path)
    except MetricsLogError:
        return []
    return [row for row in rows if row.get("iteration", 0) <= up_to]


def describe_settings(trainer: Trainer) -> str:
    """One line for the user: backbone, image size, batch, learning rate, iterations."""
    cfg, train = trainer.model.config, trainer.config
    weights = " from ImageNet weights" if cfg.pretrained_backbone else ""
    return (
        f"{cfg.backbone}{weights} at {cfg.min_size} px, batch {train.batch_size}, lr {train.lr:g}, "
        f"iterations {trainer.iteration}->{train.iterations}"
    )


"""The training loop, one iteration at a time: the CLI runs it, the viewer steps it."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from ..models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..models.faster_rcnn import LOSS_NAMES, FasterRCNN
from ..models.reconfigure import ConfigChange
from ..trace.trace import Trace
from .batches import batch_source
from .devices import select_device
from .distributed import ProcessGroup
from .fine_tune import prepare_for_fine_tuning
from .schedule import lr_factor
from .settings import TrainConfig
from .validation import ValidationResult, is_better, validate

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"
LAST_CHECKPOINT = "last.pt"
BEST_CHECKPOINT = "best.pt"


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or inf; the model was not updated with it."""


@dataclass(frozen=True)
class SeenImage:
    """A training image as a step saw it, after augmentation (flip, zoom, colour), on the
    CPU: ``pixels`` ``[3, H, W]`` float in 0..1, ``boxes`` ``[G, 4]`` xyxy in those pixels
    and ``labels`` ``[G]`` (difficult boxes left out, as training leaves them)."""

    pixels: torch.Tensor
    boxes: torch.Tensor
    labels: torch.Tensor


@dataclass
class StepResult:
    """What one iteration did. ``iteration`` counts completed iterations (1 after the first step).

    ``losses`` holds the four losses and ``total``; ``stats`` the sampling health
    (anchors, RoIs, head accuracy per image); ``image_index`` the dataset index of the
    batch's first image and ``flipped`` whether the step saw it mirrored left-right;
    ``trace`` that image's :class:`Trace` when asked for, and ``seen`` that image as the
    step saw it after augmentation; ``checkpoint`` the file the
    trainer wrote after this step (``None`` when it wrote none); ``reconfigured`` the
    :class:`DetectorConfig` fields changed (``model.reconfigure``) since the previous step,
    which this step is the first to run with; ``validation`` the validation run after this
    step (``None`` when there was none).
    """

    iteration: int
    losses: dict[str, float]
    lr: float
    seconds: float
    stats: dict[str, float] = field(default_factory=dict)
    image_index: int | None = None
    flipped: bool = False
    trace: Trace | None = None
    seen: SeenImage | None = None
    checkpoint: Path | None = None
    validation: ValidationResult | None = None
    reconfigured: tuple[str, ...] = ()

    @property
    def trace_index(self) -> int | None:
        """Dataset index of the traced image (``None`` without a trace)."""
        return self.image_index if self.trace is not None else None

    def metrics(self) -> dict:
        return {"iteration": self.iteration, "lr": self.lr, "seconds": self.seconds, **self.losses, **self.stats}


class Trainer:
    """SGD training of a :class:`FasterRCNN` (or any detector with its forward/loss contract, e.g.
    a torchvision one: :mod:`frcnn_core.train.fine_tune`) on a detection dataset.

    ``step()`` runs one iteration and returns a :class:`StepResult`; ``run(n)`` runs ``n``
    (or all remaining) iterations, calling each callback with every result. With an
    ``output_dir`` it appends metrics to ``metrics.jsonl`` and writes ``last.pt`` every
    ``checkpoint_every`` iterations and at the end, atomically.

    With a ``val_dataset`` it validates (:func:`~.validation.validate`) every
    :attr:`validation_interval` iterations and after the last one, appends each
    validation to ``metrics.jsonl`` (``"split": "val"``), keeps the weights of the highest
    val mAP@0.5 in ``best.pt`` (of equal ones, the higher COCO AP's:
    :func:`~.validation.is_better`) and, with ``config.patience`` K, stops after
    K validations in a row without a better one (:attr:`stopped_early`).
    """

    def __init__(
        self,
        model: FasterRCNN,
        dataset,
        config: TrainConfig | None = None,
        output_dir: str | Path | None = None,
        device: str | torch.device = "auto",
        callbacks: list[Callable[[StepResult], None]] | None = None,
        process_group: ProcessGroup | None = None,
        val_dataset=None,
    ) -> None:
        self.config = cfg = config or TrainConfig()
        self.dataset = dataset
        self.val_dataset = val_dataset
        self.group = process_group or ProcessGroup()
        self.device = device if isinstance(device, torch.device) else select_device(device)
        if self.device.type == "cuda" and self.group.distributed:
            self.device = torch.device("cuda", self.group.local_rank)
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.callbacks = list(callbacks or [])
        torch.manual_seed(cfg.seed + self.group.rank)
        self.model = model.to(self.device).train()
        self.network = DistributedDataParallel(self.model) if self.group.distributed else self.model
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda it: lr_factor(it, cfg))
        self.use_amp = cfg.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.batches = batch_source(dataset, cfg, self.device, self.group.rank, self.group.world_size)
        self.iteration = 0
        self.last_checkpoint: Path | None = None
        self._stop_requested = False
        self.best_map50: float | None = None  # the highest val mAP@0.5 so far
        self.best_coco_ap: float | None = None  # the COCO AP of that validation (ties of mAP@0.5 go to the higher)
        self.best_iteration: int | None = None
        self.validations_since_best = 0
        self.stopped_early = False
        self._reconfigured: dict[str, None] = {}  # fields changed since the last step, in order
        self.model.reconfigured.connect(self._model_reconfigured)

    def _model_reconfigured(self, change: ConfigChange) -> None:
        """The model's settings changed (told by the model): the next step reports it."""
        log.info("model settings changed before iteration %d: %s", self.iteration + 1, change.describe())
        self._reconfigured.update(dict.fromkeys(change.fields))

    @property
    def done(self) -> bool:
        """All iterations run, or stopped by ``patience``."""
        return self.iteration >= self.config.iterations or self.stopped_early

    @property
    def best_checkpoint(self) -> Path | None:
        """``output_dir/best.pt`` once a validation wrote it, else ``None``."""
        if self.output_dir is None or self.best_iteration is None:
            return None
        path = self.output_dir / BEST_CHECKPOINT
        return path if path.is_file() else None

    @property
    def recommended_checkpoint(self) -> Path | None:
        """The checkpoint to use: ``best.pt`` when the run validated, else ``last.pt``."""
        return self.best_checkpoint or self.last_checkpoint

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def step(self, trace: bool = False) -> StepResult:
        """One iteration: forward, loss check, backward, clip, SGD step, schedule step."""
        start = time.perf_counter()
        reconfigured, self._reconfigured = tuple(self._reconfigured), {}
        batch = self.batches.next()
        images = [image.to(self.device, non_blocking=True) for image in batch.images]
        targets = [{k: v.to(self.device) for k, v in target.items()} for target in batch.targets]
        with torch.autocast("cuda", enabled=self.use_amp):
            result = self.network(images, targets, want_trace=trace, full_result=True)
            loss_dict = result.losses
        total = sum(loss_dict[k] for k in LOSS_NAMES)
        losses = dict(zip(LOSS_NAMES, torch.stack([loss_dict[k].detach().float() for k in LOSS_NAMES]).tolist()))  # one device sync
        losses["total"] = sum(losses.values())
        if not math.isfinite(losses["total"]):
            detail = ", ".join(f"{k}={v:.4g}" for k, v in losses.items())
            kept = f"; last good checkpoint: {self.last_checkpoint}" if self.last_checkpoint else ""
            raise NonFiniteLossError(
                f"loss became non-finite at iteration {self.iteration + 1} ({detail}); training stopped "
                f"and the model was not updated{kept}. Lower the learning rate or check the data."
            )
        lr = self.lr
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        if self.config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.iteration += 1
        step = StepResult(self.iteration, losses, lr, time.perf_counter() - start, result.stats, batch.indices[0], batch.flipped[0],
                          reconfigured=reconfigured)
        if trace:
            step.trace = result.trace
            step.trace.iteration = self.iteration
            step.seen = SeenImage(batch.images[0], batch.targets[0]["boxes"], batch.targets[0]["labels"])
        self._after_step(step)
        return step

    @property
    def validation_interval(self) -> int | None:
        """Iterations between two validations (:meth:`TrainConfig.validation_interval_for`
        the val set); ``None`` without one."""
        return None if self.val_dataset is None else self.config.validation_interval_for(len(self.val_dataset))

    def _after_step(self, step: StepResult) -> None:
        if self.val_dataset is not None and (step.iteration % self.validation_interval == 0 or self.done):
            step.validation = self.validate()  # before the checkpoint, so that last.pt knows the best so far
        if self.output_dir is not None and self.group.is_main:
            if step.iteration % self.config.log_every == 0 or self.done:
                self._append_metrics(step.metrics())
            if step.validation is not None:
                self._append_metrics(step.validation.record())
            if step.iteration % self.config.checkpoint_every == 0 or self.done:
                step.checkpoint = self.save_checkpoint()
        for callback in self.callbacks:
            callback(step)

    def validate(self) -> ValidationResult:
        """Validate now on ``val_dataset``; a better validation than all before
        (:func:`~.validation.is_better`) writes ``best.pt`` (with an ``output_dir``), and
        ``patience`` validations in a row without one stop the run.
        Every process of a distributed run validates, so that all stop at the same step."""
        result = validate(self.model, self.val_dataset, self.device, self.iteration, seed=self.config.seed)
        improved = is_better(result.map50, result.coco_ap, self.best_map50, self.best_coco_ap)
        result = dataclasses.replace(result, best=improved)
        if improved:
            self.best_map50, self.best_coco_ap, self.best_iteration = result.map50, result.coco_ap, self.iteration
            self.validations_since_best = 0
            if self.output_dir is not None and self.group.is_main:
                save_checkpoint(self.output_dir / BEST_CHECKPOINT, self.model, {"trainer": self.state_dict(), "validation": result.record()})
        else:
            self.validations_since_best += 1
            if self.config.patience and self.validations_since_best >= self.config.patience:
                self.stopped_early = True
                log.info("stopping at iteration %d: %d validations without a better one than mAP@0.5 %.4f (iteration %d)",
                         self.iteration, self.validations_since_best, self.best_map50, self.best_iteration)
        log.info("validation at iteration %d: mAP@0.5 %.4f, COCO AP %.4f, loss %.4f (%.1f s)",
                 self.iteration, result.map50, result.coco_ap, result.losses["total"], result.seconds)
        return result

    def _append_metrics(self, record: dict) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        with open(self.output_dir / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps({"time": time.time(), **record}) + "\n")

    def request_stop(self) -> None:
        """Make :meth:`run` return once the step in progress is complete (safe to call from a
        signal handler or another thread): the state is then whole, ready to checkpoint."""
        self._stop_requested = True

    def run(self, iterations: int | None = None, progress: bool = False) -> StepResult | None:
        """Run ``iterations`` more steps (all remaining by default), or until
        :meth:`request_stop`; returns the last result."""
        self._stop_requested = False
        remaining = self.config.iterations - self.iteration
        count = remaining if iterations is None else min(iterations, remaining)
        bar = None
        if progress and self.group.is_main:
            from tqdm import tqdm

            bar = tqdm(total=self.config.iterations, initial=self.iteration, unit="it", dynamic_ncols=True)
        last = None
        try:
            for _ in range(count):
                if self._stop_requested or self.done:
                    break
                last = self.step()
                if bar is not None:
                    bar.set_postfix(loss=f"{last.losses['total']:.3f}", lr=f"{last.lr:.2g}")
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return last

    def state_dict(self) -> dict:
        """Everything needed to continue exactly: optimizer, schedule, iteration, data order, RNG."""
        batches = self.batches.state_dict()
        rng = {"torch": torch.get_rng_state(), "flip": batches["flip"]}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "config": json.dumps(self.config.to_dict()),
            "iteration": self.iteration,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "stream": batches["stream"],
            "rng": rng,
            "validation": {"best_map50": self.best_map50, "best_coco_ap": self.best_coco_ap, "best_iteration": self.best_iteration,
                           "since_best": self.validations_since_best,
                           "stopped_early": self.stopped_early},
        }

    def load_state_dict(self, state: dict) -> None:
        self.iteration = int(state["iteration"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.batches.load_state_dict({"stream": state["stream"], "flip": state["rng"]["flip"]})
        torch.set_rng_state(state["rng"]["torch"])
        validation = state.get("validation", {})  # absent from checkpoints written before validation existed
        self.best_map50 = validation.get("best_map50")
        self.best_coco_ap = validation.get("best_coco_ap")
        self.best_iteration = validation.get("best_iteration")
        self.validations_since_best = validation.get("since_best", 0)
        self.stopped_early = validation.get("stopped_early", False)
        if "cuda" in state["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)

    def save_checkpoint(self, path: str | Path | None = None) -> Path:
        """Write model, config and training state atomically (to ``output_dir/last.pt`` by default)."""
        if path is None:
            if self.output_dir is None:
                raise ValueError("no path given and the trainer has no output_dir")
            path = self.output_dir / LAST_CHECKPOINT
        self.last_checkpoint = save_checkpoint(path, self.model, {"trainer": self.state_dict()})
        log.info("checkpoint written to %s (iteration %d)", path, self.iteration)
        return self.last_checkpoint

    @classmethod
    def resume(
        cls, path: str | Path, dataset, output_dir=None, device="auto", callbacks=None, process_group=None, iterations: int | None = None,
        val_dataset=None,
    ) -> Trainer:
        """A trainer that continues exactly where the checkpoint at ``path`` stopped.

        ``iterations`` may extend the run's total length.
        """
        model, payload = load_checkpoint(path)
        if "trainer" not in payload:
            raise CheckpointError(f"{path} holds weights only, no training state to resume from")
        prepare_for_fine_tuning(model)
        state = payload["trainer"]
        config = TrainConfig.from_dict(json.loads(state["config"]))
        if iterations is not None:
            config = config.replace(iterations=iterations)
        trainer = cls(model, dataset, config, output_dir, device, callbacks, process_group, val_dataset)
        trainer.load_state_dict(state)
        trainer.last_checkpoint = Path(path)
        return trainer

"""Training: a steppable :class:`Trainer`, its settings, schedule, devices and process groups."""

from .devices import describe_device, select_device
from .distributed import ProcessGroup, init_from_environment
from .settings import TrainConfig
from .trainer import LAST_CHECKPOINT, METRICS_FILE, NonFiniteLossError, SeenImage, StepResult, Trainer
from .validation import best_validation

__all__ = [
    "describe_device", "select_device", "ProcessGroup", "init_from_environment", "TrainConfig",
    "LAST_CHECKPOINT", "METRICS_FILE", "NonFiniteLossError", "SeenImage", "StepResult", "Trainer", "best_validation",
]

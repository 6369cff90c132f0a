"""Open the weights of a torchvision Faster R-CNN: a bare ``state_dict`` or the checkpoint
torchvision's reference ``train.py`` writes.

Files are untrusted: they are read with ``torch.load(weights_only=True)``, which allows
tensors and plain containers, and here also ``argparse.Namespace`` (the reference
checkpoint's ``"args"``) and nothing else. The architecture is found from the keys and
shapes (:func:`identify_architecture`); where they cannot tell (MobileNetV3 at 800 or 320
pixels) the reference checkpoint's ``args.model`` says, else the 800-pixel builder is assumed
and :attr:`TorchvisionFile.arch_note` says how to choose. Class names come from the caller, a ``classes.txt`` beside
the file, or stay ``class 1..N``.
"""

from __future__ import annotations

import argparse
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from .errors import CheckpointError
from .torchvision_frcnn import TorchvisionArch, TorchvisionFasterRCNN, build_torchvision_detector

CLASSES_FILE = "classes.txt"
# What torch.save writes first in its legacy (pre-zip) format: the pickled magic number.
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
_PREDICTOR_WEIGHT = "roi_heads.box_predictor.cls_score.weight"
# The first convolution of torchvision's MobileNetV3-Large trunk: 16 filters of 3 x 3 x 3.
_MOBILENET_V3_LARGE_STEM = ("backbone.body.0.0.weight", (16, 3, 3, 3))


@dataclass
class TorchvisionFile:
    """What was found in a torchvision weights file.

    Attributes:
        state_dict: the model's weights (a ``module.`` prefix from DataParallel removed).
        form: ``"state_dict"`` or ``"reference checkpoint"`` (``{"model", "optimizer", …, "args"}``).
        arch: the builder the weights are for; arch_note: how that was decided (one line).
        num_classes: foreground classes, from the predictor's shape.
        class_names: the names (empty: ``class 1..N``); class_names_note: where they came from.
        frozen_norm: the trunk has no BatchNorm statistics counters, i.e. it was built with
            ``FrozenBatchNorm2d`` (a model fine-tuned from pretrained weights).
    """

    state_dict: dict[str, Tensor]
    form: str
    arch: TorchvisionArch
    arch_note: str
    num_classes: int
    class_names: tuple[str, ...] = ()
    class_names_note: str = ""
    frozen_norm: bool = False

    def lines(self) -> list[str]:
        """What a user should read: the architecture and the class names, one line each."""
        return [self.arch_note, self.class_names_note]


def torch_load_safely(path: Path):
    """``torch.load(path, weights_only=True)`` allowing ``argparse.Namespace``; a file that
    cannot be read so is a :class:`CheckpointError` naming what it is."""
    with open(path, "rb") as f:
        head = f.read(len(_LEGACY_TORCH_MAGIC))
    if not zipfile.is_zipfile(path) and head.startswith(b"\x80") and head != _LEGACY_TORCH_MAGIC:
        what = "a detectron2 .pkl model?" if path.suffix == ".pkl" else "not written by torch.save"
        raise CheckpointError(
            f"{path} is a plain Python pickle ({what}); frcnn-viewer opens torchvision Faster R-CNN state_dicts "
            "(torch.save(model.state_dict(), PATH)) and its own checkpoints"
        )
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        message = str(exc)
        if "Unsupported global" in message and ("torch.nn" in message or "torchvision" in message or "frcnn_core" in message):
            raise CheckpointError(
                f"{path} holds a whole pickled model (torch.save(model)), which cannot be read without running its code; "
                "save its weights instead: torch.save(model.state_dict(), PATH)"
            ) from exc
        first = next((line.strip() for line in message.splitlines() if "Unsupported global" in line), message.splitlines()[0] if message else "")
        raise CheckpointError(f"checkpoint {path} could not be read safely: {first}") from exc


def state_dict_of(payload, path: Path) -> tuple[dict[str, Tensor], str, argparse.Namespace | None]:
    """``(state_dict, form, args)`` of a torchvision file's payload: a bare ``state_dict`` or a
    reference ``train.py`` checkpoint; anything else is a :class:`CheckpointError`."""
    if isinstance(payload, dict) and isinstance(payload.get("model"), dict):
        args = payload.get("args")
        return _strip_module_prefix(payload["model"]), "reference checkpoint", args if isinstance(args, argparse.Namespace) else None
    if isinstance(payload, dict) and payload and all(isinstance(v, Tensor) for v in payload.values()):
        return _strip_module_prefix(payload), "state_dict", None
    kind = type(payload).__name__
    keys = ", ".join(list(map(str, payload))[:5]) if isinstance(payload, dict) else ""
    raise CheckpointError(f"{path} is neither an frcnn-viewer checkpoint nor a torchvision state_dict ({kind}{': keys ' + keys if keys else ''})")


def _strip_module_prefix(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Keys saved from ``DataParallel``/``DistributedDataParallel`` start with ``module.``."""
    if not state or not all(k.startswith("module.") for k in state):
        return state
    stripped = OrderedDict((k[len("module."):], v) for k, v in state.items())
    metadata = getattr(state, "_metadata", None)  # module versions: torchvision renames old keys by them
    if metadata is not None:
        stripped._metadata = OrderedDict((k[len("module."):] if k.startswith("module.") else "", v) for k, v in metadata.items())
    return stripped


def identify_architecture(state: dict[str, Tensor], path: Path) -> tuple[TorchvisionArch | None, str]:
    """The builder whose model has these keys and shapes, and one line saying how it was told;
    ``(None, line)`` for the MobileNetV3 pair, which the weights cannot tell apart.

    A file without a detector's heads (a classification ``state_dict``) or with a trunk no
    builder makes is a :class:`CheckpointError`."""
    if not any(k.startswith("rpn.") for k in state) or not any(k.startswith("roi_heads.") for k in state):
        sample = ", ".join(list(state)[:3])
        hint = " (a classification model's state_dict?)" if any(k in state for k in ("fc.weight", "classifier.0.weight", "classifier.3.weight", "head.weight")) else ""
        raise CheckpointError(f"{path} has no Faster R-CNN heads (no rpn.* and roi_heads.* weights; keys {sample}, ...){hint}")
    if any(k.startswith("backbone.body.layer1.") for k in state):
        v2 = "rpn.head.conv.1.0.weight" in state or "roi_heads.box_head.0.0.weight" in state
        arch = TorchvisionArch.RESNET50_FPN_V2 if v2 else TorchvisionArch.RESNET50_FPN
        return arch, f"architecture: {arch.value} (from the weights' keys)"
    key, shape = _MOBILENET_V3_LARGE_STEM
    if key in state and tuple(state[key].shape) == shape:
        return None, "MobileNetV3"
    first = next((k for k in state if k.startswith("backbone.")), "no backbone.* key")
    raise CheckpointError(f"{path}: a Faster R-CNN whose trunk none of torchvision's builders makes ({first}); choose one with --arch")


def read_class_names(beside: Path, num_classes: int) -> tuple[str, ...]:
    """The names in ``classes.txt`` beside ``beside`` (one per line, blank lines skipped; a first
    ``__background__``/``background`` line is dropped); empty when there is no such file."""
    path = beside.with_name(CLASSES_FILE)
    if not path.is_file():
        return ()
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(names) == num_classes + 1 and names[0].lower() in ("__background__", "background", "__bg__"):
        names = names[1:]
    if len(names) != num_classes:
        raise CheckpointError(f"{path} names {len(names)} classes but the model in {beside.name} has {num_classes}")
    return tuple(names)


def describe_torchvision_file(path: Path, payload, arch: TorchvisionArch | str | None = None, class_names=None) -> TorchvisionFile:
    """Identify the weights in ``payload`` (read from ``path``): their architecture (``arch``
    if given, else the reference checkpoint's ``args.model``, else the keys), class count and names."""
    state, form, args = state_dict_of(payload, path)
    found, how = identify_architecture(state, path)
    if arch is not None:
        chosen, note = TorchvisionArch.parse(arch), f"architecture: {TorchvisionArch.parse(arch).value} (as chosen)"
    elif args is not None and getattr(args, "model", None) in {a.value for a in TorchvisionArch}:
        chosen, note = TorchvisionArch(args.model), f"architecture: {args.model} (from the checkpoint's args.model)"
    elif found is None:
        chosen = TorchvisionArch.MOBILENET_V3_LARGE_FPN
        note = (
            f"architecture: assumed {chosen.value}; the weights of {TorchvisionArch.MOBILENET_V3_LARGE_320_FPN.value} are the same, "
            f"choose it with --arch {TorchvisionArch.MOBILENET_V3_LARGE_320_FPN.value}"
        )
    else:
        chosen, note = found, how
    if _PREDICTOR_WEIGHT not in state:
        raise CheckpointError(f"{path} has no box predictor ({_PREDICTOR_WEIGHT})")
    num_classes = int(state[_PREDICTOR_WEIGHT].shape[0]) - 1
    if class_names:
        names = tuple(class_names)
        if len(names) != num_classes:
            raise CheckpointError(f"{len(names)} class names given for the {num_classes} classes of {path}")
        names_note = f"class names: as given ({', '.join(names)})"
    else:
        names = read_class_names(path, num_classes)
        where = path.with_name(CLASSES_FILE)
        names_note = (
            f"class names: from {where} ({', '.join(names)})" if names
            else f"class names: class 1..{num_classes} (give them with --classes a,b,c or a {CLASSES_FILE} beside the file)"
        )
    frozen = any(k.startswith("backbone.body.") for k in state) and not any(
        k.startswith("backbone.body.") and k.endswith(".num_batches_tracked") for k in state
    )
    return TorchvisionFile(state, form, chosen, note, num_classes, names, names_note, frozen)


def build_from_file(info: TorchvisionFile, path: Path) -> TorchvisionFasterRCNN:
    """The :class:`TorchvisionFasterRCNN` of ``info`` with its weights; weights that do not fit
    the architecture are a :class:`CheckpointError` naming the keys that did not fit."""
    detector = build_torchvision_detector(info.arch, info.num_classes, frozen_backbone_norm=info.frozen_norm)
    model = TorchvisionFasterRCNN(detector, info.arch, info.class_names)
    load_weights(model, info.state_dict, f"{path} does not fit torchvision's {info.arch.value}")
    return model


def load_weights(model: torch.nn.Module, state: dict[str, Tensor], context: str) -> None:
    """``model.load_state_dict(state)`` (torchvision renames the keys of files from its older
    versions on the way); weights that do not fit are a :class:`CheckpointError` starting
    with ``context`` and naming the keys that did not fit."""
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        expected = model.state_dict()
        missing = [k for k in expected if k not in state]
        unexpected = [k for k in state if k not in expected]
        wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
        parts = []
        if missing:
            parts.append(f"missing {_some(missing)}")
        if unexpected:
            parts.append(f"unexpected {_some(unexpected)}")
        if wrong:
            k = wrong[0]
            parts.append(f"other shapes {_some(wrong)} (e.g. {k}: file {list(state[k].shape)}, model {list(expected[k].shape)})")
        raise CheckpointError(f"{context}: " + ("; ".join(parts) or str(exc).splitlines()[0])) from exc


def _some(keys: list[str], shown: int = 3) -> str:
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return ", ".join(keys[:shown]) + more


def name_classes_after_dataset(model: TorchvisionFasterRCNN, info: TorchvisionFile, dataset_class_names, dataset_name: str) -> None:
    """Give a torchvision model whose file named no classes the dataset's categories, in label
    order (label ``k`` is the ``k``-th category); ``info.class_names_note`` says so. A dataset
    with another number of categories is a :class:`CheckpointError`: its labels would not be
    the model's."""
    names = tuple(dataset_class_names)
    if len(names) != info.num_classes:
        raise CheckpointError(
            f"the model has {info.num_classes} classes but {dataset_name} has {len(names)} categories "
            f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}): its labels are not the model's"
        )
    model.reconfigure(class_names=names)
    info.class_names = names
    info.class_names_note = f"class names: the categories of {dataset_name} in label order ({', '.join(names)})"

"""The model file of ``frcnn detect|eval|diagnose``: ours or torchvision's, ``--arch`` and ``--classes``."""

from __future__ import annotations

import argparse

from ..models.checkpoint import load_checkpoint
from ..models.torchvision_files import name_classes_after_dataset
from ..models.torchvision_frcnn import TorchvisionArch


def architecture(text: str) -> TorchvisionArch:
    """``--arch``: a torchvision builder name or its ``weights=`` enum name."""
    try:
        return TorchvisionArch.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def class_list(text: str) -> tuple[str, ...]:
    """``--classes``: ``"cat,dog"`` -> ``("cat", "dog")``."""
    names = tuple(name.strip() for name in text.split(","))
    if not names or any(not name for name in names):
        raise argparse.ArgumentTypeError(f"expected class names separated by commas, got {text!r}")
    return names


def add_model_flags(parser) -> None:
    choices = ", ".join(a.value for a in TorchvisionArch)
    parser.add_argument(
        "--arch", type=architecture,
        help=f"the torchvision builder of a torchvision weights file ({choices}; or its weights name, e.g. "
        "FasterRCNN_ResNet50_FPN_Weights); default: found from the file",
    )
    parser.add_argument(
        "--classes", type=class_list, metavar="A,B,C",
        help="class names in label order; default: classes.txt beside the file, else the dataset's categories, else class 1..N",
    )


def open_model(args, device, announce: bool = True, dataset=None):
    """The model of ``args.checkpoint`` (with ``args.arch``, ``args.classes``) on ``device``. A
    torchvision file that names no classes takes ``dataset``'s categories; with ``announce``,
    one line says which architecture it took and one where the class names came from."""
    model, payload = load_checkpoint(args.checkpoint, map_location=device, arch=args.arch, class_names=args.classes)
    info = payload.get("torchvision")
    if info is not None:
        if dataset is not None and not info.class_names and dataset.class_names:
            name_classes_after_dataset(model, info, dataset.class_names, str(args.data))
        if announce:
            for line in info.lines():
                print(line)
    return model

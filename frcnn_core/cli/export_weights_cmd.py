"""``frcnn export-weights``: a torchvision detector's checkpoint back as torchvision's ``state_dict``."""

from __future__ import annotations

from pathlib import Path

from ..files.torchvision_weights import export_torchvision_weights


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export-weights", help="save a torchvision detector's checkpoint as a plain torchvision state_dict",
        description="Write the weights of a torchvision Faster R-CNN checkpoint (e.g. one `frcnn train --init` fine-tuned) "
        "as the state_dict torchvision.models.detection.<builder>(num_classes=C+1).load_state_dict accepts.",
    )
    p.add_argument("checkpoint", type=Path, help="a checkpoint of a torchvision Faster R-CNN (ours or torchvision's file)")
    p.add_argument("output", type=Path, help="the .pth file to write")
    p.add_argument("--arch", help="the torchvision builder of the checkpoint, when the file cannot tell")
    p.set_defaults(run=run)


def run(args) -> int:
    output, model = export_torchvision_weights(args.checkpoint, args.output, args.arch)
    names = model.config.class_names
    print(f"wrote {output}: {model.arch.value}, {model.num_classes} classes{' (' + ', '.join(names) + ')' if names else ''}")
    print(
        f"load it with torchvision.models.detection.{model.arch.value}(weights=None, weights_backbone=None, "
        f"num_classes={model.num_classes + 1}).load_state_dict(torch.load({str(output)!r}))"
    )
    return 0

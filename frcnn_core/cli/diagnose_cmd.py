"""``frcnn diagnose``: the stage that lost each missed GT box and the type of each false positive."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from ..evaluation.diagnose import MISS_STAGES, FalsePositiveType, Stage, diagnose_dataset, funnel
from ..files.export import write_json
from ..train import init_from_environment, select_device
from ..train.distributed import shutdown
from .eval_cmd import open_checkpoint_and_data
from .model_file import add_model_flags
from .progress import add_progress_flag, progress_bar, wants_progress


def _number_in(text: str, low: float, high: float, low_inclusive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (low <= value if low_inclusive else low < value) or value > high:
        raise argparse.ArgumentTypeError(f"expected a number in {'[' if low_inclusive else '('}{low:g}, {high:g}], got {text!r}")
    return value


def iou_value(text: str) -> float:
    return _number_in(text, 0.0, 1.0, low_inclusive=False)


def score_value(text: str) -> float:
    return _number_in(text, 0.0, 1.0, low_inclusive=True)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "diagnose",
        help="say why each GT box was missed and what each false positive is",
        description="Trace every image once and print how many GT boxes reach each stage of the detector, "
        "the stage that lost each missed box and the type of each false positive, per class and overall, "
        "and what fixing each stage's misses and each of TIDE's error types is worth (dAP, mAP@0.5 gained).",
    )
    add_trace_review_flags(p, iou_help="least IoU that reaches a GT box, at every stage and in matching",
                           score_help="least score of a kept detection")
    p.add_argument("--json", type=Path, help="write every GT box's and false positive's verdict to this JSON file")
    p.set_defaults(run=run)


def add_trace_review_flags(p, iou_help: str, score_help: str) -> None:
    """The flags of a command that traces a checkpoint over a dataset and judges each image
    (``diagnose``, ``label-errors``): the checkpoint, the data, the operating point, the device."""
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--data", required=True, help="COCO JSON, VOC directory, labelled folder, or shapes/composite (their val split)")
    p.add_argument("--split", default="val", help="split for VOC/shapes/composite (default val)")
    p.add_argument("--num-images", type=int, help="size of the generated set for shapes/composite")
    p.add_argument("--iou", type=iou_value, default=0.5, help=f"{iou_help} (default 0.5)")
    p.add_argument("--score-threshold", type=score_value, default=0.5, help=f"{score_help} (default 0.5)")
    p.add_argument("--device", default="auto")
    add_model_flags(p)
    add_progress_flag(p)


def _table(title: str, columns: list[str], rows: dict[str, dict[str, int]]) -> None:
    width = max(len(title), *(len(name) for name in rows))
    widths = [max(12, len(c)) for c in columns]
    print(f"{title:{width}s} " + " ".join(f"{c:>{w}s}" for c, w in zip(columns, widths)))
    for name, counts in rows.items():
        print(f"{name:{width}s} " + " ".join(f"{counts[c]:>{w}d}" for c, w in zip(columns, widths)))


def _boxes(n: int) -> str:
    return f"{n} box" if n == 1 else f"{n} boxes"


def print_diagnosis(report: dict) -> None:
    summary, dap = report["summary"], report["dap"]
    print(f"IoU {report['iou']:g}, score threshold {report['score_threshold']:g}; difficult/crowd boxes left out")
    print("GT boxes that reach...")
    steps = funnel(summary["gt"])
    print(f"  {steps[0][0]:24s} {steps[0][1]:>7d}")
    for (name, count), stage in zip(steps[1:], MISS_STAGES):
        lost = summary["gt"][stage.value]
        print(f"  {name:24s} {count:>7d}   {stage.description}: {_boxes(lost)}, {dap['stages'][stage.value]:+.3f} mAP@0.5 if fixed ({stage.value})")
    rows = {**{name: per["gt"] for name, per in report["per_class"].items()}, "all": summary["gt"]}
    print()
    _table("GT boxes per stage", [s.value for s in Stage], rows)
    rows = {**{name: per["false_positives"] for name, per in report["per_class"].items()}, "all": summary["false_positives"]}
    print()
    _table("false positives", [t.value for t in FalsePositiveType], rows)
    print()
    print(f"What fixing each of TIDE's error types is worth (every detection, IoU 0.5; TIDE's mAP@0.5 {dap['map50']:.3f}):")
    for error, value in sorted(dap["tide"].items(), key=lambda item: -item[1]):
        print(f"  {error:16s} {value:+.3f}")


def run(args) -> int:
    return run_trace_review(args, "diagnose", diagnose_dataset, print_diagnosis)


def run_trace_review(args, command: str, review: Callable, show: Callable[[object], None]) -> int:
    """Open the checkpoint and the data of ``args``, run ``review(model, dataset, iou,
    score_threshold, device, progress=, process_group=)`` (images shared among the processes
    under torchrun), then ``show`` its result and write it to ``--json``, from the main process."""
    device = select_device(args.device)
    group = init_from_environment(device)
    try:
        model, dataset = open_checkpoint_and_data(args, device, announce=group.is_main)
        with progress_bar(wants_progress(args) and group.is_main, command) as progress:
            result = review(model, dataset, args.iou, args.score_threshold, device, progress=progress, process_group=group)
        if group.is_main:
            show(result)
            if args.json is not None:
                write_json(result, args.json)
                print(f"written to {args.json}")
    finally:
        shutdown()
    return 0

"""``frcnn label-errors``: the labels that are likely wrong, ranked, with the fix for each."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..evaluation.label_errors import LabelErrorKind, find_label_errors_dataset
from .diagnose_cmd import add_trace_review_flags, run_trace_review
from .options import positive_int


def add_parser(sub) -> None:
    p = sub.add_parser(
        "label-errors",
        help="find likely annotation mistakes: unlabelled objects, wrong classes, sloppy boxes, boxes on nothing",
        description="Trace every image once, compare its labels with what each stage of the detector says, and list "
        "the likely annotation mistakes (missing, wrong_class, bad_box, spurious), most likely first, each with a "
        "score in 0..1 and the suggested fix.",
    )
    add_trace_review_flags(p, iou_help="least IoU at which a box is on another", score_help="least score of a confident detection")
    p.add_argument("--top", type=positive_int, help="list only the N most likely mistakes (default: all)")
    p.add_argument("--json", type=Path, help="write the entries, most likely first, to this JSON file")
    p.set_defaults(run=run)


def _box(box: list[float] | None) -> str:
    return "-" if box is None else "(" + ", ".join(f"{v:.0f}" for v in box) + ")"


def _name(row: dict) -> str:
    return Path(row["file_name"]).name if row["file_name"] else f"#{row['image_id']}"


def print_entries(entries: list[dict]) -> None:
    """The ranked table, then the count of each kind."""
    counts = Counter(row["kind"] for row in entries)
    print("rank  score  kind         image                    label        box                    fix")
    for rank, row in enumerate(entries, start=1):
        kind = LabelErrorKind(row["kind"])
        if kind is LabelErrorKind.MISSING:
            fix = f"add {row['suggested_label']} {_box(row['suggested_box'])}"
        elif kind is LabelErrorKind.WRONG_CLASS:
            fix = f"relabel as {row['suggested_label']}"
        elif kind is LabelErrorKind.BAD_BOX:
            fix = f"move to {_box(row['suggested_box'])}"
        else:
            fix = "delete"
        print(f"{rank:>4d}  {row['score']:.3f}  {kind.value:11s}  {_name(row)[:23]:23s}  {row['label'] or '-':11s}  {_box(row['box']):21s}  {fix}")
    print(", ".join(f"{counts.get(kind.value, 0)} {kind.value}" for kind in LabelErrorKind) + f" ({len(entries)} entries)")


def run(args) -> int:
    def review(*inputs, **options) -> list[dict]:
        return find_label_errors_dataset(*inputs, **options)[: args.top]  # the whole list without --top

    return run_trace_review(args, "label-errors", review, print_entries)

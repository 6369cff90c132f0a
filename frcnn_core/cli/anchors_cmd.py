"""``frcnn anchors``: anchor counts for an image size, GT coverage for a dataset, and
anchors optimised for it (``--optimize``); also the anchor check at ``frcnn train``'s start."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..anchors.check import AUTOANCHOR_DEFAULT, anchors_for_training, format_values
from ..anchors.coverage import AnchorLayout, CoverageReport, GtBoxes
from ..anchors.optimizer import optimize_anchors
from ..anchors.stats import anchor_counts, dataset_coverage
from ..config import DetectorConfig
from ..files.atomic import atomic_write_text
from ..presets import read_config_file
from .options import float_list, image_size, positive_int
from .progress import add_progress_flag, open_dataset_announced, progress_bar, wants_progress


def add_parser(sub) -> None:
    p = sub.add_parser("anchors", help="anchor statistics", description="Anchor counts and, for a dataset, GT coverage (IoU >= 0.7 / 0.5).")
    p.add_argument("--image-size", type=image_size, default=(800, 800), help="WIDTHxHEIGHT of the network input (default 800x800)")
    p.add_argument("--data", help="dataset whose GT boxes to check (images resized like the model: --min-size/--max-size)")
    p.add_argument("--split", default="train")
    p.add_argument("--anchor-scales", type=float_list, default=(8.0, 16.0, 32.0))
    p.add_argument("--anchor-ratios", type=float_list, default=(0.5, 1.0, 2.0))
    p.add_argument("--stride", type=positive_int, default=16)
    p.add_argument("--min-size", type=positive_int, default=800)
    p.add_argument("--max-size", type=positive_int, default=1333)
    p.add_argument(
        "--json", nargs="?", const="-", metavar="OUT",
        help="print JSON instead of text; with a file name, write it there (with --optimize: before/after coverage and the anchors)",
    )
    p.add_argument("--allowed-border", type=float, default=0.0, help="pixels an anchor may reach past the image and still be used (rpn_allowed_border)")
    p.add_argument("--optimize", action="store_true", help="search scales and ratios that cover --data's GT boxes better")
    p.add_argument("--num-scales", type=positive_int, help="scales to search for (default: as many as --anchor-scales)")
    p.add_argument("--num-ratios", type=positive_int, help="ratios to search for (default: as many as --anchor-ratios)")
    p.add_argument("--seed", type=int, default=0, help="seed of the search")
    add_progress_flag(p)
    p.set_defaults(run=run)


def add_autoanchor_flags(parser) -> None:
    """``--autoanchor`` / ``--no-autoanchor`` of ``frcnn train``."""
    parser.add_argument(
        "--autoanchor", action=argparse.BooleanOptionalAction, default=AUTOANCHOR_DEFAULT,
        help="when fewer than 90%% of the GT boxes have an anchor of IoU >= 0.5, train with optimised anchors "
        "(anchors you set with --anchor-scales/--anchor-ratios or in --config are kept); "
        "default: on when every anchor trains (the cpu preset), off under the seed's border rule",
    )


def user_fixed_anchors(args) -> bool:
    """Whether the user chose the anchors: ``--anchor-scales``/``--anchor-ratios`` or a ``--config`` file that sets them."""
    if getattr(args, "anchor_scales", None) or getattr(args, "anchor_ratios", None):
        return True
    if getattr(args, "config", None) is None:
        return False
    detector, _ = read_config_file(args.config)
    return "anchor_scales" in detector or "anchor_ratios" in detector


def anchors_at_training_start(args, dataset, config: DetectorConfig, announce: bool = True) -> DetectorConfig:
    """The training-start check (:func:`frcnn_core.anchors.check.anchors_for_training`): prints
    what it found when ``announce`` and returns the config to train with."""
    config, lines = anchors_for_training(dataset, config, args.autoanchor, user_fixed_anchors(args))
    if announce:
        for line in lines:
            print(line)
    return config


def print_coverage(title: str, report: CoverageReport) -> None:
    print(f"{title}: {100 * report.share_at_least(0.7):.1f}% of {report.gt_boxes} GT boxes have an anchor of IoU >= 0.7, "
          f"{100 * report.share_at_least(0.5):.1f}% >= 0.5, median best IoU {report.median_iou:.3f}")
    for b in report.by_size():
        edges = f"< {b.high:g}" if b.low == 0 else f">= {b.low:g}" if b.high == float("inf") else f"{b.low:g}-{b.high:g}"
        print(f"  {b.name:6s} (sqrt area {edges} px){'':{8 - len(edges)}s} {b.gt_boxes:6d} boxes, >=0.7: {100 * b.iou_07:5.1f}%, >=0.5: {100 * b.iou_05:5.1f}%, median {b.median_iou:.3f}")


def run_optimize(args) -> int:
    dataset = open_dataset_announced(args.data, announce=not args.no_progress, split=args.split)
    layout = AnchorLayout(tuple(args.anchor_scales), tuple(args.anchor_ratios), args.stride, args.min_size, args.max_size, args.allowed_border)
    search = optimize_anchors(GtBoxes.from_dataset(dataset), layout, args.num_scales, args.num_ratios, args.seed)
    scales, ratios = list(search.layout.anchor_scales), list(search.layout.anchor_ratios)
    report = {
        "before": search.start.summary(), "after": search.result.summary(), "anchor_scales": scales, "anchor_ratios": ratios,
        "improved": search.improved, "geometry": {"min_size": args.min_size, "max_size": args.max_size, "anchor_stride": args.stride, "rpn_allowed_border": args.allowed_border},
    }
    if args.json == "-":
        print(json.dumps(report, indent=2))
        return 0
    print(f"input {args.min_size}-{args.max_size} px, stride {args.stride}, anchors reaching at most {args.allowed_border:g} px past the image")
    print_coverage(f"before (scales {format_values(layout.anchor_scales)}, ratios {format_values(layout.anchor_ratios)})", search.start)
    print_coverage(f"after  (scales {format_values(scales)}, ratios {format_values(ratios)})", search.result)
    if search.improved:
        print(f"use: --anchor-scales {format_values(scales)} --anchor-ratios {format_values(ratios)}")
        print(f'or in a --config file: {json.dumps({"detector": {"anchor_scales": scales, "anchor_ratios": ratios}})}')
    else:
        print("no scales and ratios found that cover better; keep the current ones")
    if args.json:
        atomic_write_text(Path(args.json), json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def run(args) -> int:
    if args.optimize:
        if not args.data:
            raise ValueError("--optimize needs --data")
        return run_optimize(args)
    report = {"counts": anchor_counts(args.image_size, args.stride, args.anchor_scales, args.anchor_ratios)}
    if args.data:
        dataset = open_dataset_announced(args.data, announce=not args.no_progress, split=args.split)
        with progress_bar(wants_progress(args), "anchors") as progress:
            coverage = dataset_coverage(
                dataset, args.min_size, args.max_size, args.stride, args.anchor_scales, args.anchor_ratios, args.allowed_border, progress=progress
            )
        report["coverage"] = coverage.summary()
    if args.json == "-":
        print(json.dumps(report, indent=2))
        return 0
    if args.json:
        atomic_write_text(Path(args.json), json.dumps(report, indent=2))
    c = report["counts"]
    print(f"image {c['image_size'][1]}x{c['image_size'][0]}: feature map {c['feature_size'][1]}x{c['feature_size'][0]}, "
          f"{len(c['shapes'])} anchors per cell, {c['anchors']} anchors, {c['inside']} inside the image")
    for s in c["shapes"]:
        print(f"  ratio {s['ratio']:g} scale {s['scale']:g}: {s['width']:.0f} x {s['height']:.0f} px")
    if "coverage" in report:
        cov = report["coverage"]
        n = max(cov["gt_boxes"], 1)
        print(f"GT boxes: {cov['gt_boxes']}; best inside-anchor IoU >= 0.7: {cov['iou_ge_0.7']} ({100 * cov['iou_ge_0.7'] / n:.1f}%), "
              f">= 0.5: {cov['iou_ge_0.5']} ({100 * cov['iou_ge_0.5'] / n:.1f}%), median {cov['median_best_iou']:.3f}")
        for name, b in cov.get("by_size", {}).items():
            m = max(b["gt_boxes"], 1)
            print(f"  {name:18s} {b['gt_boxes']:6d} boxes, >=0.7: {100 * b['iou_ge_0.7'] / m:5.1f}%, >=0.5: {100 * b['iou_ge_0.5'] / m:5.1f}%")
    return 0

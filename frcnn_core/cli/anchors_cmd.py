"""``frcnn anchors``: anchor counts for an image size and GT coverage for a dataset."""

from __future__ import annotations

import json

from ..anchor_stats import anchor_counts, dataset_coverage
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
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_progress_flag(p)
    p.set_defaults(run=run)


def run(args) -> int:
    report = {"counts": anchor_counts(args.image_size, args.stride, args.anchor_scales, args.anchor_ratios)}
    if args.data:
        dataset = open_dataset_announced(args.data, announce=not args.no_progress, split=args.split)
        with progress_bar(wants_progress(args), "anchors") as progress:
            coverage = dataset_coverage(dataset, args.min_size, args.max_size, args.stride, args.anchor_scales, args.anchor_ratios, progress=progress)
        report["coverage"] = coverage.summary()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
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

"""Opening a COCO file of COCO train2017's size: ``frcnn_core.data.open_dataset`` against
``pycocotools.coco.COCO`` on the same file, in one run.

The file (118 000 images, 830 000 boxes, 80 categories, a small polygon per box, like
``instances_train2017.json`` without the image files) is generated once into the temp
folder and reused. Each side opens it in its own fresh Python process; the figures are
the wall time of the open and the peak memory it adds (peak RSS minus the RSS after the
process's imports). No image files exist, so nothing can be probed: both sides only read
the JSON, which is what opening a set of that size costs before any image is shown.

    python benchmarks/bench_coco_open.py [--repeats 3] [--images 118000 --boxes 830000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CACHE = Path(tempfile.gettempdir()) / "frcnn_bench_coco"

# Runs in the child process: imports first, then the RSS baseline, then the open.
CHILD = r"""
import json, resource, sys, time
side, path = sys.argv[1], sys.argv[2]
if side == "ours":
    from frcnn_core.data import open_dataset
    open_it = lambda: open_dataset(path)
else:
    from pycocotools.coco import COCO
    open_it = lambda: COCO(path)
page = resource.getpagesize()
with open("/proc/self/statm") as f:
    before = int(f.read().split()[1]) * page
start = time.perf_counter()
opened = open_it()
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak_bytes": peak - before}))
"""


def generate(path: Path, num_images: int, num_boxes: int, seed: int = 0) -> None:
    """A COCO instances file with the fields (and roughly the value ranges) of COCO's own."""
    rng = np.random.default_rng(seed)
    widths = rng.integers(320, 641, num_images)
    heights = rng.integers(240, 641, num_images)
    images = [
        {"license": 1, "file_name": f"{i:012d}.jpg", "coco_url": "", "height": int(h), "width": int(w), "date_captured": "2013-11-14 11:18:45", "id": i}
        for i, (w, h) in enumerate(zip(widths.tolist(), heights.tolist()), start=1)
    ]
    owners = np.sort(rng.integers(0, num_images, num_boxes))
    fx, fy = rng.random(num_boxes), rng.random(num_boxes)
    fw, fh = rng.uniform(0.02, 0.6, num_boxes), rng.uniform(0.02, 0.6, num_boxes)
    x = np.round(fx * (1 - fw) * widths[owners], 2)
    y = np.round(fy * (1 - fh) * heights[owners], 2)
    w = np.round(fw * widths[owners], 2)
    h = np.round(fh * heights[owners], 2)
    categories = rng.integers(1, 81, num_boxes)
    crowd = rng.random(num_boxes) < 0.01
    annotations = []
    for k, (x0, y0, bw, bh, owner, cat, iscrowd) in enumerate(zip(x.tolist(), y.tolist(), w.tolist(), h.tolist(), owners.tolist(), categories.tolist(), crowd.tolist())):
        polygon = [x0, y0, round(x0 + bw, 2), y0, round(x0 + bw, 2), round(y0 + bh, 2), x0, round(y0 + bh, 2)]
        annotations.append(
            {"segmentation": [polygon], "area": round(bw * bh, 2), "iscrowd": int(iscrowd), "image_id": owner + 1, "bbox": [x0, y0, bw, bh], "category_id": cat, "id": k + 1}
        )
    data = {
        "info": {"description": "synthetic file of COCO train2017's size", "version": "1.0"},
        "licenses": [{"url": "", "id": 1, "name": "none"}],
        "images": images,
        "annotations": annotations,
        "categories": [{"supercategory": "thing", "id": k, "name": f"class{k:02d}"} for k in range(1, 81)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data), encoding="utf-8")
    os.replace(partial, path)


def measure(side: str, path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", CHILD, side, str(path)], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cached_file(images: int, boxes: int) -> Path:
    """The generated COCO file of that size, made once into :data:`CACHE`."""
    path = CACHE / f"instances_{images}_{boxes}.json"
    if not path.is_file():
        print(f"generating {path} ...", flush=True)
        generate(path, images, boxes)
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB, {images} images, {boxes} boxes")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=118_000)
    parser.add_argument("--boxes", type=int, default=830_000)
    parser.add_argument("--repeats", type=int, default=3, help="opens per side (alternating); the median is printed")
    args = parser.parse_args()
    path = cached_file(args.images, args.boxes)
    runs: dict[str, list[dict]] = {"ours": [], "pycocotools": []}
    for _ in range(args.repeats):
        for side in runs:
            runs[side].append(measure(side, path))
    figures = {side: (statistics.median(r["seconds"] for r in rs), statistics.median(r["peak_bytes"] for r in rs)) for side, rs in runs.items()}
    for side, (seconds, peak) in figures.items():
        print(f"{side:12s} open {seconds:6.2f} s   peak memory added {peak / 2**30:5.2f} GiB")
    (ours_s, ours_m), (ref_s, ref_m) = figures["ours"], figures["pycocotools"]
    print(f"ours / pycocotools: time {ours_s / ref_s:.2f}x, memory {ours_m / ref_m:.2f}x (median of {args.repeats})")


if __name__ == "__main__":
    main()

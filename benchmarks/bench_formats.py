"""Opening YOLO, CVAT and labelme sets: our readers against globox (and datumaro, when given its Python).

Generates ``--images`` JPEGs (320x240, 1-8 boxes each, 3 classes) once, writes the
three formats with the project's own exporters, then, in one run, times

- ours: ``YoloDataset`` (probes every image: YOLO needs the sizes), ``CvatDataset`` and
  ``LabelmeDataset`` with and without ``check_images``;
- globox: ``AnnotationSet.from_yolo_darknet`` (reads every image's size too),
  ``from_cvat`` and ``from_labelme`` (trust the sizes in the files);
- datumaro (``--datumaro-python PATH``, a Python with datumaro installed, run in a
  subprocess because it pins other versions of pillow and OpenCV): ``import_from``
  ``yolo`` and ``cvat`` (it has no labelme JSON importer).

It checks that globox reads the same boxes (largest coordinate difference), then
breaks one record of each format (a class index outside the names, a coordinate that
is not a number, a shape without points) and an extension's case (``.JPG``), and
prints what each library does with the damaged set.

    pip install globox     # the peer; not a dependency of the project
    python benchmarks/bench_formats.py [--images 3000] [--datumaro-python /path/to/python]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from frcnn_core.annotations import BoxAnnotation, ImageAnnotation, export_cvat, export_labelme, export_yolo_dataset
from frcnn_core.data import CvatDataset, LabelmeDataset, YoloDataset

NAMES = ["cat", "dog", "bird"]
WIDTH, HEIGHT = 320, 240

DATUMARO_SCRIPT = """
import json, sys, time
t = time.perf_counter(); import datumaro as dm; imported = time.perf_counter() - t
out = {"import_s": imported}
for fmt, path in (("yolo", sys.argv[1]), ("cvat", sys.argv[2])):
    t = time.perf_counter()
    try:
        ds = dm.Dataset.import_from(path, fmt)
        items = list(ds)
        out[fmt] = {"s": time.perf_counter() - t, "images": len(items), "boxes": sum(len(i.annotations) for i in items)}
    except Exception as exc:
        out[fmt] = {"s": time.perf_counter() - t, "error": f"{type(exc).__name__}: {str(exc)[:160]}"}
print(json.dumps(out))
"""


def generate(root: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    images = root / "images" / "train"
    images.mkdir(parents=True)
    annotations, files = [], []
    pixels = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    for k in range(n):
        path = images / f"img{k:05d}.jpg"
        Image.fromarray(np.roll(pixels, k, axis=1)).save(path, quality=80)
        boxes = []
        for _ in range(int(rng.integers(1, 9))):
            x1, y1 = rng.uniform(0, WIDTH - 20), rng.uniform(0, HEIGHT - 20)
            boxes.append(BoxAnnotation(NAMES[int(rng.integers(3))], (x1, y1, x1 + rng.uniform(8, WIDTH - x1), y1 + rng.uniform(8, HEIGHT - y1))))
        annotations.append(ImageAnnotation(path.name, WIDTH, HEIGHT, boxes=boxes))
        files.append(path)
    export_yolo_dataset(annotations, NAMES, root, "train")
    # named as in a CVAT zip export: relative to the images/ folder beside the XML
    export_cvat([ImageAnnotation(f"train/{a.filename}", a.width, a.height, boxes=a.boxes) for a in annotations], NAMES, root / "cvat.xml")
    export_labelme(annotations, root / "labelme", files)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def ours(root: Path) -> dict:
    rows = {}
    rows["yolo"] = timed(lambda: YoloDataset(root / "data.yaml"))
    rows["cvat"] = timed(lambda: CvatDataset(root / "cvat.xml"))
    rows["cvat, sizes trusted"] = timed(lambda: CvatDataset(root / "cvat.xml", check_images=False))
    rows["labelme"] = timed(lambda: LabelmeDataset(root / "labelme"))
    rows["labelme, sizes trusted"] = timed(lambda: LabelmeDataset(root / "labelme", check_images=False))
    return rows


def theirs(root: Path) -> dict:
    from globox import AnnotationSet

    return {
        "yolo": timed(lambda: AnnotationSet.from_yolo_darknet(root / "labels" / "train", image_folder=root / "images" / "train", image_extension=".jpg")),
        "cvat": timed(lambda: AnnotationSet.from_cvat(root / "cvat.xml")),
        "labelme": timed(lambda: AnnotationSet.from_labelme(root / "labelme")),
    }


def boxes_by_image_ours(ds) -> dict[str, np.ndarray]:
    return {Path(ds.info(i)["path"]).name: np.sort(ds.info(i)["target"]["boxes"].numpy().astype(np.float64), axis=0) for i in range(len(ds))}


def boxes_by_image_globox(annotation_set) -> dict[str, np.ndarray]:
    return {Path(a.image_id).name: np.sort(np.array([b.ltrb for b in a.boxes], np.float64).reshape(-1, 4), axis=0) for a in annotation_set}


def largest_difference(a: dict, b: dict) -> str:
    if set(a) != set(b):
        return f"different images: {len(set(a) ^ set(b))} not in both"
    return f"{max(float(np.abs(a[k] - b[k]).max(initial=0.0)) for k in a):.2e} px"


def damage(root: Path) -> None:
    """One bad record per format, and one image renamed to upper-case .JPG."""
    label = root / "labels" / "train" / "img00003.txt"
    label.write_text(label.read_text() + "7 0.5 0.5 0.1 0.1\n")
    xml = root / "cvat.xml"
    xml.write_text(xml.read_text().replace('xtl="', 'xtl="oops', 1))
    first = sorted((root / "labelme").glob("*.json"))[5]
    document = json.loads(first.read_text())
    document["shapes"][0]["points"] = []
    first.write_text(json.dumps(document))
    (root / "images" / "train" / "img00009.jpg").rename(root / "images" / "train" / "img00009.JPG")


def outcome(fn) -> str:
    try:
        result = fn()
    except Exception as exc:
        return f"raised {type(exc).__name__}: {' '.join(str(exc).split())[:110]} -> nothing loaded"
    if hasattr(result, "problems"):
        first = result.problems[0].split(": ", 1)[1] if result.problems else ""
        return f"{len(result)} images, {len(result.problems)} problem lines (first: {first[:110]})"
    return f"{len(result)} images, no message"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--datumaro-python", help="a Python interpreter with datumaro installed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "set"
        seconds, _ = timed(lambda: generate(root, args.images))
        print(f"{args.images} images of {WIDTH}x{HEIGHT} written in YOLO, CVAT and labelme form in {seconds:.1f} s")
        theirs(root)  # warm the file cache and imports for both sides
        mine, other = ours(root), theirs(root)
        print(f"{'format':24s} {'images':>6s} {'boxes':>6s} {'ours':>8s} {'globox':>8s}  globox / ours   same boxes (largest difference)")
        for name, (seconds_ours, ds) in mine.items():
            fmt = name.split(",")[0]
            seconds_globox, annotation_set = other[fmt]
            count = sum(len(ds.info(i)["target"]["boxes"]) for i in range(len(ds)))
            print(f"{name:24s} {len(ds):6d} {count:6d} {seconds_ours:7.2f}s {seconds_globox:7.2f}s  {seconds_globox / seconds_ours:10.2f}x   "
                  f"{largest_difference(boxes_by_image_ours(ds), boxes_by_image_globox(annotation_set))}")
        if args.datumaro_python:
            data = subprocess.run([args.datumaro_python, "-c", DATUMARO_SCRIPT, str(root), str(root / "cvat.xml")], capture_output=True, text=True, check=True)
            print(f"datumaro (import {json.loads(data.stdout)['import_s']:.2f} s): {data.stdout.strip()}")
        damaged = Path(tmp) / "damaged"
        shutil.copytree(root, damaged)
        damage(damaged)
        from globox import AnnotationSet

        print("one bad record per format, one image renamed .JPG:")
        print("  ours   yolo:   ", outcome(lambda: YoloDataset(damaged / "data.yaml")))
        print("  globox yolo:   ", outcome(lambda: AnnotationSet.from_yolo_darknet(damaged / "labels" / "train", image_folder=damaged / "images" / "train", image_extension=".jpg")))
        print("  ours   cvat:   ", outcome(lambda: CvatDataset(damaged / "cvat.xml")))
        print("  globox cvat:   ", outcome(lambda: AnnotationSet.from_cvat(damaged / "cvat.xml")))
        print("  ours   labelme:", outcome(lambda: LabelmeDataset(damaged / "labelme")))
        print("  globox labelme:", outcome(lambda: AnnotationSet.from_labelme(damaged / "labelme")))
        if args.datumaro_python:
            data = subprocess.run([args.datumaro_python, "-c", DATUMARO_SCRIPT, str(damaged), str(damaged / "cvat.xml")], capture_output=True, text=True, check=True)
            print(f"  datumaro: {data.stdout.strip()}")


if __name__ == "__main__":
    main()

"""The anchor designer in the window: time from an edit of the anchor scales to the redrawn
figures, histogram and scatter, for 10 000 GT boxes (2 000 photo-sized images of 5 boxes,
a COCO file), against the bare core computation (`grid_coverage`) on the same boxes.

    QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 python benchmarks/bench_anchor_designer.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_anchor_coverage import random_gt  # noqa: E402
from PySide6 import QtWidgets  # noqa: E402

from frcnn_core.anchors.coverage import AnchorLayout, GtBoxes, grid_coverage  # noqa: E402
from frcnn_core.data import open_dataset  # noqa: E402
from frcnn_viewer import MainWindow  # noqa: E402


def coco_of(gt: GtBoxes, folder: Path) -> Path:
    """A COCO file of ``gt``'s boxes (images listed with their sizes; no pixels needed)."""
    images, annotations = {}, []
    for k, (box, (h, w), i) in enumerate(zip(gt.boxes.tolist(), gt.image_sizes.tolist(), gt.image_index.tolist())):
        images[i] = {"id": i + 1, "file_name": f"img{i}.jpg", "width": w, "height": h}
        x1, y1, x2, y2 = box
        annotations.append({"id": k + 1, "image_id": i + 1, "category_id": 1, "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    path = folder / "instances.json"
    path.write_text(json.dumps({"images": list(images.values()), "annotations": annotations, "categories": [{"id": 1, "name": "thing"}]}))
    return path


def main() -> None:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        path = coco_of(random_gt(2000, 5), Path(tmp))
        window = MainWindow()
        window.open_paths([str(path)])
        window.set_parameters(min_size=800, max_size=1333, anchor_scales=(8.0, 16.0, 32.0), anchor_ratios=(0.5, 1.0, 2.0))
        first = window.anchor_design()
        print(f"{first.coverage.gt_boxes} GT boxes in {len(window.document.entries)} images")
        window_ms, core_ms = [], []
        gt = GtBoxes.from_dataset(open_dataset(path))
        for k in range(10):
            scales = (8.0 + k % 2, 16.0, 32.0)
            start = time.perf_counter()
            window.set_parameters(anchor_scales=scales)
            answer = window.anchor_design()
            window_ms.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            grid_coverage(gt, AnchorLayout(scales, (0.5, 1.0, 2.0), 16, 800, 1333))
            core_ms.append(1000 * (time.perf_counter() - start))
            assert answer.coverage.gt_boxes == first.coverage.gt_boxes
        print(f"edit -> redrawn designer: median {statistics.median(window_ms):.1f} ms (target < 200 ms), "
              f"max {max(window_ms):.1f} ms; core grid_coverage alone: {statistics.median(core_ms):.1f} ms")
        window.close()
    app.processEvents()


if __name__ == "__main__":
    main()

"""The learning benchmark's real-photo large-object set: BCCD cropped around its white cells."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from object_crops import FILL, ObjectCropsDataset  # noqa: E402

from frcnn_core import open_dataset  # noqa: E402

BCCD = Path(__file__).resolve().parents[3] / "shared" / "data" / "bccd" / "BCCD"


@pytest.mark.skipif(not BCCD.is_dir(), reason="needs ../shared/data/bccd")
def test_each_white_cell_fills_40_to_95_percent_of_a_crop_of_the_same_pixels():
    base = open_dataset(BCCD, split="val")
    crops = ObjectCropsDataset(base, "WBC")
    wbc = base.class_names.index("WBC") + 1
    assert len(crops) == sum(int((base.record(i).labels == wbc).sum()) for i in range(len(base)))
    assert crops.class_names == ("WBC",)
    for index in range(0, len(crops), 10):
        image, target = crops[index]
        source, record, (x1, y1, x2, y2) = crops.crops[index]
        assert image.shape[1:] == record.size == (y2 - y1, x2 - x1)
        boxes = target["boxes"].numpy()
        assert len(boxes) >= 1 and (target["labels"] == 1).all()
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= x2 - x1).all() and (boxes[:, 3] <= y2 - y1).all()
        side = np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).max() / min(record.size)
        assert FILL[0] - 0.01 <= side <= 1.0
        whole, _ = base[source]
        assert np.array_equal(image.numpy(), whole[:, y1:y2, x1:x2].numpy())  # the crop's own pixels, not resampled
    again = ObjectCropsDataset(base, "WBC")
    assert [c[2] for c in again.crops] == [c[2] for c in crops.crops]  # seeded: the same crops each time

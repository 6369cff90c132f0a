"""COCO results that pycocotools loads unchanged, and the rich format's round trip and checks."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO

from frcnn_core.files.export import SCHEMA, ResultsFormatError, read_rich_results, to_coco_results, to_rich_results, write_json

DETECTIONS = [
    {"boxes": torch.tensor([[10.123456, 20.0, 30.5, 60.25], [0.0, 0.0, 5.0, 5.0]]), "scores": torch.tensor([0.9123456789, 0.5]), "labels": torch.tensor([2, 1])},
    {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.int64)},
]
IMAGES = [{"path": "/data/a.jpg", "width": 100, "height": 80, "image_id": 42}, {"path": None, "width": 64, "height": 64, "image_id": 7}]


def test_coco_results_use_the_dataset_ids_and_round():
    rows = to_coco_results(DETECTIONS, [42, 7], category_ids=[17, 3])
    assert rows == [
        {"image_id": 42, "category_id": 3, "bbox": [10.12, 20.0, 20.38, 40.25], "score": 0.91235},
        {"image_id": 42, "category_id": 17, "bbox": [0.0, 0.0, 5.0, 5.0], "score": 0.5},
    ]
    with pytest.raises(ValueError, match="outside 1..1"):
        to_coco_results(DETECTIONS, [42, 7], category_ids=[17])
    with pytest.raises(ValueError):
        to_coco_results(DETECTIONS, [42], category_ids=[17, 3])


def test_coco_results_load_in_pycocotools_unchanged(tmp_path):
    ground_truth = {
        "images": [{"id": 42, "width": 100, "height": 80}, {"id": 7, "width": 64, "height": 64}],
        "categories": [{"id": 3, "name": "b"}, {"id": 17, "name": "a"}],
        "annotations": [{"id": 1, "image_id": 42, "category_id": 3, "bbox": [10, 20, 20, 40], "area": 800, "iscrowd": 0}],
    }
    path = write_json(to_coco_results(DETECTIONS, [42, 7], [17, 3]), tmp_path / "results.json")
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = ground_truth
        coco.createIndex()
        loaded = coco.loadRes(str(path))
    anns = loaded.loadAnns(loaded.getAnnIds())
    assert sorted((a["image_id"], a["category_id"], a["score"]) for a in anns) == [(42, 3, 0.91235), (42, 17, 0.5)]


def test_rich_results_round_trip(tmp_path):
    model = {"checkpoint": "runs/last.pt", "config_fingerprint": "abc123", "backbone": "small"}
    rich = to_rich_results(DETECTIONS, IMAGES, ["cat", "dog"], model)
    assert rich["schema"] == SCHEMA and rich["schema_version"] == 1 and rich["model"] == model
    first = rich["images"][0]
    assert first["path"] == "/data/a.jpg" and first["image_id"] == 42 and (first["width"], first["height"]) == (100, 80)
    assert first["detections"][0] == {"box": [10.12, 20.0, 30.5, 60.25], "score": 0.91235, "label": 2, "class_name": "dog"}
    assert rich["images"][1] == {"path": None, "image_id": 7, "width": 64, "height": 64, "detections": []}
    path = write_json(rich, tmp_path / "nested" / "rich.json")
    assert read_rich_results(path) == rich


def test_rich_detections_are_sorted_by_score():
    det = {"boxes": [[0, 0, 1, 1], [0, 0, 2, 2]], "scores": [0.1, 0.7], "labels": [1, 1]}
    rows = to_rich_results([det], IMAGES[:1], ["cat"], {})["images"][0]["detections"]
    assert [r["score"] for r in rows] == [0.7, 0.1]


def _rich(tmp_path, change) -> str:
    data = to_rich_results(DETECTIONS, IMAGES, ["cat", "dog"], {})
    change(data)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema="something/else"), "schema"),
        (lambda d: d.update(schema_version=2), "newer version"),
        (lambda d: d.update(schema_version="1"), "schema_version"),
        (lambda d: d.pop("class_names"), "class_names"),
        (lambda d: d["images"][0].pop("width"), r"images\[0\].width"),
        (lambda d: d["images"][0]["detections"][0].update(box=[1, 2, 3]), r"images\[0\].detections\[0\].box"),
        (lambda d: d["images"][0]["detections"][1].update(label=0), r"images\[0\].detections\[1\].label"),
    ],
)
def test_read_rich_results_rejects_bad_files_naming_the_record(tmp_path, change, message):
    path = _rich(tmp_path, change)
    with pytest.raises(ResultsFormatError, match=message) as info:
        read_rich_results(path)
    assert path in str(info.value)


def test_read_rich_results_rejects_non_json(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{not json")
    with pytest.raises(ResultsFormatError, match="not valid JSON"):
        read_rich_results(path)
    with pytest.raises(ResultsFormatError, match="missing.json: no such file"):
        read_rich_results(tmp_path / "missing.json")


def test_write_json_converts_arrays_and_non_finite_values(tmp_path):
    path = write_json({"t": torch.tensor([1.5, 2.0]), "a": np.arange(2), "n": np.float32(0.25), "bad": float("nan"), 3: (1, float("inf"))}, tmp_path / "x.json")
    assert json.loads(path.read_text()) == {"t": [1.5, 2.0], "a": [0, 1], "n": 0.25, "bad": None, "3": [1, None]}

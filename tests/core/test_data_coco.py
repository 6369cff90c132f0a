"""CocoDataset: ids, box conversion, iscrowd, and every kind of bad record."""

from __future__ import annotations

import json

import pytest
import torch
from data_files import truncate, write_garbage, write_image

from frcnn_core.data import CocoDataset, DatasetError


def _coco(images, annotations, categories=None) -> dict:
    categories = categories or [{"id": 3, "name": "dog"}, {"id": 1, "name": "cat"}]
    return {"images": images, "annotations": annotations, "categories": categories}


def _write(path, data) -> str:
    path.write_text(json.dumps(data))
    return str(path)


@pytest.fixture
def good(tmp_path):
    write_image(tmp_path / "a.png", 64, 48, colour=(255, 0, 0))
    write_image(tmp_path / "b.jpg", 32, 32)
    data = _coco(
        [{"id": 10, "file_name": "a.png", "width": 64, "height": 48}, {"id": 20, "file_name": "b.jpg", "width": 32, "height": 32}],
        [
            {"id": 1, "image_id": 10, "category_id": 3, "bbox": [4, 5, 10, 20]},
            {"id": 2, "image_id": 10, "category_id": 1, "bbox": [0, 0, 30, 30], "iscrowd": 1},
            {"id": 3, "image_id": 20, "category_id": 1, "bbox": [1.5, 2.5, 3, 4]},
        ],
    )
    return _write(tmp_path / "instances.json", data)


def test_boxes_labels_and_ids_follow_the_file(good):
    ds = CocoDataset(good)
    assert ds.problems == []
    assert len(ds) == 2
    assert ds.class_names == ("cat", "dog")  # sorted by category id: 1, 3
    assert ds.category_ids == (1, 3)
    assert ds.image_ids == [10, 20]
    image, target = ds[0]
    assert image.shape == (3, 48, 64) and image.dtype == torch.float32
    assert torch.allclose(image[:, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert target["boxes"].tolist() == [[4, 5, 14, 25], [0, 0, 30, 30]]
    assert target["labels"].tolist() == [2, 1]
    assert target["difficult"].tolist() == [False, True]  # iscrowd is ignored like VOC difficult
    assert target["image_id"] == 10 and target["size"] == (48, 64) and target["path"].endswith("a.png")
    assert ds[1][1]["boxes"].tolist() == [[1.5, 2.5, 4.5, 6.5]]


def test_info_does_not_decode_pixels(good, tmp_path):
    ds = CocoDataset(good)
    (tmp_path / "a.png").unlink()
    info = ds.info(0)
    assert info["size"] == (48, 64) and info["image_id"] == 10
    assert info["target"]["labels"].tolist() == [2, 1]
    with pytest.raises(DatasetError, match="a.png"):
        ds[0]


def test_bad_records_are_reported_and_the_rest_loads(tmp_path):
    write_image(tmp_path / "ok.png", 64, 48)
    truncate(write_image(tmp_path / "cut.jpg", 64, 48, seed=1), 0.5)
    write_garbage(tmp_path / "junk.png")
    images = [
        {"id": 1, "file_name": "ok.png", "width": 64, "height": 48},
        {"id": 2, "file_name": "missing.png", "width": 64, "height": 48},
        {"id": 3, "file_name": "cut.jpg", "width": 64, "height": 48},
        {"id": 4, "file_name": "junk.png", "width": 64, "height": 48},
        {"file_name": "no-id.png"},
        {"id": 1, "file_name": "again.png", "width": 64, "height": 48},  # duplicate id
        {"id": 5, "file_name": "unsized-and-missing.png"},  # no size to trust: probed at opening
    ]
    annotations = [
        {"id": 100, "image_id": 1, "category_id": 1, "bbox": [10, 10, 10, 10]},
        {"id": 101, "image_id": 1, "category_id": 1, "bbox": [50, 40, 30, 30]},  # sticks out: clipped
        {"id": 102, "image_id": 1, "category_id": 1, "bbox": [5, 5, 0, 10]},  # zero width: dropped
        {"id": 103, "image_id": 1, "category_id": 99, "bbox": [1, 1, 5, 5]},  # unknown category
        {"id": 104, "image_id": 77, "category_id": 1, "bbox": [1, 1, 5, 5]},  # unknown image
        {"id": 105, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5]},  # malformed
        {"id": 106, "image_id": 5, "category_id": 1, "bbox": [1, 1, 5, 5]},  # its image skipped: silent
        {"id": 107, "image_id": 1, "category_id": 1, "bbox": [70, 10, 5, 5]},  # wholly outside
        {"id": 108, "image_id": True, "category_id": 1, "bbox": [1, 1, 5, 5]},  # a bool is no id
        {"id": 109, "image_id": 1, "category_id": 1, "bbox": [1, 1, "5", 5]},  # a string is no number
        "not an object",
        {"id": 110, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], "segmentation": [[1, 2, 3, 4, 5, 6]]},
    ]
    path = _write(tmp_path / "bad.json", _coco(images, annotations))
    ds = CocoDataset(path)
    # Opening reads the JSON only: the files are checked when used.
    assert len(ds) == 4 and ds.image_ids == [1, 2, 3, 4]
    assert ds[0][1]["boxes"].tolist() == [[10, 10, 20, 20], [50, 40, 64, 48]]
    assert ds.info(1)["target"]["boxes"].tolist() == [[1, 2, 4, 6]] and ds.info(1)["target"]["labels"].tolist() == [2]
    assert all(p.startswith(path) for p in ds.problems)
    text = "\n".join(ds.problems)
    for expected in ("images[4]", "images[5]: duplicate image id 1", "unsized-and-missing.png", "annotation 101", "clipped", "annotation 102", "annotation 103", "unknown category id 99", "annotation 104", "unknown image id 77", "annotation 105", "annotation 107", "annotation 108", "unknown image id True", "annotation 109", "annotation #10: not an object"):
        assert expected in text, expected
    assert "annotation 106" not in text
    assert len(ds.problems) == 12
    # Problems come in file order: the images first, then the annotations by position.
    assert [p.split(": ")[1].split(" ")[1] for p in ds.problems[3:]] == ["101", "102", "103", "104", "105", "107", "108", "109", "#10"]
    for index, name in ((1, "missing.png"), (2, "cut.jpg"), (3, "junk.png")):
        with pytest.raises(DatasetError, match=name):
            ds[index]
        with pytest.raises(DatasetError, match=name):
            ds[index]  # still unreadable, reported once
    assert len(ds.problems) == 15
    assert all(name in "\n".join(ds.problems[12:]) for name in ("missing.png", "cut.jpg", "junk.png"))


def test_size_mismatch_is_reported_when_the_file_is_read_and_the_file_wins(tmp_path):
    write_image(tmp_path / "a.png", 64, 48)
    path = _write(tmp_path / "x.json", _coco([{"id": 1, "file_name": "a.png", "width": 100, "height": 100}], [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 90, 90]}]))
    ds = CocoDataset(path)
    assert ds.info(0)["size"] == (100, 100) and ds.problems == []  # the listed size until the file is read
    image, target = ds[0]
    assert image.shape == (3, 48, 64) and target["size"] == (48, 64)
    assert target["boxes"].tolist() == [[0, 0, 64, 48]]
    assert ds.info(0)["size"] == (48, 64)
    assert ds.info(0)["target"]["boxes"].tolist() == [[0, 0, 64, 48]]
    assert any("100x100" in p and "64x48" in p for p in ds.problems)
    assert any("clipped" in p for p in ds.problems)


def test_opening_trusts_the_listed_size_without_touching_the_files(tmp_path):
    path = _write(tmp_path / "x.json", _coco([{"id": 1, "file_name": "gone.png", "width": 30, "height": 20}], []))
    ds = CocoDataset(path)
    assert len(ds) == 1 and ds.info(0)["size"] == (20, 30) and ds.problems == []
    with pytest.raises(DatasetError, match="gone.png"):
        ds[0]
    assert len(ds.problems) == 1 and "gone.png" in ds.problems[0]


def test_image_root_defaults_to_a_sibling_images_folder(tmp_path):
    write_image(tmp_path / "images" / "a.png")
    path = _write(tmp_path / "x.json", _coco([{"id": 1, "file_name": "a.png"}], []))
    ds = CocoDataset(path)
    assert ds.problems == [] and ds.image_root == tmp_path / "images"
    explicit = CocoDataset(path, image_root=tmp_path / "images")
    assert explicit.info(0)["path"] == str(tmp_path / "images" / "a.png")


def test_images_without_annotations_list_are_unlabelled(tmp_path):
    write_image(tmp_path / "a.png")
    data = _coco([{"id": 1, "file_name": "a.png"}], [])
    del data["annotations"]
    ds = CocoDataset(_write(tmp_path / "x.json", data))
    assert ds.info(0)["target"]["boxes"].shape == (0, 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"images": [', "not valid JSON"),
        ("[1, 2]", "found a JSON list"),
        ('{"categories": []}', "no 'images' list"),
        ('{"images": [], "categories": [{"id": 1}]}', r"categories\[0\]"),
        ('{"images": [], "categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]}', "duplicate category id 1"),
    ],
)
def test_malformed_files_raise_naming_the_file(tmp_path, text, message):
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(DatasetError, match=message) as info:
        CocoDataset(path)
    assert str(path) in str(info.value)


def test_missing_file_raises(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        CocoDataset(tmp_path / "nope.json")

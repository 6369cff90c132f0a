"""YoloDataset: Ultralytics data.yaml sets, images/+labels/ trees, the project's own export, and bad lines."""

from __future__ import annotations

import json

import pytest
import torch
from data_files import write_garbage, write_image

from frcnn_core.annotations import BoxAnnotation, ImageAnnotation, export_yolo_dataset
from frcnn_core.cli import main
from frcnn_core.data import DatasetError, YoloDataset, open_dataset

NAMES = ["cat", "dog", "bird"]


def _exported(tmp_path):
    """A train/val set written by export_yolo_dataset, and the annotations it was written from."""
    sizes = [(64, 48), (100, 30), (33, 77)]
    annotations, files = [], []
    for k, (w, h) in enumerate(sizes):
        files.append(write_image(tmp_path / "src" / f"im{k}.png", w, h, seed=k))
        boxes = [BoxAnnotation("dog", (0.5, 1.25, w - 3.3, h / 2)), BoxAnnotation("bird", (0, 0, w, h))] if k != 1 else []
        annotations.append(ImageAnnotation(f"im{k}.png", w, h, boxes=boxes))
    export_yolo_dataset(annotations[:2], NAMES, tmp_path / "set", "train", files[:2])
    yaml_path = export_yolo_dataset(annotations[2:], NAMES, tmp_path / "set", "val", files[2:])
    return yaml_path, annotations


def test_export_round_trips_through_the_dataset(tmp_path):
    yaml_path, annotations = _exported(tmp_path)
    assert yaml_path.read_text() == "train: images/train\nval: images/val\nnames:\n  0: cat\n  1: dog\n  2: bird\n"
    train, val = YoloDataset(yaml_path, split="train"), open_dataset(yaml_path, split="val")
    assert isinstance(val, YoloDataset) and train.problems == [] and val.problems == []
    assert train.class_names == tuple(NAMES) and train.category_ids == (1, 2, 3)
    assert len(train) == 2 and len(val) == 1 and len(YoloDataset(yaml_path, split="trainval")) == 3
    for ds, wanted in ((train, annotations[:2]), (val, annotations[2:])):
        for i, annotation in enumerate(wanted):
            info = ds.info(i)
            assert info["size"] == (annotation.height, annotation.width) and info["image_id"] == i
            scale = torch.tensor([annotation.width, annotation.height] * 2)
            want = torch.tensor([b.box for b in annotation.boxes], dtype=torch.float64).reshape(-1, 4)
            torch.testing.assert_close(info["target"]["boxes"].double() / scale, want / scale, atol=1e-6, rtol=0)
            assert info["target"]["labels"].tolist() == [NAMES.index(b.label) + 1 for b in annotation.boxes]
    image, target = train[0]
    assert image.shape == (3, 48, 64) and target["boxes"].shape == (2, 4)


def test_export_refuses_other_names_for_an_existing_set(tmp_path):
    yaml_path, annotations = _exported(tmp_path)
    with pytest.raises(ValueError, match="names"):
        export_yolo_dataset(annotations[:1], ["cat", "dog"], yaml_path.parent, "test")
    assert "test" not in yaml_path.read_text()


def _ultralytics_set(tmp_path):
    """A hand-written Ultralytics layout with the quirks of real sets."""
    root = tmp_path / "coco8"
    write_image(root / "images" / "train" / "a.JPG", 100, 50)
    write_image(root / "images" / "train" / "sub" / "b.png", 40, 40)
    write_image(root / "images" / "train" / "c.jpg", 20, 20)  # no label file: background
    write_garbage(root / "images" / "train" / "broken.jpg")
    write_image(root / "images" / "val" / "d.jpg", 10, 10)
    labels = root / "labels" / "train"
    labels.mkdir(parents=True)
    (labels / "a.txt").write_text(
        "0 0.5 0.5 0.2 0.4\n"
        "1 0.25 0.25 0.5 0.5\n"
        "\n"
        "7 0.5 0.5 0.1 0.1\n"               # class not in names
        "2 0.1 0.2 0.3 0.2 0.2 0.6\n"       # a segmentation polygon
        "0 50 25 10 10\n"                   # pixels, not fractions
    )
    (labels / "sub").mkdir()
    (labels / "sub" / "b.txt").write_text("")
    (root / "labels" / "val").mkdir()
    (root / "labels" / "val" / "d.txt").write_text("2 0.5 0.5 1.0 1.0\n")
    (root / "train.txt").write_text("./images/train/a.JPG\n./images/train/sub/b.png\nimages/train/c.jpg\nimages/train/broken.jpg\n")
    (tmp_path / "coco8.yaml").write_text("path: coco8\ntrain: train.txt\nval: [images/val]\nnames:\n  - person\n  - bicycle\n  - car\n")
    return tmp_path / "coco8.yaml"


def test_hand_written_ultralytics_set_with_real_quirks(tmp_path):
    ds = open_dataset(_ultralytics_set(tmp_path))
    assert ds.class_names == ("person", "bicycle", "car")
    assert [ds.info(i)["path"].rsplit("/", 1)[1] for i in range(len(ds))] == ["a.JPG", "b.png", "c.jpg"]
    a = ds.info(0)["target"]
    torch.testing.assert_close(a["boxes"], torch.tensor([[40.0, 15, 60, 35], [0, 0, 50, 25], [10, 10, 30, 30]]))
    assert a["labels"].tolist() == [1, 2, 3]
    assert ds.info(1)["target"]["boxes"].shape == (0, 4) and ds.info(2)["target"]["boxes"].shape == (0, 4)
    label_file = tmp_path / "coco8" / "labels" / "train" / "a.txt"
    problems = "\n".join(ds.problems)
    assert f"{label_file}:4: class index '7' is not in 0..2; skipped" in problems
    assert f"{label_file}:6:" in problems and "outside 0..1" in problems
    assert f"{label_file}: 1 polygon lines (e.g. line 5) read as their bounding boxes" in problems
    assert "broken.jpg: not a readable image" in problems
    assert "1 images have no label file" in problems and "c.txt" in problems
    assert len(ds.problems) == 5
    val = open_dataset(tmp_path / "coco8.yaml", split="val")
    assert len(val) == 1 and val.info(0)["target"]["boxes"].tolist() == [[0, 0, 10, 10]]


def test_roboflow_layout_with_parent_relative_splits(tmp_path):
    root = tmp_path / "export"
    write_image(root / "train" / "images" / "x.jpg", 32, 32)
    (root / "train" / "labels").mkdir(parents=True)
    (root / "train" / "labels" / "x.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (root / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\ntest: ../test/images\nnc: 2\nnames: ['a', 'b']\n")
    ds = open_dataset(root)  # the folder holding data.yaml
    assert len(ds) == 1 and ds.info(0)["target"]["labels"].tolist() == [2]
    with pytest.raises(DatasetError, match="'../valid/images' not found"):
        open_dataset(root / "data.yaml", split="val")


def test_images_and_labels_tree_with_classes_txt(tmp_path):
    root = tmp_path / "tree"
    write_image(root / "images" / "p.jpeg", 50, 50)
    (root / "labels").mkdir()
    (root / "labels" / "p.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "classes.txt").write_text("thing\n")
    ds = open_dataset(root, split="val")  # no split folders: every image
    assert ds.class_names == ("thing",) and ds.problems == [] and ds.info(0)["target"]["boxes"].tolist() == [[20, 20, 30, 30]]


def test_tree_without_class_names_names_classes_by_index(tmp_path):
    root = tmp_path / "tree"
    write_image(root / "images" / "train" / "p.jpg", 10, 10)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "p.txt").write_text("3 0.5 0.5 0.2 0.2\n")
    ds = YoloDataset(root)
    assert ds.class_names == ("0", "1", "2", "3") and ds.info(0)["target"]["labels"].tolist() == [4]
    assert "no classes.txt or data.yaml" in ds.problems[0]
    with pytest.raises(DatasetError, match="no 'test' folder; it has train"):
        YoloDataset(root, split="test")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("names: [a]\ntrain: [unclosed\n", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("train: images\n", "'names' must be"),
        ("train: images\nnames: {0: a, 2: b}\n", "class indices 0..1"),
        ("names: [a]\ntrain: images\n", "no 'val' split; it has train"),
    ],
)
def test_bad_yaml_is_one_line_naming_the_file(tmp_path, text, message):
    (tmp_path / "images").mkdir()
    (tmp_path / "data.yaml").write_text(text)
    with pytest.raises(DatasetError, match=message) as info:
        open_dataset(tmp_path / "data.yaml", split="val")
    assert str(tmp_path / "data.yaml") in str(info.value) and "\n" not in str(info.value)


def test_frcnn_anchors_reads_a_yolo_set(tmp_path, capsys):
    yaml_path, _ = _exported(tmp_path)
    assert main(["anchors", "--data", str(yaml_path), "--json", "--min-size", "64", "--max-size", "128"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["coverage"]["gt_boxes"] == 2

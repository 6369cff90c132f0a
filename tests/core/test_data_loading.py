"""open_dataset picks the right loader; collate; deterministic held-out splits."""

from __future__ import annotations

import json

import pytest
import torch
from data_files import voc_xml, write_image

from frcnn_core.annotations import BoxAnnotation, ImageAnnotation, export_cvat, export_labelme, export_yolo_dataset
from frcnn_core.data import (
    CocoDataset,
    CompositeDataset,
    DatasetError,
    ImageFolderDataset,
    ShapesDataset,
    SpecKind,
    VocDataset,
    collate,
    open_dataset,
    spec_kind,
    split_dataset,
)


def test_specs_open_the_matching_dataset(tmp_path):
    assert isinstance(open_dataset("shapes", num_images=2), ShapesDataset)
    shapes_val = open_dataset("shapes", split="val", num_images=2)
    assert shapes_val.split == "val"
    assert isinstance(open_dataset("composite", num_images=2), CompositeDataset)
    write_image(tmp_path / "coco" / "a.png")
    (tmp_path / "coco" / "x.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png"}], "categories": [], "annotations": []}))
    assert isinstance(open_dataset(tmp_path / "coco" / "x.json"), CocoDataset)
    (tmp_path / "voc" / "Annotations").mkdir(parents=True)
    assert isinstance(open_dataset(str(tmp_path / "voc")), VocDataset)
    write_image(tmp_path / "flat" / "a.png")
    (tmp_path / "flat" / "a.xml").write_text(voc_xml("a.png", 64, 48, [("dog", 1, 1, 5, 5)]))
    assert isinstance(open_dataset(tmp_path / "flat"), VocDataset)
    write_image(tmp_path / "plain" / "a.png")
    assert isinstance(open_dataset(tmp_path / "plain"), ImageFolderDataset)
    assert len(open_dataset(tmp_path / "plain" / "a.png")) == 1


def test_anything_else_raises_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no such file or folder.*expected 'shapes'"):
        open_dataset(tmp_path / "nothing")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match="not a dataset file"):
        open_dataset(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        open_dataset(tmp_path / "empty")


def test_collate_keeps_lists():
    ds = ShapesDataset(num_images=2, image_size=(64, 96))
    images, targets = collate([ds[0], ds[1]])
    assert [im.shape for im in images] == [(3, 64, 96)] * 2 and [t["image_id"] for t in targets] == [0, 1]
    assert collate([]) == ([], [])


def test_split_is_deterministic_disjoint_and_complete():
    ds = ShapesDataset(num_images=25)
    train, val = split_dataset(ds, val_fraction=0.2, seed=4)
    assert len(val) == 5 and len(train) == 20
    assert sorted(train.indices + val.indices) == list(range(25))
    assert split_dataset(ds, 0.2, seed=4)[1].indices == val.indices
    assert split_dataset(ds, 0.2, seed=5)[1].indices != val.indices
    assert val.class_names == ds.class_names and val.category_ids == ds.category_ids and val.problems is ds.problems
    assert val.image_ids == val.indices
    assert torch.equal(val[0][0], ds[val.indices[0]][0]) and val.info(-1)["image_id"] == val.indices[-1]
    tiny_train, tiny_val = split_dataset(ShapesDataset(num_images=2), 0.1)
    assert len(tiny_train) == 1 and len(tiny_val) == 1
    with pytest.raises(ValueError):
        split_dataset(ds, 1.5)


def test_spec_kind_tells_what_open_dataset_would_open(tmp_path):
    image = write_image(tmp_path / "photo.JPG", 8, 8)
    annotation = [ImageAnnotation("photo.JPG", 8, 8, boxes=[BoxAnnotation("cat", (1, 1, 4, 4))])]
    yaml_path = export_yolo_dataset(annotation, ["cat"], tmp_path / "yolo", "train", [image])
    cvat = export_cvat(annotation, ["cat"], tmp_path / "cvat" / "annotations.xml")
    export_labelme(annotation, tmp_path / "labelme", [image])
    (tmp_path / "clip.MKV").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    expected = {
        yaml_path: SpecKind.YOLO, yaml_path.parent: SpecKind.YOLO, cvat: SpecKind.CVAT, cvat.parent: SpecKind.CVAT,
        tmp_path / "labelme": SpecKind.LABELME, tmp_path / "clip.MKV": SpecKind.VIDEO, image: SpecKind.IMAGES,
        tmp_path / "notes.txt": None, tmp_path / "absent": None,
    }
    assert {path: spec_kind(path) for path in expected} == expected
    assert SpecKind.CVAT.annotated and not SpecKind.VIDEO.annotated
    write_image(tmp_path / "cvat" / "photo.JPG", 8, 8)
    assert open_dataset(cvat.parent).image_ids == [0]

"""VocDataset: the VOC layout with splits, flat labelImg folders, class defaults and bad files."""

from __future__ import annotations

import pytest
from data_files import truncate, voc_xml, write_garbage, write_image

from frcnn_core.data import VOC_CLASSES, DatasetError, VocDataset


def _voc_root(tmp_path, entries: dict[str, list[tuple]], splits: dict[str, list[str]] | None = None):
    """A VOC directory: ``entries`` maps an id to its objects; images are 64x48 PNGs."""
    root = tmp_path / "VOC"
    (root / "Annotations").mkdir(parents=True)
    for image_id, objects in entries.items():
        write_image(root / "JPEGImages" / f"{image_id}.png", 64, 48)
        (root / "Annotations" / f"{image_id}.xml").write_text(voc_xml(f"{image_id}.png", 64, 48, objects))
    for name, ids in (splits or {}).items():
        (root / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
        (root / "ImageSets" / "Main" / f"{name}.txt").write_text("\n".join(ids) + "\n")
    return root


def test_voc_layout_reads_the_split_with_difficult_and_voc_classes(tmp_path):
    root = _voc_root(
        tmp_path,
        {"000001": [("dog", 1, 1, 10, 20), ("person", 5, 5, 64, 48, 1)], "000002": [("cat", 3, 4, 5, 6)], "000003": [("dog", 1, 1, 2, 2)]},
        {"train": ["000002", "000001"], "val": ["000003"]},
    )
    ds = VocDataset(root, split="train")
    assert ds.problems == []
    assert ds.class_names == VOC_CLASSES and ds.category_ids == tuple(range(1, 21))
    assert len(ds) == 2 and ds.image_ids == [0, 1]
    assert ds.info(0)["path"].endswith("000002.png")
    target = ds.info(1)["target"]
    assert target["boxes"].tolist() == [[0, 0, 10, 20], [4, 4, 64, 48]]  # VOC is 1-based inclusive
    assert target["labels"].tolist() == [VOC_CLASSES.index("dog") + 1, VOC_CLASSES.index("person") + 1]
    assert target["difficult"].tolist() == [False, True]
    image, same = ds[1]
    assert image.shape == (3, 48, 64) and same["boxes"].tolist() == target["boxes"].tolist()
    assert len(VocDataset(root, split="val")) == 1


def test_missing_split_file_falls_back_to_every_xml(tmp_path):
    root = _voc_root(tmp_path, {"a": [("dog", 1, 1, 5, 5)], "b": []}, {"train": ["a"]})
    ds = VocDataset(root, split="test")
    assert len(ds) == 2
    assert len(ds.problems) == 1 and "test.txt" in ds.problems[0]


def test_class_names_default_to_sorted_names_outside_voc(tmp_path):
    root = _voc_root(tmp_path, {"a": [("zebra", 1, 1, 5, 5)], "b": [("apple", 1, 1, 5, 5)]})
    ds = VocDataset(root)
    assert ds.class_names == ("apple", "zebra")
    assert ds.info(0)["target"]["labels"].tolist() == [2]


def test_no_objects_means_no_class_names(tmp_path):
    assert VocDataset(_voc_root(tmp_path, {"a": []})).class_names == ()


def test_objects_outside_given_class_names_are_reported(tmp_path):
    root = _voc_root(tmp_path, {"a": [("zebra", 1, 1, 5, 5), ("apple", 2, 2, 9, 9)]})
    ds = VocDataset(root, class_names=["apple"])
    assert ds.info(0)["target"]["labels"].tolist() == [1]
    assert any("a.xml" in p and "'zebra'" in p for p in ds.problems)


def test_flat_labelimg_folder(tmp_path):
    folder = tmp_path / "shots"
    write_image(folder / "one.jpg", 40, 30)
    (folder / "one.xml").write_text(voc_xml("one.jpg", 40, 30, [("widget", 2, 3, 20, 30)]))
    write_image(folder / "two.png", 40, 30)
    (folder / "two.xml").write_text(voc_xml("renamed.png", 40, 30, [("gadget", 1, 1, 40, 30)]))  # found by stem
    write_image(folder / "unlabelled.png", 40, 30)
    ds = VocDataset(folder)
    assert ds.class_names == ("gadget", "widget")
    assert [ds.info(i)["path"] for i in range(2)] == [str(folder / "one.jpg"), str(folder / "two.png")]
    assert ds.info(0)["target"]["boxes"].tolist() == [[1, 2, 20, 30]]
    assert len(ds.problems) == 1 and "unlabelled.png" in ds.problems[0]


def test_bad_files_are_reported_and_the_rest_loads(tmp_path):
    root = _voc_root(tmp_path, {"good": [("dog", 1, 1, 10, 10), ("dog", 50, 40, 90, 60), ("dog", 5, 5, 4, 9)]})
    ann, images = root / "Annotations", root / "JPEGImages"
    (ann / "broken.xml").write_text("<annotation><filename>x.png</filename>")
    (ann / "nosize.xml").write_text("<annotation><filename>x.png</filename></annotation>")
    (ann / "lost.xml").write_text(voc_xml("lost.png", 64, 48, [("dog", 1, 1, 5, 5)]))
    truncate(write_image(images / "cut.png", 64, 48, seed=2), 0.6)
    (ann / "cut.xml").write_text(voc_xml("cut.png", 64, 48, [("dog", 1, 1, 5, 5)]))
    write_garbage(images / "junk.jpg")
    (ann / "junk.xml").write_text(voc_xml("junk.jpg", 64, 48, [("dog", 1, 1, 5, 5)]))
    ds = VocDataset(root)
    assert len(ds) == 1 and ds.info(0)["path"].endswith("good.png")
    assert ds.info(0)["target"]["boxes"].tolist() == [[0, 0, 10, 10], [49, 39, 64, 48]]
    text = "\n".join(ds.problems)
    for name in ("broken.xml", "nosize.xml", "lost.xml", "cut.png", "junk.jpg"):
        assert name in text, name
    assert any("good.xml" in p and "clipped" in p for p in ds.problems)
    assert any("good.xml" in p and "inverted" in p for p in ds.problems)
    assert "ImageSets" in text  # no split file: every XML was used


def test_size_mismatch_refits_boxes_to_the_real_image(tmp_path):
    folder = tmp_path / "flat"
    write_image(folder / "a.png", 32, 32)
    (folder / "a.xml").write_text(voc_xml("a.png", 64, 48, [("dog", 1, 1, 64, 48), ("dog", 40, 40, 60, 48)]))
    ds = VocDataset(folder)
    assert ds.info(0)["size"] == (32, 32)
    assert ds.info(0)["target"]["boxes"].tolist() == [[0, 0, 32, 32]]
    assert any("64x48" in p and "32x32" in p for p in ds.problems)
    assert any("no area" in p for p in ds.problems)


def test_not_a_voc_folder_raises(tmp_path):
    write_image(tmp_path / "only.png")
    with pytest.raises(DatasetError, match="no Annotations"):
        VocDataset(tmp_path)
    with pytest.raises(DatasetError, match="no such folder"):
        VocDataset(tmp_path / "missing")

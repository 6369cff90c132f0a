"""LabelmeDataset and the labelme reader/writer: exports, hand-written files with labelme's quirks, bad shapes."""

from __future__ import annotations

import json

import pytest
import torch
from data_files import write_image

from frcnn_core.annotations import AnnotationError, BoxAnnotation, ImageAnnotation, export_labelme, read_labelme_json
from frcnn_core.data import DatasetError, LabelmeDataset, open_dataset


def _shape(label, points, shape_type="rectangle", **extra):
    return {"label": label, "points": points, "group_id": None, "description": "", "shape_type": shape_type, "flags": {}, "mask": None, **extra}


def _labelme(image_path, width, height, shapes, image_data=None):
    return {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": image_path, "imageData": image_data, "imageHeight": height, "imageWidth": width}


def test_hand_written_folder_with_real_quirks(tmp_path):
    folder = tmp_path / "ann"
    write_image(tmp_path / "images" / "a.JPG", 100, 50)
    write_image(folder / "b.jpg", 40, 40)
    write_image(folder / "c.png", 20, 20)  # labelme wrote no file for it
    shapes = [
        _shape("cat", [[40.5, 30.25], [10.0, 5.0]]),  # dragged from the bottom-right corner
        _shape("dog", [[60, 10], [90, 12], [70, 45]], "polygon"),
        _shape("dog", [[50, 25], [53, 29]], "circle"),
        _shape("cat", [[1, 1], [5, 5]], "line"),
        _shape("bird", [[1, 1], [2, 2]], difficult=True),
        _shape("cat", [[1, "x"], [5, 5]]),
        _shape("", [[1, 1], [5, 5]]),
    ]
    # Windows separators, and a stale embedded image that must not be used
    (folder / "a.json").write_text(json.dumps(_labelme("..\\images\\a.JPG", 100, 50, shapes, image_data="aGVsbG8=")))
    (folder / "b.json").write_text(json.dumps(_labelme("elsewhere/b.jpg", 40, 40, [])))  # found by its stem
    (folder / "z_missing.json").write_text(json.dumps(_labelme("gone.jpg", 10, 10, [_shape("cat", [[1, 1], [2, 2]])])))
    ds = open_dataset(folder)
    assert isinstance(ds, LabelmeDataset)
    assert ds.class_names == ("bird", "cat", "dog") and len(ds) == 2
    target = ds.info(0)["target"]
    torch.testing.assert_close(target["boxes"], torch.tensor([[10.0, 5.0, 40.5, 30.25], [60, 10, 90, 45], [45, 20, 55, 30], [1, 1, 2, 2]]))
    assert target["labels"].tolist() == [2, 3, 3, 1] and target["difficult"].tolist() == [False, False, False, True]
    assert ds.info(0)["path"].endswith("images/a.JPG") and ds.info(1)["target"]["boxes"].shape == (0, 4)
    a = folder / "a.json"
    assert ds.problems == [
        f"{a}: shapes[5]: point [1, 'x'] is not [x, y] with finite numbers; skipped",
        f"{a}: shapes[6]: needs a non-empty 'label'; skipped",
        f"{a}: 1 polygons read as their bounding boxes (first: shapes[1])",
        f"{a}: 1 circles read as their bounding boxes (first: shapes[2])",
        f"{a}: 1 line shapes are not boxes and were skipped (first: shapes[3])",
        f"{folder / 'z_missing.json'}: image 'gone.jpg' not found (imageData is not used); skipped",
        f"{folder}: 1 images have no labelme file and are not listed (e.g. c.png)",
    ]


def test_export_round_trips_exactly(tmp_path):
    annotations = [
        ImageAnnotation("a.png", 64, 48, boxes=[BoxAnnotation("cat", (0.1, 0.2, 33.333333333333336, 47.9)), BoxAnnotation("dog", (0, 0, 64, 48), difficult=True)]),
        ImageAnnotation("b.png", 20, 10),
    ]
    files = [write_image(tmp_path / "photos" / a.filename, a.width, a.height, seed=k) for k, a in enumerate(annotations)]
    written = export_labelme(annotations, tmp_path / "labels", files)
    assert [p.name for p in written] == ["a.json", "b.json"]
    document = json.loads(written[0].read_text())
    assert document["imagePath"] == "../photos/a.png" and document["imageData"] is None and document["shapes"][0]["shape_type"] == "rectangle"
    for annotation, path in zip(annotations, written):
        back = read_labelme_json(path)
        assert back.boxes == annotation.boxes and (back.width, back.height) == (annotation.width, annotation.height) and back.warnings == []
    ds = LabelmeDataset(tmp_path / "labels")
    assert ds.problems == [] and ds.class_names == ("cat", "dog")
    target = ds.info(0)["target"]
    assert target["boxes"].tolist() == torch.tensor([b.box for b in annotations[0].boxes], dtype=torch.float32).tolist()
    assert target["labels"].tolist() == [1, 2] and target["difficult"].tolist() == [False, True]


def test_export_checks_everything_before_writing(tmp_path):
    clash = [ImageAnnotation("a.jpg", 4, 4), ImageAnnotation("a.png", 4, 4)]
    with pytest.raises(AnnotationError, match="a.json would overwrite"):
        export_labelme(clash, tmp_path / "out")
    with pytest.raises(AnnotationError, match="no area"):
        export_labelme([ImageAnnotation("b.jpg", 4, 4, boxes=[BoxAnnotation("x", (5, 5, 6, 6))])], tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[1, 2]", "found a JSON list"),
        ("{\"shapes\": []", "not valid JSON"),
        (json.dumps(_labelme("", 10, 10, [])), "'imagePath' must be"),
        (json.dumps(_labelme("a.jpg", 0, 10, [])), "positive integers"),
        (json.dumps({**_labelme("a.jpg", 10, 10, []), "shapes": {}}), "'shapes' must be a list"),
    ],
)
def test_unusable_file_is_reported_and_the_rest_loads(tmp_path, document, message):
    write_image(tmp_path / "good.jpg", 10, 10)
    (tmp_path / "good.json").write_text(json.dumps(_labelme("good.jpg", 10, 10, [_shape("cat", [[1, 1], [4, 4]])])))
    (tmp_path / "bad.json").write_text(document)
    ds = LabelmeDataset(tmp_path)
    assert len(ds) == 1 and len(ds.problems) == 1
    assert ds.problems[0].startswith(f"{tmp_path / 'bad.json'}: ") and message in ds.problems[0]


def test_folder_of_other_json_is_not_labelme(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(DatasetError, match="no images, annotations or COCO file"):
        open_dataset(tmp_path)


def test_given_class_names_fix_labels_and_report_the_others(tmp_path):
    write_image(tmp_path / "a.jpg", 10, 10)
    (tmp_path / "a.json").write_text(json.dumps(_labelme("a.jpg", 10, 10, [_shape("cat", [[1, 1], [4, 4]]), _shape("cow", [[2, 2], [5, 5]])])))
    ds = LabelmeDataset(tmp_path, class_names=["dog", "cat"])
    assert ds.class_names == ("dog", "cat") and ds.info(0)["target"]["labels"].tolist() == [2]
    assert ds.problems == [f"{tmp_path / 'a.json'}: box 'cow' [2, 2, 5, 5]: label not in the class names ['dog', 'cat']; skipped"]

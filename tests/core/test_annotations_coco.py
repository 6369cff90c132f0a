"""frcnn_core.annotations.coco: COCO instances JSON export/import, checked against pycocotools."""

import json

import pytest
from pycocotools.coco import COCO

from frcnn_core.annotations import (
    AnnotationError,
    BoxAnnotation,
    ImageAnnotation,
    class_names_of,
    export_coco,
    import_coco,
    read_voc_xml,
    write_voc_xml,
)


@pytest.fixture
def voc_folder(tmp_path):
    """Three labelImg-style files: full-image box, difficult and truncated flags, an empty image."""
    folder = tmp_path / "voc"
    images = [
        ImageAnnotation("a.jpg", 64, 48, boxes=[
            BoxAnnotation("person", (0, 0, 64, 48), truncated=True),
            BoxAnnotation("dog", (10, 12, 30, 40), difficult=True),
        ]),
        ImageAnnotation("b.jpg", 200, 100, boxes=[
            BoxAnnotation("car", (5, 6, 7, 8)),
            BoxAnnotation("dog", (150, 0, 200, 99), difficult=True, truncated=True),
            BoxAnnotation("car", (0, 50, 1, 51)),
        ]),
        ImageAnnotation("c.jpg", 32, 32),
    ]
    for a in images:
        write_voc_xml(a, folder / a.filename.replace(".jpg", ".xml"))
    return folder


def test_voc_to_coco_to_voc_keeps_every_box(voc_folder, tmp_path):
    originals = [read_voc_xml(p) for p in sorted(voc_folder.glob("*.xml"))]
    classes = class_names_of(originals)
    assert classes == ["car", "dog", "person"]
    json_path = export_coco(originals, classes, tmp_path / "instances.json")
    imported, imported_classes = import_coco(json_path)
    assert imported_classes == classes
    for original, back in zip(originals, imported, strict=True):
        assert (back.filename, back.width, back.height) == (original.filename, original.width, original.height)
        assert back.boxes == original.boxes  # label, exact box, difficult, truncated (pose is the default)
        again = read_voc_xml(write_voc_xml(back, tmp_path / "voc2" / f"{back.filename}.xml"))
        assert again.boxes == original.boxes


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools vs numpy 2
def test_export_layout_matches_pycocotools(voc_folder, tmp_path):
    annotations = [read_voc_xml(p) for p in sorted(voc_folder.glob("*.xml"))]
    path = export_coco(annotations, ["person", "dog", "car"], tmp_path / "out" / "coco.json", image_ids=[10, 20, 30])
    coco = COCO(str(path))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["person", "dog", "car"]
    assert coco.getImgIds() == [10, 20, 30]
    first = coco.loadAnns(coco.getAnnIds(imgIds=[10]))
    assert [a["category_id"] for a in first] == [1, 2]
    assert first[0]["bbox"] == [0, 0, 64, 48] and first[0]["area"] == 64 * 48  # whole image, no offset
    assert (first[0]["iscrowd"], first[0]["ignore"], first[0]["truncated"]) == (0, 0, 1)
    assert (first[1]["iscrowd"], first[1]["ignore"]) == (0, 1)  # difficult
    assert coco.annToMask(first[1]).sum() == 20 * 28  # the rectangle segmentation covers the box
    assert coco.getAnnIds(imgIds=[30]) == []


def test_export_refuses_unknown_labels_and_bad_ids(tmp_path):
    a = [ImageAnnotation("a.jpg", 10, 10, boxes=[BoxAnnotation("cat", (0, 0, 5, 5))])]
    with pytest.raises(AnnotationError, match=r"a\.jpg: label 'cat'"):
        export_coco(a, ["dog"], tmp_path / "x.json")
    with pytest.raises(AnnotationError, match="image_ids"):
        export_coco(a, ["cat"], tmp_path / "x.json", image_ids=[1, 2])
    with pytest.raises(AnnotationError, match="unique"):
        export_coco(a, ["cat", "cat"], tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_import_crowd_as_difficult_and_clips(tmp_path):
    document = {
        "images": [{"id": 7, "file_name": "sub/a.jpg", "width": 50, "height": 40}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 3, "bbox": [1.5, 2, 10, 20], "iscrowd": 1},
            {"id": 2, "image_id": 7, "category_id": 3, "bbox": [40, 30, 20, 20]},
        ],
        "categories": [{"id": 5, "name": "zebra"}, {"id": 3, "name": "ant"}],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document))
    (image,), classes = import_coco(path)
    assert classes == ["ant", "zebra"]  # by category id
    assert image.filename == "sub/a.jpg"
    assert image.boxes[0] == BoxAnnotation("ant", (1.5, 2.0, 11.5, 22.0), difficult=True)
    assert image.boxes[1].box == (40.0, 30.0, 50.0, 40.0)
    assert len(image.warnings) == 1 and "annotations[1] (id 2)" in image.warnings[0]


GOOD_IMAGE = {"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}
GOOD_ANN = {"id": 9, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5]}
CATS = [{"id": 1, "name": "cat"}]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "top level is a list"),
        ({"annotations": [], "categories": CATS}, "'images' is missing"),
        ({"images": [GOOD_IMAGE], "annotations": []}, "'categories' is missing"),
        ({"images": [GOOD_IMAGE], "annotations": {}, "categories": CATS}, "'annotations' is missing or not a list"),
        ({"images": [{"id": 1, "width": 4, "height": 4}], "categories": CATS}, r"images\[0\]: 'file_name' is missing"),
        ({"images": [{**GOOD_IMAGE, "width": -4}], "categories": CATS}, r"images\[0\]: needs .* -4x10"),
        ({"images": [{**GOOD_IMAGE, "height": "10"}], "categories": CATS}, r"'height' is '10', not an integer"),
        ({"images": [GOOD_IMAGE, GOOD_IMAGE], "categories": CATS}, r"images\[1\]: duplicate image id 1"),
        ({"images": [GOOD_IMAGE], "categories": CATS + [{"id": 2, "name": "cat"}]}, r"categories\[1\]: category name 'cat'"),
        ({"images": [GOOD_IMAGE], "annotations": [{**GOOD_ANN, "category_id": 4}], "categories": CATS},
         r"annotations\[0\] \(id 9\): category_id 4 is not among"),
        ({"images": [GOOD_IMAGE], "annotations": [{**GOOD_ANN, "image_id": 2}], "categories": CATS}, "image_id 2 is not among"),
        ({"images": [GOOD_IMAGE], "annotations": [{**GOOD_ANN, "bbox": [0, 0, -1, 5]}], "categories": CATS}, "not positive"),
        ({"images": [GOOD_IMAGE], "annotations": [{**GOOD_ANN, "bbox": [0, 0, 5]}], "categories": CATS}, "four finite numbers"),
        ({"images": [GOOD_IMAGE], "annotations": [{**GOOD_ANN, "bbox": [20, 20, 5, 5]}], "categories": CATS}, "no area inside"),
        ({"images": [GOOD_IMAGE], "annotations": [{**GOOD_ANN, "ignore": "yes"}], "categories": CATS}, "'ignore' is 'yes'"),
        ({"images": [GOOD_IMAGE], "annotations": ["box"], "categories": CATS}, r"annotations\[0\]: is a str"),
    ],
)
def test_malformed_files_raise_naming_the_file_and_record(tmp_path, document, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(AnnotationError, match=message) as info:
        import_coco(path)
    assert str(path) in str(info.value)


def test_unreadable_files(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(AnnotationError, match=r"bad\.json: not valid JSON"):
        import_coco(tmp_path / "bad.json")
    with pytest.raises(AnnotationError, match=r"missing\.json: no such file"):
        import_coco(tmp_path / "missing.json")

"""frcnn_core.annotations.yolo: normalised centre/size labels and classes.txt."""

import pytest

from frcnn_core.annotations import AnnotationError, BoxAnnotation, ImageAnnotation, export_yolo, read_yolo_txt

CLASSES = ["cat", "dog"]


def test_known_lines(tmp_path):
    a = ImageAnnotation("photos/pic.jpeg", 200, 100, boxes=[
        BoxAnnotation("dog", (0, 0, 200, 100)),
        BoxAnnotation("cat", (20, 10, 60, 30), difficult=True),
    ])
    written = export_yolo([a, ImageAnnotation("empty.png", 8, 8)], CLASSES, tmp_path / "labels")
    assert [p.name for p in written] == ["pic.txt", "empty.txt", "classes.txt"]
    assert (tmp_path / "labels" / "pic.txt").read_text() == (
        "1 0.500000 0.500000 1.000000 1.000000\n"
        "0 0.200000 0.200000 0.200000 0.200000\n"
    )
    assert (tmp_path / "labels" / "empty.txt").read_text() == ""
    assert (tmp_path / "labels" / "classes.txt").read_text() == "cat\ndog\n"


def test_round_trip_within_six_decimals(tmp_path):
    boxes = [
        BoxAnnotation("cat", (0.0, 0.0, 1920.0, 1080.0)),
        BoxAnnotation("dog", (13.0, 7.0, 14.0, 8.0)),
        BoxAnnotation("cat", (1000.25, 333.3, 1919.9, 1079.5)),
    ]
    export_yolo([ImageAnnotation("big.jpg", 1920, 1080, boxes=boxes)], CLASSES, tmp_path)
    back = read_yolo_txt(tmp_path / "big.txt", 1920, 1080, CLASSES)
    assert [b.label for b in back] == [b.label for b in boxes]
    for got, want in zip(back, boxes):
        assert got.box == pytest.approx(want.box, abs=1920 * 1e-6)


def test_export_checks_everything_before_writing(tmp_path):
    clash = [ImageAnnotation("a.jpg", 4, 4), ImageAnnotation("a.png", 4, 4)]
    with pytest.raises(AnnotationError, match=r"a\.png: its label file a\.txt"):
        export_yolo(clash, CLASSES, tmp_path / "out")
    with pytest.raises(AnnotationError, match="classes.txt"):
        export_yolo([ImageAnnotation("classes.jpg", 4, 4)], CLASSES, tmp_path / "out")
    with pytest.raises(AnnotationError, match="'bird'"):
        export_yolo([ImageAnnotation("b.jpg", 4, 4, boxes=[BoxAnnotation("bird", (0, 0, 1, 1))])], CLASSES, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0 0.5 0.5 0.2", "expected 'class cx cy w h'"),
        ("0 0.5 0.5 0.2 0.2 0.9", "expected 'class cx cy w h'"),
        ("2 0.5 0.5 0.2 0.2", "class index '2' is not in 0..1"),
        ("-1 0.5 0.5 0.2 0.2", "class index '-1'"),
        ("0 half 0.5 0.2 0.2", "not a number"),
        ("0 0.5 0.5 0 0.2", "positive width"),
        ("0 0.5 0.5 inf 0.2", "finite"),
        ("0 1.005 0.5 0.002 0.2", "no area inside"),
        ("0 320 240 50 60", "outside 0..1"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.txt"
    path.write_text(f"0 0.5 0.5 0.2 0.2\n\n{line}\n")
    with pytest.raises(AnnotationError, match=message) as info:
        read_yolo_txt(path, 100, 100, CLASSES)
    assert f"{path}:3" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(AnnotationError, match="cannot read"):
        read_yolo_txt(tmp_path / "none.txt", 10, 10, CLASSES)

"""The annotation mode's plain-Python side: geometry, class list, session files, set exports.
No Qt here (tests/viewer/test_imports.py checks that these modules never import it)."""

from __future__ import annotations

import pytest
from PIL import Image

from frcnn_core.annotations import AnnotationError, BoxAnnotation, read_voc_xml
from frcnn_viewer.annotation.model import geometry
from frcnn_viewer.annotation.model.classes import PALETTE, ClassList
from frcnn_viewer.annotation.model.session import AnnotationSession
from frcnn_viewer.annotation.model.sets import export_set_coco, export_set_yolo, import_set_coco, is_verified

from .conftest import draw_image

W, H = 160, 120


# ----- geometry ---------------------------------------------------------------------------
def test_span_orders_corners_clips_to_the_image_and_refuses_slivers():
    assert geometry.span((50, 40), (10, 20), W, H, 1.0) == (10, 20, 50, 40)
    assert geometry.span((-5, 100), (30, 200), W, H, 1.0) == (0, 100, 30, H)
    assert geometry.span((10, 10), (10.5, 60), W, H, 1.0) is None  # thinner than a pixel
    assert geometry.span((170, 10), (200, 60), W, H, 1.0) is None  # wholly outside


def test_handles_corners_before_edges_and_none_inside():
    box = (20, 20, 80, 60)
    assert geometry.handle_at(box, 21, 19, 2) == "top_left"
    assert geometry.handle_at(box, 80, 61, 2) == "bottom_right"
    assert geometry.handle_at(box, 50, 59, 2) == "bottom"
    assert geometry.handle_at(box, 19, 40, 2) == "left"
    assert geometry.handle_at(box, 50, 40, 2) is None
    assert geometry.handle_at(box, 120, 40, 2) is None


def test_move_stops_at_the_border_and_resize_never_crosses_or_leaves_the_image():
    assert geometry.moved((20, 20, 80, 60), 100, -50, W, H) == (100, 0, 160, 40)
    assert geometry.resized((20, 20, 80, 60), "bottom_right", 200, 200, W, H, 1.0) == (20, 20, W, H)
    assert geometry.resized((20, 20, 80, 60), "left", 90, 0, W, H, 1.0) == (79, 20, 80, 60)  # 1 px left
    assert geometry.resized((20, 20, 80, 60), "top", 0, -9, W, H, 1.0) == (20, 0, 80, 60)
    assert geometry.box_at([(0, 0, 100, 100), (10, 10, 20, 20)], 15, 15) == 1  # the smaller one


# ----- class list -------------------------------------------------------------------------
def test_class_list_numbers_colours_default_rename_and_remove():
    classes = ClassList(["cat", "dog"])
    seen = []
    classes.changed.connect(lambda: seen.append(1))
    assert classes.default == "cat" and classes.by_number(2) == "dog" and classes.by_number(3) is None
    assert classes.colour("cat") == PALETTE[0] and classes.colour("dog") == PALETTE[1]
    with pytest.raises(ValueError):
        classes.add(" dog ")
    with pytest.raises(ValueError):
        classes.add("  ")
    classes.set_default("bird")  # unknown: added
    assert classes.names == ["cat", "dog", "bird"] and classes.default == "bird"
    classes.rename("bird", "owl")
    assert classes.default == "owl" and classes.colour("owl") == PALETTE[2]
    classes.remove("owl")
    assert classes.default == "cat" and "owl" not in classes and seen


# ----- session ----------------------------------------------------------------------------
@pytest.fixture
def image_path(tmp_path):
    path = tmp_path / "cat.png"
    Image.fromarray(draw_image()).save(path)
    return path


def test_session_starts_from_the_fallback_saves_and_reopens_float_boxes_without_drift(image_path):
    session = AnnotationSession()
    assert session.open(image_path, (H, W), [BoxAnnotation("cat", (20.4, 15.6, 75.5, 71.49))]) == []
    assert session.editable and session.xml_path == image_path.with_suffix(".xml")
    session.set_verified(True)
    path = session.save()
    first = path.read_text()
    saved = read_voc_xml(path)
    assert saved.verified and saved.boxes[0].box == (20.0, 16.0, 76.0, 71.0)  # rounded only in the file
    assert "<xmin>21</xmin>" in first and "<xmax>76</xmax>" in first  # VOC is 1-based
    session.open(image_path, (H, W))
    assert session.boxes == saved.boxes and session.annotation.verified
    session.save()
    assert path.read_text() == first  # a round trip moves nothing


def test_a_malformed_file_makes_the_session_read_only_and_is_never_written(image_path):
    xml = image_path.with_suffix(".xml")
    xml.write_text("<annotation><filename>cat.png</filename><size><width>160</width><height>x</height></size></annotation>")
    original = xml.read_bytes()
    session = AnnotationSession()
    session.open(image_path, (H, W))
    assert not session.editable and str(xml) in session.error and "untouched" in session.error
    with pytest.raises(AnnotationError):
        session.save()
    assert xml.read_bytes() == original


def test_a_size_that_disagrees_with_the_image_is_corrected_with_a_warning(image_path):
    xml = image_path.with_suffix(".xml")
    xml.write_text(
        "<annotation><filename>cat.png</filename><size><width>320</width><height>240</height></size>"
        "<object><name>cat</name><bndbox><xmin>11</xmin><ymin>11</ymin><xmax>200</xmax><ymax>100</ymax></bndbox></object></annotation>"
    )
    session = AnnotationSession()
    warnings = session.open(image_path, (H, W))
    assert "320x240" in warnings[0] and session.boxes[0].box == (10.0, 10.0, 160.0, 100.0) and session.size == (H, W)


# ----- the whole set ----------------------------------------------------------------------
def test_voc_to_coco_to_voc_keeps_every_box_class_and_flag(tmp_path):
    pairs = []
    for k, boxes in enumerate([[BoxAnnotation("cat", (10, 10, 50, 40), difficult=True), BoxAnnotation("dog", (60, 20, 150, 110), truncated=True)],
                               [BoxAnnotation("dog", (0, 0, 160, 120))]]):
        image = tmp_path / f"im{k}.png"
        Image.fromarray(draw_image(seed=k)).save(image)
        session = AnnotationSession()
        session.open(image, (H, W), boxes)
        pairs.append((image, session.save()))
    (tmp_path / "im2.png").write_bytes((tmp_path / "im0.png").read_bytes())  # no annotation: not exported
    pairs.append((tmp_path / "im2.png", tmp_path / "im2.xml"))
    before = [read_voc_xml(xml) for _, xml in pairs[:2]]
    path, count, problems = export_set_coco(pairs, ["dog", "cat"], tmp_path / "set.json")
    assert count == 2 and not problems
    files, _ = export_set_yolo(pairs, ["dog", "cat"], tmp_path / "yolo")
    assert (tmp_path / "yolo" / "classes.txt").read_text().split() == ["dog", "cat"] and len(files) == 3
    for _, xml in pairs[:2]:
        xml.unlink()
    written, problems = import_set_coco(path, pairs)
    assert len(written) == 2 and not problems
    after = [read_voc_xml(xml) for _, xml in pairs[:2]]
    assert [a.boxes for a in after] == [b.boxes for b in before]
    written, problems = import_set_coco(path, pairs)  # existing files are kept
    assert not written and all("kept" in p for p in problems)


def test_is_verified_reads_the_root_flag_and_tolerates_missing_or_bad_files(tmp_path, image_path):
    session = AnnotationSession()
    session.open(image_path, (H, W))
    xml = session.save()
    assert not is_verified(xml)
    session.set_verified(True)
    session.save()
    assert is_verified(xml) and not is_verified(tmp_path / "none.xml")
    xml.write_text("<annotation")
    assert not is_verified(xml)


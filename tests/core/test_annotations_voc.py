"""frcnn_core.annotations.voc: labelImg's VOC XML, 1-based coordinates, safe and strict parsing."""

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frcnn_core.annotations import (
    AnnotationError,
    BoxAnnotation,
    ImageAnnotation,
    read_voc_xml,
    voc_path_for_image,
    write_voc_xml,
)
from frcnn_core.annotations.voc import box_from_voc, box_to_voc

# Written as labelImg writes it: tab indentation, no XML declaration, verified="yes".
LABELIMG_XML = """\
<annotation verified="yes">
	<folder>images</folder>
	<filename>street.jpg</filename>
	<path>/data/images/street.jpg</path>
	<source>
		<database>Unknown</database>
	</source>
	<size>
		<width>640</width>
		<height>480</height>
		<depth>3</depth>
	</size>
	<segmented>0</segmented>
	<object>
		<name>scene</name>
		<pose>Unspecified</pose>
		<truncated>1</truncated>
		<difficult>0</difficult>
		<bndbox>
			<xmin>1</xmin>
			<ymin>1</ymin>
			<xmax>640</xmax>
			<ymax>480</ymax>
		</bndbox>
	</object>
	<object>
		<name>car</name>
		<pose>Left</pose>
		<truncated>0</truncated>
		<difficult>1</difficult>
		<bndbox>
			<xmin>48</xmin>
			<ymin>240</ymin>
			<xmax>195</xmax>
			<ymax>371</ymax>
		</bndbox>
	</object>
</annotation>
"""


def _xml(tmp_path, text, name="ann.xml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _with_object(bndbox="<xmin>5</xmin><ymin>5</ymin><xmax>20</xmax><ymax>20</ymax>", name="dog", extra=""):
    return (
        "<annotation><filename>a.jpg</filename><size><width>100</width><height>80</height><depth>3</depth></size>"
        "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax></bndbox></object>"
        f"<object><name>{name}</name>{extra}<bndbox>{bndbox}</bndbox></object></annotation>"
    )


def test_reads_labelimg_file(tmp_path):
    a = read_voc_xml(_xml(tmp_path, LABELIMG_XML))
    assert (a.filename, a.folder, a.path, a.database) == ("street.jpg", "images", "/data/images/street.jpg", "Unknown")
    assert (a.width, a.height, a.depth, a.segmented, a.verified) == (640, 480, 3, 0, True)
    assert a.labels() == ["scene", "car"]
    # xmin=1..xmax=W is the whole image: (0, 0, W, H) in continuous pixels.
    assert a.boxes[0] == BoxAnnotation("scene", (0.0, 0.0, 640.0, 480.0), difficult=False, truncated=True)
    assert a.boxes[1] == BoxAnnotation("car", (47.0, 239.0, 195.0, 371.0), difficult=True, truncated=False, pose="Left")
    assert a.warnings == []


def test_file_to_model_to_file_is_identical(tmp_path):
    out = tmp_path / "out" / "street.xml"
    write_voc_xml(read_voc_xml(_xml(tmp_path, LABELIMG_XML)), out)
    assert out.read_text(encoding="utf-8") == LABELIMG_XML


def test_model_to_file_to_model_is_exact(tmp_path):
    a = ImageAnnotation("x.png", 32, 24, depth=1, boxes=[
        BoxAnnotation("a", (0.0, 0.0, 32.0, 24.0)),
        BoxAnnotation("b", (5.0, 5.0, 6.0, 6.0), truncated=True),  # the single pixel (5, 5)
        BoxAnnotation("ü", (3.0, 4.0, 17.0, 9.0), difficult=True, pose="Rear"),
    ])
    path = write_voc_xml(a, tmp_path / "x.xml")
    assert read_voc_xml(path) == a
    assert ET.parse(path).find("object[2]/bndbox/xmin").text == "6"
    assert ET.parse(path).find("object[2]/bndbox/xmax").text == "6"


def test_one_based_conversion():
    assert box_from_voc(1, 1, 640, 480) == (0.0, 0.0, 640.0, 480.0)
    assert box_to_voc((0.0, 0.0, 640.0, 480.0)) == (1, 1, 640, 480)
    assert box_from_voc(6, 6, 6, 6) == (5.0, 5.0, 6.0, 6.0)  # one pixel, inclusive
    assert box_from_voc(10.5, 3, 20.25, 9) == (9.5, 2.0, 20.25, 9.0)  # floats in the file


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1000), min_size=4, max_size=4))
def test_rounding_never_drifts(values):
    x1, x2 = sorted(values[:2])
    y1, y2 = sorted(values[2:])
    written = box_to_voc((x1, y1, x2, y2))
    assert written[2] >= written[0] and written[3] >= written[1]
    assert box_to_voc(box_from_voc(*written)) == written  # a second round trip changes nothing
    assert box_from_voc(*box_to_voc(box_from_voc(*written))) == box_from_voc(*written)


def test_float_box_is_rounded_once(tmp_path):
    a = ImageAnnotation("x.png", 100, 100, boxes=[BoxAnnotation("a", (10.4, 3.6, 20.6, 7.2))])
    first = write_voc_xml(a, tmp_path / "1.xml")
    again = read_voc_xml(first)
    assert again.boxes[0].box == (10.0, 4.0, 21.0, 7.0)
    second = write_voc_xml(again, tmp_path / "2.xml")
    assert second.read_text() == first.read_text()


def test_writer_structure_matches_labelimg(tmp_path):
    a = ImageAnnotation("x.png", 10, 10, boxes=[BoxAnnotation("a", (1, 1, 4, 4))])
    root = ET.parse(write_voc_xml(a, tmp_path / "x.xml")).getroot()
    assert "verified" not in root.attrib
    assert [c.tag for c in root] == ["folder", "filename", "source", "size", "segmented", "object"]
    assert [c.tag for c in root.find("object")] == ["name", "pose", "truncated", "difficult", "bndbox"]
    assert [c.tag for c in root.find("object/bndbox")] == ["xmin", "ymin", "xmax", "ymax"]


def test_writer_clips_and_refuses_empty_boxes(tmp_path):
    a = ImageAnnotation("x.png", 10, 10, boxes=[BoxAnnotation("a", (-3, 2, 12.2, 5))])
    assert read_voc_xml(write_voc_xml(a, tmp_path / "x.xml")).boxes[0].box == (0.0, 2.0, 10.0, 5.0)
    (tmp_path / "y.xml").write_text("keep me")
    bad = ImageAnnotation("y.png", 10, 10, boxes=[BoxAnnotation("a", (20, 2, 30, 5))])
    with pytest.raises(AnnotationError, match=r"y\.png.*no area"):
        write_voc_xml(bad, tmp_path / "y.xml")
    assert (tmp_path / "y.xml").read_text() == "keep me"


def test_voc_path_for_image(tmp_path):
    assert voc_path_for_image("/data/img/a.b.jpg") == voc_path_for_image("/data/img/a.b.png")
    assert str(voc_path_for_image("/data/img/a.b.jpg")) == "/data/img/a.b.xml"
    assert voc_path_for_image("img/cat.JPG", tmp_path) == tmp_path / "cat.xml"


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<annotation><filename>&lol3;</filename><size><width>1</width><height>1</height></size></annotation>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<annotation><filename>&ext;</filename><size><width>1</width><height>1</height></size></annotation>
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BOMB, "unsafe XML"),
        (EXTERNAL, "unsafe XML"),
        ("this is not xml", "not well-formed"),
        ("", "not well-formed"),
        ("<annotation><filename>a.jpg</filename>", "not well-formed"),
        ("<labels/>", "<labels>, not <annotation>"),
        ("<annotation><filename>a.jpg</filename></annotation>", "<size> is missing"),
        ("<annotation><size><width>4</width><height>4</height></size></annotation>", "<filename> is missing"),
        ("<annotation><filename>a.jpg</filename><size><width>4</width></size></annotation>", "<height> is missing"),
        ("<annotation><filename>a.jpg</filename><size><width>0</width><height>4</height></size></annotation>", "<width> 0"),
        ("<annotation><filename>a.jpg</filename><size><width>wide</width><height>4</height></size></annotation>", "'wide' is not a number"),
        (_with_object("<xmin>5</xmin><ymin>five</ymin><xmax>20</xmax><ymax>20</ymax>"), r"#2 \('dog'\): <ymin> 'five' is not a number"),
        (_with_object("<xmin>5</xmin><ymin>5</ymin><xmax>20</xmax>"), "<ymax> is missing"),
        (_with_object("<xmin>nan</xmin><ymin>5</ymin><xmax>20</xmax><ymax>20</ymax>"), "<xmin> 'nan' is not finite"),
        (_with_object("<xmin>30</xmin><ymin>5</ymin><xmax>20</xmax><ymax>20</ymax>"), "inverted"),
        (_with_object("<xmin>300</xmin><ymin>5</ymin><xmax>320</xmax><ymax>20</ymax>"), "no area inside the 100x80 image"),
        (_with_object(name=""), "<name> is missing"),
        (_with_object(extra="<difficult>yes</difficult>"), "<difficult> 'yes' is not a number"),
    ],
)
def test_malformed_files_raise_naming_the_file(tmp_path, text, message):
    path = _xml(tmp_path, text, name="broken.xml")
    with pytest.raises(AnnotationError, match=message) as info:
        read_voc_xml(path)
    assert str(path) in str(info.value)


def test_missing_file_raises(tmp_path):
    with pytest.raises(AnnotationError, match="nothere.xml: cannot read"):
        read_voc_xml(tmp_path / "nothere.xml")


def test_lenient_mode_skips_bad_objects_with_a_warning(tmp_path):
    path = _xml(tmp_path, _with_object("<xmin>5</xmin><ymin>five</ymin><xmax>20</xmax><ymax>20</ymax>"))
    a = read_voc_xml(path, strict=False)
    assert a.labels() == ["cat"]
    assert len(a.warnings) == 1
    assert str(path) in a.warnings[0] and "'five'" in a.warnings[0] and "skipped" in a.warnings[0]


def test_out_of_image_boxes_are_clipped(tmp_path):
    # One pixel past the border is a common off-by-one: clipped silently; more is reported.
    a = read_voc_xml(_xml(tmp_path, _with_object("<xmin>0</xmin><ymin>5</ymin><xmax>101</xmax><ymax>95</ymax>")))
    assert a.boxes[1].box == (0.0, 4.0, 100.0, 80.0)
    assert len(a.warnings) == 1 and "clipped to [0, 4, 100, 80]" in a.warnings[0]
    b = read_voc_xml(_xml(tmp_path, _with_object("<xmin>0</xmin><ymin>5</ymin><xmax>101</xmax><ymax>80</ymax>"), name="b.xml"))
    assert b.boxes[1].box == (0.0, 4.0, 100.0, 80.0) and b.warnings == []
    assert a == b  # warnings are not part of the annotation's value

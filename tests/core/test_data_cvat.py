"""CvatDataset and the CVAT for images 1.1 reader/writer: exports, hand-written files, subsets and video tracks."""

from __future__ import annotations

import pytest
import torch
from data_files import voc_xml, write_image

from frcnn_core.annotations import AnnotationError, BoxAnnotation, ImageAnnotation, export_cvat, read_cvat_xml
from frcnn_core.data import CvatDataset, DatasetError, VocDataset, open_dataset

HAND_WRITTEN = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>7</id><name>street</name><size>4</size><mode>annotation</mode>
      <labels>
        <label><name>car</name><color>#fa3253</color><type>rectangle</type><attributes>
          <attribute><name>parked</name><mutable>False</mutable><input_type>checkbox</input_type><default_value>false</default_value><values>false
true</values></attribute></attributes></label>
        <label><name>person</name><color>#33ddff</color><type>any</type><attributes/></label>
        <label><name>night</name><color>#000000</color><type>tag</type><attributes/></label>
      </labels>
    </task>
    <dumped>2024-03-01 10:00:00.000000+00:00</dumped>
  </meta>
  <image id="0" name="IMG_0001.JPG" width="100" height="50">
    <box label="car" source="manual" occluded="1" xtl="10.53" ytl="5.20" xbr="40.00" ybr="30.77" z_order="0">
      <attribute name="parked">true</attribute>
    </box>
    <polygon label="person" source="manual" occluded="0" points="60.50,10.00;80.00,12.25;70.00,45.00" z_order="1"/>
    <polyline label="person" source="manual" occluded="0" points="1.0,1.0;5.0,5.0" z_order="0"/>
    <box label="truck" source="manual" occluded="0" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"/>
    <box label="car" source="manual" occluded="0" xtl="oops" ytl="1" xbr="9" ybr="9" z_order="0"/>
    <tag label="night" source="manual"/>
  </image>
  <image id="1" name="IMG_0002.jpg" width="100" height="50">
  </image>
  <image id="2" name="missing.jpg" width="100" height="50">
    <box label="car" source="manual" occluded="0" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"/>
  </image>
  <image id="5" name="sub/IMG_0003.png" width="30" height="20">
    <box label="person" source="auto" occluded="0" xtl="0.00" ytl="0.00" xbr="30.00" ybr="20.00" z_order="0" rotation="90.0"/>
  </image>
</annotations>
"""


def test_hand_written_export_with_real_quirks(tmp_path):
    write_image(tmp_path / "images" / "IMG_0001.JPG", 100, 50)  # CVAT's zip export: images/ beside the XML
    write_image(tmp_path / "images" / "IMG_0002.jpg", 100, 50)
    write_image(tmp_path / "images" / "sub" / "IMG_0003.png", 30, 20)
    xml = tmp_path / "annotations.xml"
    xml.write_text(HAND_WRITTEN)
    ds = open_dataset(xml)
    assert isinstance(ds, CvatDataset)
    assert ds.class_names == ("car", "person") and ds.image_ids == [0, 1, 5]
    first = ds.info(0)["target"]
    torch.testing.assert_close(first["boxes"], torch.tensor([[10.53, 5.20, 40.00, 30.77], [60.50, 10.00, 80.00, 45.00]]))
    assert first["labels"].tolist() == [1, 2] and first["difficult"].tolist() == [False, False]
    assert ds.info(1)["target"]["boxes"].shape == (0, 4)
    # rotated by 90 degrees about its centre (15, 10): 20 wide, 30 high, clipped to the 30x20 image
    assert ds.info(2)["target"]["boxes"].tolist() == [[5.0, 0.0, 25.0, 20.0]]
    problems = "\n".join(ds.problems)
    assert "image #0 ('IMG_0001.JPG') <box> #5 ('car'): xtl='oops' is not a number; skipped" in problems
    assert f"{xml}: 1 polygons read as their bounding boxes (first: image #0 ('IMG_0001.JPG') <polygon> #2 ('person'))" in ds.problems
    assert f"{xml}: 1 polylines are not boxes and were skipped (first: image #0 ('IMG_0001.JPG') <polyline> #3)" in ds.problems
    assert f"{xml}: 1 rotated boxes read as their bounding boxes (first: image #3 ('sub/IMG_0003.png') <box> #1 ('person'))" in ds.problems
    assert "<box> #1 ('person'): box [5, -5, 25, 25] extends outside the 30x20 image; clipped to [5, 0, 25, 20]" in problems
    assert "image id 0 ('IMG_0001.JPG'): box 'truck' [1, 1, 9, 9]: label not in the class names ['car', 'person']; skipped" in problems
    assert "image id 2 ('missing.jpg'): image file not found" in problems
    assert len(ds.problems) == 7


def test_export_round_trips_exactly(tmp_path):
    annotations = [
        ImageAnnotation("a.png", 64, 48, boxes=[BoxAnnotation("cat", (0.1, 0.2, 33.333333333333336, 47.9)), BoxAnnotation("dog", (0, 0, 64, 48), difficult=True)]),
        ImageAnnotation("b.png", 20, 10),
    ]
    xml = export_cvat(annotations, ["dog", "cat"], tmp_path / "annotations.xml", image_ids=[3, 9])
    parsed = read_cvat_xml(xml)
    assert parsed.class_names == ["dog", "cat"] and parsed.warnings == []
    assert [image.image_id for image in parsed.images] == [3, 9]
    assert [image.annotation for image in parsed.images] == annotations  # boxes, labels and difficult, exactly
    for k, annotation in enumerate(annotations):
        write_image(tmp_path / annotation.filename, annotation.width, annotation.height, seed=k)
    ds = CvatDataset(xml)
    assert ds.problems == [] and ds.image_ids == [3, 9] and ds.class_names == ("dog", "cat")
    target = ds.info(0)["target"]
    assert target["boxes"].tolist() == torch.tensor([b.box for b in annotations[0].boxes], dtype=torch.float32).tolist()
    assert target["labels"].tolist() == [2, 1] and target["difficult"].tolist() == [False, True]


def test_export_checks_labels_before_writing(tmp_path):
    with pytest.raises(AnnotationError, match="'bird'"):
        export_cvat([ImageAnnotation("a.png", 4, 4, boxes=[BoxAnnotation("bird", (0, 0, 1, 1))])], ["cat"], tmp_path / "x.xml")
    assert not (tmp_path / "x.xml").exists()


def test_project_subsets_are_splits(tmp_path):
    images = [ImageAnnotation(f"{k}.png", 8, 8, boxes=[BoxAnnotation("cat", (1, 1, 4, 4))]) for k in range(3)]
    xml = export_cvat(images, ["cat"], tmp_path / "annotations.xml")
    text = xml.read_text()
    text = text.replace('name="0.png"', 'name="0.png" subset="Train"').replace('name="1.png"', 'name="1.png" subset="Validation"').replace('name="2.png"', 'name="2.png" subset="Train"')
    xml.write_text(text)
    write_image(tmp_path / "images" / "Train" / "0.png", 8, 8)
    write_image(tmp_path / "images" / "Validation" / "1.png", 8, 8)
    write_image(tmp_path / "images" / "Train" / "2.png", 8, 8)
    assert open_dataset(xml, split="train").image_ids == [0, 2]
    assert open_dataset(xml, split="val").image_ids == [1]
    assert open_dataset(xml, split="trainval").image_ids == [0, 1, 2]
    everything = open_dataset(xml, split="test")
    assert everything.image_ids == [0, 1, 2] and "no subset matches the split 'test'" in everything.problems[0]


VIDEO_EXPORT = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><name>clip</name><size>3</size><mode>interpolation</mode>
    <labels><label><name>ball</name><type>rectangle</type><attributes/></label></labels>
    <original_size><width>40</width><height>30</height></original_size>
  </task></meta>
  <track id="0" label="ball" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="1.00" ytl="2.00" xbr="11.00" ybr="12.00" z_order="0"/>
    <box frame="1" keyframe="0" outside="0" occluded="0" xtl="3.50" ytl="2.00" xbr="13.50" ybr="12.00" z_order="0"/>
    <box frame="2" keyframe="1" outside="1" occluded="0" xtl="6.00" ytl="2.00" xbr="16.00" ybr="12.00" z_order="0"/>
  </track>
  <track id="1" label="ball" source="manual">
    <box frame="1" keyframe="1" outside="0" occluded="0" xtl="20" ytl="20" xbr="30" ybr="30" z_order="0"/>
  </track>
</annotations>
"""


def test_video_export_tracks_become_frames(tmp_path):
    write_image(tmp_path / "images" / "frame_000000.PNG", 40, 30)
    write_image(tmp_path / "images" / "frame_000001.PNG", 40, 30)
    (tmp_path / "annotations.xml").write_text(VIDEO_EXPORT)
    ds = open_dataset(tmp_path)  # a folder holding one CVAT XML
    assert isinstance(ds, CvatDataset) and ds.problems == [] and ds.image_ids == [0, 1]
    assert ds.info(0)["target"]["boxes"].tolist() == [[1, 2, 11, 12]]
    assert ds.info(1)["target"]["boxes"].tolist() == [[3.5, 2, 13.5, 12], [20, 20, 30, 30]]


def test_tracks_attach_to_listed_images(tmp_path):
    text = VIDEO_EXPORT.replace("<track id=\"0\"", '<image id="0" name="f0.png" width="40" height="30"/><image id="1" name="f1.png" width="40" height="30"/><track id="0"')
    parsed = read_cvat_xml(_write(tmp_path / "a.xml", text))
    assert [len(image.annotation.boxes) for image in parsed.images] == [1, 2]


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<annotations><image", "not well-formed XML"),
        ("<annotation><filename>a.jpg</filename></annotation>", "the root is <annotation>, expected <annotations>"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><annotations/>', "refused unsafe XML"),
    ],
)
def test_unusable_file_is_one_error_naming_it(tmp_path, text, message):
    path = _write(tmp_path / "bad.xml", text)
    with pytest.raises(DatasetError, match=message) as info:
        CvatDataset(path)
    assert str(path) in str(info.value)


def test_voc_files_are_not_taken_for_cvat(tmp_path):
    write_image(tmp_path / "a.jpg", 20, 20)
    (tmp_path / "a.xml").write_text(voc_xml("a.jpg", 20, 20, [("dog", 1, 1, 10, 10)]))
    assert isinstance(open_dataset(tmp_path), VocDataset)
    with pytest.raises(DatasetError, match="not a dataset file"):
        open_dataset(tmp_path / "a.xml")


def test_sizes_come_from_the_files_and_boxes_are_refitted(tmp_path):
    xml = export_cvat([ImageAnnotation("a.png", 40, 40, boxes=[BoxAnnotation("cat", (5, 5, 35, 35)), BoxAnnotation("cat", (30, 30, 40, 40))])], ["cat"], tmp_path / "a.xml")
    write_image(tmp_path / "a.png", 20, 20)  # the file is smaller than the XML says
    ds = CvatDataset(xml)
    assert ds.info(0)["size"] == (20, 20) and ds.info(0)["target"]["boxes"].tolist() == [[5, 5, 20, 20]]
    assert "the annotation says 40x40 but a.png is 20x20; using the file's size" in ds.problems[0]
    assert "no area inside the 20x20 image; dropped" in ds.problems[-1]
    assert CvatDataset(xml, check_images=False).info(0)["size"] == (40, 40)

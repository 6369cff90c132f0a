"""The annotation model without Qt: it follows a plain Document, keeps boxes in file pixels and
the document's GT in displayed pixels, shares one class list with the document, knows what
is saved. Edits are applied with the session's primitives, as the undo commands do."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest

from frcnn_core.annotations import BoxAnnotation, read_voc_xml
from frcnn_viewer.annotation.model import files as annotation_files
from frcnn_viewer.annotation.model.classes import PALETTE
from frcnn_viewer.annotation.model.files import open_annotation_sources
from frcnn_viewer.annotation.model.mode import AnnotationModel, Mode, UnsavedChoice, parse_enum
from frcnn_viewer.annotation.model.pixels import PixelMapping
from frcnn_viewer.state import document as document_module
from frcnn_viewer.state.document import Change, Document
from frcnn_viewer.state.models import ModelInfo, untrained_config
from frcnn_viewer.state.sources import entries_of, load_image, open_sources

from .conftest import BOXES

H, W = 120, 160


def annotating(*specs) -> tuple[Document, AnnotationModel]:
    """A document on ``specs`` opened as the annotation mode opens them, its first image shown,
    and the model in annotation mode following it as the controller makes it (saving unsaved
    changes before the image changes)."""
    doc = Document()
    sources, problems = open_annotation_sources([str(s) for s in specs])
    assert not problems
    doc.add_sources(sources)
    model = AnnotationModel(doc)
    doc.changed.connect(lambda aspects: Change.IMAGE in aspects and model.active and model.follow_image(lambda: model.save() is not None))
    doc.set_index(0)
    assert model.set_mode("annotate") and model.active
    return doc, model


def add(model: AnnotationModel, box) -> None:
    """What ``AddBox`` does: append ``box`` and select it."""
    model.session.insert(len(model.session.boxes), box)
    model.session.select(len(model.session.boxes) - 1)


# ----- display <-> file pixels ---------------------------------------------------------------
def test_pixel_mapping_inverts_the_documents_own_downscaling(coco_file):
    """``load_image`` reduces a large file and scales its GT; the mapping undoes exactly that."""
    (source,), _ = open_sources([str(coco_file)])
    image = load_image(entries_of(source)[0], max_side=80)
    assert image.size == (60, 80)
    mapping = PixelMapping.of(image)
    assert mapping.scale == (0.5, 0.5) and mapping.file_size == (H, W)
    np.testing.assert_allclose(mapping.to_file(image.gt_boxes), BOXES, atol=1e-4)
    np.testing.assert_allclose(mapping.to_display(BOXES), image.gt_boxes, atol=1e-4)
    assert mapping.file_box((-3.0, 10.0, 90.0, 70.0)) == (0.0, 20.0, float(W), float(H))  # clipped to the file
    assert mapping.file_length(1.0) == 2.0


def test_boxes_are_kept_in_file_pixels_and_the_document_gt_in_displayed_pixels(folder, monkeypatch):
    monkeypatch.setattr(document_module, "load_image", functools.partial(load_image, max_side=80))  # shown at half size
    doc, model = annotating(folder)
    assert doc.image.size == (60, 80) and model.session.size == (H, W)
    drawn = model.drawn_box((10.0, 8.0, 38.0, 36.0))
    assert drawn.box == tuple(BOXES[0]) and drawn.label == "object"  # the class of a box drawn with an empty list
    assert doc.class_names == ("object",)
    add(model, drawn)
    np.testing.assert_allclose(doc.image.gt_boxes, [[10, 8, 38, 36]])  # the anchors see the displayed box
    assert doc.image.gt_names == ["object"] and doc.anchor_state.gt_boxes.shape == (1, 4)
    np.testing.assert_allclose(model.displayed_boxes(), [[10, 8, 38, 36]])
    moved = model.moved_box(0, (20.0, 8.0, 48.0, 36.0))
    assert moved.box == (40.0, 16.0, 96.0, 72.0)
    path = model.save()
    assert path == folder / "im0.xml"
    saved = read_voc_xml(path)
    assert (saved.width, saved.height) == (W, H) and saved.boxes[0].box == tuple(BOXES[0])


# ----- saved or not ----------------------------------------------------------------------------
def test_dirty_compares_with_the_file_so_undoing_back_to_it_is_clean(folder):
    doc, model = annotating(folder)
    assert not model.dirty and model.file_status() == (f"{folder / 'im0.xml'} (no file yet)", False)
    add(model, model.drawn_box(BOXES[0]))
    assert model.dirty and "unsaved changes" in model.file_status()[0]
    model.session.remove(0)  # what undoing the draw does
    assert not model.dirty
    model.session.set_verified(True)
    assert model.dirty
    model.save()
    assert not model.dirty and model.file_status()[0].endswith("(saved)")
    model.session.set_verified(False)
    model.session.mark_clean()  # the user discarded the change
    assert not model.dirty and read_voc_xml(folder / "im0.xml").verified


def test_leaving_an_image_with_unsaved_changes_asks_first_and_can_go_back(folder):
    doc = Document()
    doc.add_sources(open_annotation_sources([str(folder)])[0])
    model = AnnotationModel(doc)
    answers = []
    doc.changed.connect(lambda aspects: Change.IMAGE in aspects and model.active and model.follow_image(lambda: answers.pop(0)))
    doc.set_index(0)
    model.set_mode(Mode.ANNOTATE)
    add(model, model.drawn_box(BOXES[0]))
    answers.append(False)  # cancelled: the document goes back to the image with the edits
    doc.set_index(1)
    assert doc.index == 0 and model.index == 0 and len(model.session.boxes) == 1 and not answers
    doc.set_index(0)  # the same image shown again keeps its edits without asking
    assert len(model.session.boxes) == 1 and len(doc.image.gt_boxes) == 1
    answers.append(True)
    doc.set_index(1)
    assert model.index == 1 and model.session.image_path == folder / "im1.png" and not model.session.boxes and not model.dirty


# ----- one class list --------------------------------------------------------------------------
def test_a_class_added_while_annotating_is_the_documents_and_labels_the_traced_target(folder):
    doc, model = annotating(folder)
    aspects_seen = []
    doc.changed.connect(aspects_seen.append)
    # the window rebuilds the untrained model when the classes change; do the same here
    doc.changed.connect(lambda aspects: Change.CLASSES in aspects and doc.set_model(ModelInfo(untrained_config(doc.class_names))))
    doc.set_model(ModelInfo(untrained_config(doc.class_names)))
    assert doc.class_names == () and doc.model.config.class_names == ("object",)
    model.classes.set_default("cat")
    model.classes.set_default("dog")
    add(model, model.drawn_box(BOXES[1]))
    assert doc.class_names == ("cat", "dog") and frozenset({Change.CLASSES}) in aspects_seen
    assert doc.model.config.class_names == ("cat", "dog")
    target = doc.trace_request().target
    assert target["labels"].tolist() == [2]  # dog, not dropped as an unknown class
    np.testing.assert_allclose(target["boxes"].numpy(), [BOXES[1]])

    colour = model.classes.colour("dog")
    model.classes.rename("dog", "hound")  # renamed in place: same number key and colour
    assert doc.class_names == ("cat", "hound") and model.classes.colour("hound") == colour == PALETTE[1]
    model.classes.remove("cat")
    assert doc.class_names == ("hound",) and model.classes.default == "hound"


def test_the_class_list_announces_classes_a_dataset_brought_once(folder, coco_file):
    doc, model = annotating(folder)
    changes = []
    model.classes.changed.connect(lambda: changes.append(1))
    doc.add_sources(open_sources([str(coco_file)])[0])  # the document learns red and blue by itself
    model.classes.refresh()
    model.classes.refresh()
    assert model.classes.names == ["red", "blue"] and len(changes) == 1
    assert model.classes.by_number(2) == "blue" and model.classes.colour("blue") == PALETTE[1]
    assert model.classes.colour("unlisted") == (180, 180, 180)


def test_a_dataset_image_without_a_file_starts_from_its_gt(coco_file):
    doc, model = annotating(coco_file)
    assert [b.label for b in model.session.boxes] == ["red", "blue"] and not model.dirty
    np.testing.assert_allclose([b.box for b in model.session.boxes], BOXES)
    assert model.classes.names == ["red", "blue"]


# ----- edits stay inside the image ---------------------------------------------------------------
def test_edited_boxes_stay_inside_the_image(folder):
    doc, model = annotating(folder)
    add(model, model.drawn_box((140.0, 100.0, 160.0, 120.0)))  # in the bottom-right corner
    assert model.duplicate_box(0).box == (130.0, 90.0, 150.0, 110.0)  # shifted up-left instead
    assert model.nudged_box(0, 1.0, 0.0) is None  # at the border: cannot move right
    assert model.nudged_box(0, -10.0, 0.0).box == (130.0, 100.0, 150.0, 120.0)
    typed = model.typed_box(BoxAnnotation("bird", (150.0, 110.0, 200.0, 90.0)), 1.0)
    assert typed.box == (150.0, 90.0, 160.0, 110.0) and "bird" in doc.class_names  # ordered, clipped, class listed
    assert model.typed_box(BoxAnnotation("bird", (170.0, 0.0, 200.0, 20.0)), 1.0) is None
    assert doc.messages[-1].level == "warning" and "no area" in doc.messages[-1].text


# ----- files of the whole folder ------------------------------------------------------------------
def test_verified_files_are_read_once_per_version_and_filter_the_list(folder, monkeypatch):
    doc, model = annotating(folder)
    model.session.set_verified(True)
    assert model.entry_verified(0)  # the session's own mark, not saved yet
    assert model.image_rows(unverified_only=True) == [(1, "im1.png", False)]
    doc.set_index(1)  # saves im0 (the fixture's answer), verified
    reads = []
    real = annotation_files.is_verified
    monkeypatch.setattr(annotation_files, "is_verified", lambda xml: reads.append(xml) or real(xml))
    assert model.image_rows(unverified_only=False) == [(0, "im0.png", True), (1, "im1.png", False)]
    assert model.image_rows(unverified_only=True) == [(1, "im1.png", False)]
    assert reads == [folder / "im0.xml"]  # once, though listed twice
    xml = folder / "im0.xml"
    xml.write_text(xml.read_text().replace(' verified="yes"', ""))
    stamp = xml.stat().st_mtime_ns + 10**9
    os.utime(xml, ns=(stamp, stamp))  # a new version of the file is read again
    assert not model.entry_verified(0) and len(reads) == 2


def test_stepping_skips_verified_images_when_asked(folder):
    doc, model = annotating(folder)
    model.session.set_verified(True)
    model.save()
    doc.set_index(1)
    assert not model.step(-1, unverified_only=True) and doc.index == 1
    assert model.step(-1, unverified_only=False) and doc.index == 0


def test_an_unreadable_file_is_reported_and_never_written(folder):
    bad = folder / "im0.xml"
    bad.write_text("<annotation><filename>im0.png</filename>")
    original = bad.read_bytes()
    doc, model = annotating(folder)
    assert not model.session.editable and doc.messages[-1].level == "error" and str(bad) in doc.messages[-1].text
    assert model.file_status()[1] and model.displayed_boxes().shape == (0, 4)
    assert model.save() is None and bad.read_bytes() == original


def test_open_annotation_sources_lists_every_image_of_a_labelled_folder(folder):
    doc, model = annotating(folder)
    model.save()  # im0 has a file now, im1 none: a labelImg folder
    (labelled,), _ = open_sources([str(folder)])
    (every,), _ = open_annotation_sources([str(folder)])
    assert len(labelled.dataset) == 1 and len(every.dataset) == 2 and every.annotated


def test_exporting_nothing_annotated_says_so(folder, tmp_path):
    doc, model = annotating(folder)
    assert not model.export_coco(tmp_path / "set.json")
    assert doc.messages[-1].level == "error" and "no image has a readable annotation file" in doc.messages[-1].text
    add(model, model.drawn_box(BOXES[0]))
    model.save()
    assert model.export_coco(tmp_path / "set.json") and (tmp_path / "set.json").exists()


def test_modes_and_choices_are_checked_by_name():
    model = AnnotationModel(Document())
    with pytest.raises(ValueError, match="'inspect', 'annotate'"):
        model.set_mode("draw")
    assert not model.set_mode("inspect") and model.set_mode(Mode.ANNOTATE) and model.mode is Mode.ANNOTATE
    assert model.active and model.session.image_path is None  # nothing shown: nothing opened
    assert parse_enum(UnsavedChoice, "discard") is UnsavedChoice.DISCARD


def test_the_set_exports_as_a_yolo_dataset_cvat_xml_and_labelme_json_that_read_back_exactly(folder, tmp_path):
    from frcnn_core.data import open_dataset

    doc, model = annotating(folder)
    add(model, model.drawn_box(BOXES[0]))
    model.save()
    saved = {box.label: box.box for box in model.session.annotation.boxes}
    # CVAT's XML names the images, found beside it; labelme's JSON names them relative to itself
    assert model.export_yolo_dataset(tmp_path / "yolo") and model.export_cvat(folder / "set.xml") and model.export_labelme(tmp_path / "labelme")
    for spec, tolerance in ((tmp_path / "yolo" / "data.yaml", 1e-3), (folder / "set.xml", 1e-4), (tmp_path / "labelme", 1e-4)):
        dataset = open_dataset(spec, split="train") if spec.suffix != ".xml" else open_dataset(spec)
        annotated = [i for i in range(len(dataset)) if len(dataset.info(i)["target"]["boxes"])]
        assert len(annotated) == 1, spec
        target = dataset.info(annotated[0])["target"]
        (name,) = saved
        assert dataset.class_names[int(target["labels"][0]) - 1] == name
        assert target["boxes"][0].tolist() == pytest.approx(list(saved[name]), abs=tolerance), spec

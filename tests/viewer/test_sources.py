"""frcnn_viewer.state.sources: what the user opens becomes frcnn_core.data datasets and display images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from frcnn_viewer.state.sources import ImageLoadError, entries_of, load_image, open_sources, sample_specs

from .conftest import BOXES, CLASSES, draw_image


def only_entry(specs):
    sources, problems = open_sources(specs)
    assert len(sources) == 1, problems
    return entries_of(sources[0]), problems


def test_loose_files_and_folders_become_one_unlabelled_source(tmp_path, image_file):
    folder = tmp_path / "folder"
    folder.mkdir()
    Image.fromarray(draw_image(seed=3)).save(folder / "b.jpg")
    entries, problems = only_entry([image_file, folder])
    assert [e.name for e in entries] == ["plain.png", "b.jpg"] and problems == []
    image = load_image(entries[1])
    assert not image.annotated and image.pixels.shape == (120, 160, 3) and image.pixels.flags["C_CONTIGUOUS"]
    assert image.tensor.shape == (3, 120, 160) and float(image.tensor.max()) <= 1.0


def test_coco_keeps_ids_classes_and_boxes(coco_file):
    entries, _ = only_entry([coco_file])
    assert entries[0].source.class_names == CLASSES and entries[0].info()["image_id"] == 100
    image = load_image(entries[0])
    np.testing.assert_allclose(image.gt_boxes, BOXES)
    assert image.gt_names == list(CLASSES)


def test_voc_directory_with_difficult_objects(voc_dir):
    entries, _ = only_entry([voc_dir])
    image = load_image(entries[0])
    assert image.gt_names == list(CLASSES) and image.difficult.tolist() == [False, True]
    np.testing.assert_allclose(image.gt_boxes, BOXES, atol=1.0)


def test_generated_sample_set_and_photos():
    sources, problems = open_sources(sample_specs())
    assert problems == [] and sources[0].class_names == ("circle", "square", "triangle", "cross")
    image = load_image(entries_of(sources[0])[0])
    assert image.annotated and len(image.gt_boxes) >= 1 and image.pixels.dtype == np.uint8
    if len(sources) > 1:  # the bundled photos
        assert not sources[1].annotated and len(sources[1].dataset) >= 1


def test_problems_are_messages_not_exceptions(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    sources, problems = open_sources([tmp_path / "missing.png", bad])
    assert sources == []
    assert any("missing.png: no such file" in p for p in problems) and any("bad.json" in p for p in problems)


def test_oversized_images_are_refused_before_decoding(image_file):
    entries, _ = only_entry([image_file])
    with pytest.raises(ImageLoadError, match=r"160x120 pixels \(0 MP\) is larger"):
        load_image(entries[0], max_pixels=1000)
    reduced = load_image(entries[0], max_side=80)
    assert reduced.pixels.shape == (60, 80, 3) and reduced.display_scale == (0.5, 0.5)
    assert "downscaled to 80x60" in reduced.notes[0]

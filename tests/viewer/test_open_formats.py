"""The window opens what the CLI opens (YOLO, CVAT, labelme, videos), off the GUI thread.

Each set is written by hand in its tool's own layout and opened through
``MainWindow.open_paths``; the shown image's GT must be the conftest boxes, as
``frcnn_core.data.open_dataset`` reads them.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PIL import Image

from frcnn_core.data import open_dataset
from frcnn_core.data.loading import SpecKind, spec_kind
from frcnn_viewer.state.image_list import Column

from .conftest import BOXES, CLASSES, draw_image

FRAMES = 6


def _yolo_line(label: int, box) -> str:
    """A YOLO label line: class index, then centre and size as fractions of 160x120."""
    x1, y1, x2, y2 = box
    return f"{label} {(x1 + x2) / 320:.6f} {(y1 + y2) / 240:.6f} {(x2 - x1) / 160:.6f} {(y2 - y1) / 120:.6f}"


@pytest.fixture
def yolo_yaml(tmp_path):
    """An Ultralytics set: data.yaml, images/{train,val}, labels/{train,val}; the val image has no boxes."""
    root = tmp_path / "yolo"
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
    Image.fromarray(draw_image()).save(root / "images" / "train" / "a.png")
    Image.fromarray(draw_image(seed=1)).save(root / "images" / "val" / "b.JPG", quality=95)
    (root / "labels" / "train" / "a.txt").write_text("\n".join(_yolo_line(k, box) for k, box in enumerate(BOXES)) + "\n")
    (root / "labels" / "val" / "b.txt").write_text("")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames:\n  0: red\n  1: blue\n")
    return root / "data.yaml"


@pytest.fixture
def cvat_xml(tmp_path):
    """A CVAT for images 1.1 export with float coordinates and an image without boxes."""
    folder = tmp_path / "cvat"
    (folder / "images").mkdir(parents=True)
    Image.fromarray(draw_image()).save(folder / "images" / "a.png")
    Image.fromarray(draw_image(seed=1)).save(folder / "images" / "b.png")
    boxes = "".join(
        f'<box label="{CLASSES[k]}" source="manual" occluded="0" xtl="{b[0]:.2f}" ytl="{b[1]:.2f}" xbr="{b[2]:.2f}" ybr="{b[3]:.2f}" z_order="0"/>'
        for k, b in enumerate(BOXES)
    )
    labels = "".join(f"<label><name>{name}</name><type>rectangle</type><attributes/></label>" for name in CLASSES)
    (folder / "annotations.xml").write_text(
        f'<?xml version="1.0" encoding="utf-8"?><annotations><version>1.1</version><meta><task><labels>{labels}</labels></task></meta>'
        f'<image id="0" name="a.png" width="160" height="120">{boxes}</image>'
        f'<image id="1" name="b.png" width="160" height="120"></image></annotations>'
    )
    return folder / "annotations.xml"


@pytest.fixture
def labelme_folder(tmp_path):
    """A labelme folder: a.json beside a.png (rectangles), b.json with a polygon."""
    folder = tmp_path / "labelme"
    folder.mkdir()
    Image.fromarray(draw_image()).save(folder / "a.png")
    Image.fromarray(draw_image(seed=1)).save(folder / "b.png")

    def shape(label, points, kind="rectangle"):
        return {"label": label, "points": points, "group_id": None, "description": "", "shape_type": kind, "flags": {}}

    def document(name, shapes):
        return {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": name, "imageData": None, "imageHeight": 120, "imageWidth": 160}

    rectangles = [shape(CLASSES[k], [[b[2], b[3]], [b[0], b[1]]]) for k, b in enumerate(BOXES)]  # dragged from the far corner
    (folder / "a.json").write_text(json.dumps(document("a.png", rectangles)))
    (folder / "b.json").write_text(json.dumps(document("b.png", [shape("red", [[10, 10], [40, 12], [30, 50]], "polygon")])))
    return folder


@pytest.fixture
def video(tmp_path):
    """An MJPG .avi of FRAMES 64x48 frames whose grey level grows with the frame index."""
    cv2 = pytest.importorskip("cv2")
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    assert writer.isOpened()
    for k in range(FRAMES):
        writer.write(np.full((48, 64, 3), 20 + 40 * k, np.uint8))
    writer.release()
    return path


def _opened_like_the_core(window, path, kind: SpecKind, names: list[str]) -> None:
    """``path`` is ``kind`` to the core, opens in the window with these image names, and the
    first image's GT is the conftest boxes, as ``open_dataset`` reads them."""
    assert spec_kind(path) is kind
    assert window.open_paths([path]) == len(names)
    doc = window.document
    assert [e.name for e in doc.entries] == names and set(doc.class_names) == set(CLASSES)
    assert doc.index == 0 and doc.image.annotated
    core = open_dataset(path, split="trainval").info(0)["target"]
    np.testing.assert_allclose(doc.image.gt_boxes, core["boxes"].numpy(), atol=1e-4)
    np.testing.assert_allclose(doc.image.gt_boxes, BOXES, atol=0.01)
    assert sorted(doc.image.gt_names) == sorted(CLASSES)
    state = window.image_list.state
    assert [state.value(row, Column.GT) for row in range(len(state))] == [2] + [None if kind is SpecKind.VIDEO else _second_gt(path)]
    assert not [m for m in doc.messages if m.level == "error"]


def _second_gt(path) -> int:
    return len(open_dataset(path, split="trainval").info(1)["target"]["labels"])


def test_yolo_data_yaml_and_tree_open_in_the_window(window, yolo_yaml):
    _opened_like_the_core(window, yolo_yaml, SpecKind.YOLO, ["a.png", "b.JPG"])
    assert window.open_paths([yolo_yaml.parent]) == 2  # the folder with data.yaml: the same set again


def test_cvat_xml_opens_in_the_window(window, cvat_xml):
    _opened_like_the_core(window, cvat_xml, SpecKind.CVAT, ["a.png", "b.png"])


def test_labelme_folder_opens_in_the_window_polygons_as_boxes(window, labelme_folder):
    _opened_like_the_core(window, labelme_folder, SpecKind.LABELME, ["a.png", "b.png"])
    window.show_image(1)
    np.testing.assert_allclose(window.document.image.gt_boxes, [[10, 10, 40, 50]])


def test_a_video_opens_as_its_frames_step_and_scrub(window, video):
    assert spec_kind(video) is SpecKind.VIDEO
    assert window.open_paths([video]) == FRAMES
    doc = window.document
    assert [e.name for e in doc.entries] == [f"clip.avi #{k}" for k in range(FRAMES)]
    assert doc.entries[0].info()["path"] == "" and not doc.image.annotated and doc.image.size == (48, 64)
    levels = [int(np.median(doc.image.pixels))]
    while window.next_image():
        levels.append(int(np.median(doc.image.pixels)))
    assert len(levels) == FRAMES and np.all(np.abs(np.array(levels) - (20 + 40 * np.arange(FRAMES))) <= 6)
    assert window.show_image(2) and abs(int(np.median(doc.image.pixels)) - 100) <= 6  # scrub back: an exact seek
    window.wait_until_idle()
    assert doc.trace is not None  # the model ran on the frame


def test_opening_runs_off_the_gui_thread_with_progress(window, coco_file, monkeypatch):
    import frcnn_viewer.state.sources as sources

    threads, progress = [], []
    real_open = sources.open_dataset

    def watched_open(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_open(*args, **kwargs)

    monkeypatch.setattr(sources, "open_dataset", watched_open)
    window.opening.progress.connect(lambda what, done, total: progress.append((what, done, total)))
    assert window.open_paths([coco_file], wait=False) == 0
    assert window.busy and window.document.entries == []  # nothing opened on this thread yet
    assert window.wait_until_idle(30_000)
    assert len(window.document.entries) == 2 and threads and threads[0] is not threading.main_thread()
    assert any(what.startswith("opening") for what, _, _ in progress)
    assert any(what.startswith("listing") for what, _, _ in progress)


def test_bad_paths_are_reported_after_opening(window, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    assert window.open_paths([tmp_path / "missing", text]) == 0
    warnings = " ".join(m.text for m in window.document.messages if m.level == "warning")
    assert "missing: no such file or folder" in warnings and "notes.txt" in warnings

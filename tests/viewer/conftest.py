"""Fixtures for the viewer tests: offscreen Qt, scratch settings, small images and datasets.

``QT_QPA_PLATFORM`` is set before anything imports Qt, so the tests run without a display.
"""

from __future__ import annotations

import json
import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

# Qt's words when an object is used from a thread it does not live in (timers, parents, sockets...)
QT_THREAD_WARNING = re.compile(r"another thread|different thread|thread other than|cross-thread", re.IGNORECASE)


@pytest.hookimpl(wrapper=True, trylast=True)  # inside pytest-qt's wrapper, which drops the capture
def pytest_runtest_makereport(item, call):
    """Fail a viewer test during which Qt warned that one of its objects was used from the wrong
    thread (e.g. ``QObject::killTimer: Timers cannot be stopped from another thread``)."""
    report = yield
    capture = getattr(item, "qt_log_capture", None)  # pytest-qt's record of the test's Qt messages
    if call.when == "call" and capture is not None and report.passed:
        wrong = [record.message for record in capture.records if QT_THREAD_WARNING.search(record.message)]
        if wrong:
            report.outcome = "failed"
            report.longrepr = "Qt objects used from another thread:\n" + "\n".join(wrong)
    return report


# Two classes on a 160x120 image: a red square and a blue bar (xyxy pixels).
CLASSES = ("red", "blue")
BOXES = [[20.0, 16.0, 76.0, 72.0], [90.0, 40.0, 150.0, 100.0]]
LABELS = [1, 2]


def draw_image(width: int = 160, height: int = 120, seed: int = 0) -> np.ndarray:
    """An RGB uint8 image with the two objects of :data:`BOXES` on a noisy grey background."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(70, 110, size=(height, width, 3), dtype=np.uint8)
    x1, y1, x2, y2 = (int(v) for v in BOXES[0])
    pixels[y1:y2, x1:x2] = (220, 30, 30)
    x1, y1, x2, y2 = (int(v) for v in BOXES[1])
    pixels[y1:y2, x1:x2] = (30, 30, 220)
    return pixels


@pytest.fixture
def settings(tmp_path):
    """A scratch QSettings file, so no test touches the user's settings."""
    from PySide6 import QtCore

    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    """The real main window, shown offscreen, with the untrained model ready."""
    from frcnn_viewer import MainWindow

    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    win.resize(1100, 800)  # after show, which keeps a window within the (800x800 offscreen) screen
    assert win.wait_until_idle(60_000)
    yield win
    win.close()


@pytest.fixture
def image_file(tmp_path):
    """A plain (unannotated) RGB PNG."""
    path = tmp_path / "plain.png"
    Image.fromarray(draw_image()).save(path)
    return path


@pytest.fixture
def coco_file(tmp_path):
    """A COCO JSON file with two annotated 160x120 images (category ids 7 and 9)."""
    folder = tmp_path / "coco"
    folder.mkdir()
    images, annotations = [], []
    for k in range(2):
        name = f"img{k}.png"
        Image.fromarray(draw_image(seed=k)).save(folder / name)
        images.append({"id": 100 + k, "file_name": name, "width": 160, "height": 120})
        for j, (box, label) in enumerate(zip(BOXES, LABELS)):
            x1, y1, x2, y2 = box
            annotations.append({"id": 10 * k + j + 1, "image_id": 100 + k, "category_id": (7, 9)[label - 1],
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    categories = [{"id": 7, "name": "red"}, {"id": 9, "name": "blue"}]
    path = folder / "annotations.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


VOC_OBJECT = """<object><name>{name}</name><difficult>{difficult}</difficult>
<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"""


@pytest.fixture
def voc_dir(tmp_path):
    """A VOC directory (Annotations/, JPEGImages/, ImageSets/Main/trainval.txt) of one image;
    its blue box is marked difficult."""
    root = tmp_path / "voc"
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / sub).mkdir(parents=True)
    Image.fromarray(draw_image()).save(root / "JPEGImages" / "a.png")
    objects = "".join(
        VOC_OBJECT.format(name=CLASSES[label - 1], difficult=int(label == 2), x1=int(b[0]) + 1, y1=int(b[1]) + 1, x2=int(b[2]), y2=int(b[3]))
        for b, label in zip(BOXES, LABELS)
    )
    (root / "Annotations" / "a.xml").write_text(
        f"<annotation><filename>a.png</filename><size><width>160</width><height>120</height><depth>3</depth></size>{objects}</annotation>"
    )
    (root / "ImageSets" / "Main" / "trainval.txt").write_text("a\n")
    return root


@pytest.fixture
def folder(tmp_path):
    """Two unannotated 160x120 images."""
    path = tmp_path / "images"
    path.mkdir()
    for k in range(2):
        Image.fromarray(draw_image(seed=k)).save(path / f"im{k}.png")
    return path

"""Workspaces: each fits a laptop screen without widgets drawn over each other, keeps its own
arrangement, and drives the annotation mode; the window opens within the screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from PySide6 import QtCore, QtWidgets

from frcnn_viewer import MainWindow
from frcnn_viewer.workspaces import RIGHT, DockId, DockPlace, Workspace, fit_to_screen

SCREENS = [(1366, 768), (1920, 1080)]


def visible_children(widget: QtWidgets.QWidget) -> list[QtWidgets.QWidget]:
    """Children drawn inside ``widget``: visible, not windows, not parked outside it (Qt moves the
    docks of hidden tabs and its spare tab bars out of the window instead of hiding them)."""
    inside = widget.rect()
    return [c for c in widget.children()
            if isinstance(c, QtWidgets.QWidget) and c.isVisible() and not c.isWindow() and inside.intersects(c.geometry())]


def layout_problems(root: QtWidgets.QWidget) -> list[str]:
    """Visible siblings that overlap, and children that stick out of their parent (squeezed below
    their minimum size), anywhere under ``root``; the contents of scroll areas may stick out."""
    problems, stack = [], [root]
    while stack:
        parent = stack.pop()
        children = visible_children(parent)
        stack += children
        scrolled = isinstance(parent.parent(), QtWidgets.QAbstractScrollArea)
        for i, child in enumerate(children):
            rect = child.geometry()
            if not scrolled and not parent.rect().contains(rect):
                problems.append(f"{describe(child)} {rect.getRect()} sticks out of {describe(parent)} {parent.rect().getRect()}")
            for other in children[i + 1:]:
                if rect.intersects(other.geometry()):
                    problems.append(f"{describe(child)} {rect.getRect()} overlaps {describe(other)} {other.geometry().getRect()} in {describe(parent)}")
    return problems


def describe(widget: QtWidgets.QWidget) -> str:
    name = widget.objectName()
    text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
    return f"{type(widget).__name__}({name or text!r})"


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_workspace_fits_the_screen_without_overlapping_widgets(window, coco_file, screen):
    window.open_paths([coco_file])
    margins = window.frameGeometry().size() - window.geometry().size()
    for workspace in window.workspaces.offered():
        window.workspaces.show(workspace)
        window.resize(QtCore.QSize(*screen) - margins)
        QtWidgets.QApplication.processEvents()
        assert window.frameGeometry().size().toTuple() == screen, f"{workspace}: the docks' minimum sizes do not fit"
        assert layout_problems(window) == [], workspace
        assert window.canvas.height() >= 300 and window.canvas.width() >= 500, workspace


def test_each_workspace_shows_its_docks(window):
    shown = {}
    for workspace in Workspace:
        window.workspaces.show(workspace)
        QtWidgets.QApplication.processEvents()
        shown[workspace] = {name for name, dock in window.workspaces.docks().items() if dock.isVisible()}
    assert {DockId.IMAGES, DockId.PARAMETERS, DockId.LAYERS} <= shown[Workspace.INSPECT]
    assert not shown[Workspace.INSPECT] & {DockId.TRAINING, DockId.ANNOTATE}
    assert DockId.ANNOTATE in shown[Workspace.ANNOTATE] and DockId.PARAMETERS not in shown[Workspace.ANNOTATE]
    assert DockId.TRAINING in shown[Workspace.TRAIN] and DockId.ANNOTATE not in shown[Workspace.TRAIN]
    assert {DockId.DIAGNOSIS, DockId.CURVES} <= shown[Workspace.DIAGNOSE] and DockId.TRAINING not in shown[Workspace.DIAGNOSE]
    assert window.workspaces.offered() == list(Workspace)


def test_docks_are_found_by_their_id_not_their_title(window):
    assert set(window.docks) == set(DockId)
    for dock_id, dock in window.docks.items():
        assert dock.windowTitle() == dock_id.title and dock.objectName() == f"dock_{dock_id.value}"
        assert window.docks[dock_id.value] is dock  # a script may name it by string
    with pytest.raises(KeyError, match="unknown name 'nope'; known: images, parameters"):
        window.docks["nope"]
    window.docks[DockId.DIAGNOSIS].setWindowTitle("Why missed")  # a retitled dock stays where it belongs
    window.workspaces.show(Workspace.DIAGNOSE)
    assert window.docks[DockId.DIAGNOSIS].isVisible()


def test_annotate_workspace_is_annotation_mode_both_ways(window):
    window.workspaces.show(Workspace.ANNOTATE)
    assert window.annotation.model.annotating and window.annotation.actions.mode_action.isChecked()
    window.workspaces.show(Workspace.TRAIN)
    assert not window.annotation.model.annotating
    window.set_mode("annotate")  # the mode switch (Ctrl+M) takes the window to its workspace
    assert window.workspaces.current is Workspace.ANNOTATE
    window.annotation.actions.mode_action.toggle()
    assert window.workspaces.current is Workspace.INSPECT and not window.annotation.model.annotating


def test_each_workspace_remembers_its_arrangement_across_runs(qtbot, window, settings):
    window.workspaces.show(Workspace.TRAIN)
    window.docks["layers"].hide()
    window.workspaces.show(Workspace.INSPECT)
    assert window.docks["layers"].isVisible()  # hidden in Train only
    window.workspaces.show(Workspace.TRAIN)
    assert not window.docks["layers"].isVisible() and window.docks["training"].isVisible()
    window.close()
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    again.show()
    assert again.workspaces.current is Workspace.INSPECT and again.docks["layers"].isVisible()
    again.workspaces.show(Workspace.TRAIN)
    assert not again.docks["layers"].isVisible() and again.docks["training"].isVisible()
    again.workspaces.reset()  # back to the default
    assert again.docks["layers"].isVisible()
    again.close()


def test_a_dock_joins_a_workspace_by_its_id(window):
    dock = window.docks[DockId.CURVES]
    window.workspaces.show(Workspace.INSPECT)
    assert not dock.isVisible()
    window.workspaces.add_dock(Workspace.INSPECT, DockPlace(DockId.CURVES, RIGHT, width=300))
    assert dock.isVisible() and window.docks[DockId.PARAMETERS].isVisible()
    window.workspaces.show(Workspace.TRAIN)
    assert not dock.isVisible()


def test_fit_to_screen_shrinks_and_centres():
    available = QtCore.QRect(0, 30, 1366, 738)
    rect = fit_to_screen(QtCore.QSize(1400, 900), available)
    assert rect.size().toTuple() == (1366, 738) and available.contains(rect)
    small = fit_to_screen(QtCore.QSize(800, 600), available)
    assert small.size().toTuple() == (800, 600) and small.center() == available.center()


WINDOW_ON_SCREEN = """
import json, sys
from PySide6 import QtCore, QtWidgets
from frcnn_viewer import MainWindow
app = QtWidgets.QApplication([])
settings = QtCore.QSettings(sys.argv[1], QtCore.QSettings.Format.IniFormat)
window = MainWindow(settings=settings)
window.show()
app.processEvents()
print(json.dumps({"frame": window.frameGeometry().getRect(), "available": window.screen().availableGeometry().getRect()}))
window.close()
"""


@pytest.mark.slow
def test_window_opens_within_a_laptop_screen(tmp_path):
    """A real start on a 1366x768 screen (offscreen, its screen set by a config file), once with
    a remembered geometry from a larger monitor."""
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screen}", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    settings = tmp_path / "settings.ini"
    for _run in range(2):  # the second start restores the geometry the first one saved
        out = subprocess.run([sys.executable, "-c", WINDOW_ON_SCREEN, str(settings)], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert QtCore.QRect(*result["available"]).contains(QtCore.QRect(*result["frame"])), result


def test_screenshot_has_the_size_asked_for(qtbot, tmp_path, image_file):
    from frcnn_viewer.app import main as viewer_main

    out = tmp_path / "window.png"
    assert viewer_main(["--screenshot", str(out), "--window", "--size", "1400x900", str(image_file)]) == 0
    assert Image.open(out).size == (1400, 900)


def test_the_banner_trains_a_quick_model_on_the_open_images_in_the_train_workspace(window, coco_file, tmp_path):
    window.open_paths([coco_file])
    assert window.quick_train_button.isVisible()
    assert window.train_quick_model(iterations=2, image_size=64, batch_size=1, device="cpu", output_dir=str(tmp_path))
    assert window.workspaces.current is Workspace.TRAIN and window.docks["training"].isVisible()
    info = window.training.session.info
    assert info.data == str(coco_file) and info.train.checkpoint_every == 100 and info.class_names == ("red", "blue")
    window.stop_training()
    assert (tmp_path / "last.pt").is_file()

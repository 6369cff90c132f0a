"""``frcnn-viewer``: the command line, and ``--screenshot`` offscreen."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from frcnn_viewer.app import build_parser, main

from .conftest import BOXES


def test_screenshot_in_process_with_layers_and_options(qtbot, tmp_path, coco_file):
    out = tmp_path / "shot.png"
    code = main(["--screenshot", str(out), "--layers", "ground_truth,anchors", "--set", 'anchors.subset="cell"',
                 "--click", "100,60", "--size", "800x600", str(coco_file)])
    assert code == 0
    with Image.open(out) as im:
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.shape[1] == 800 and pixels.shape[0] < 600  # the image view alone, below menus and toolbar
    gold = (np.abs(pixels.astype(int) - (255, 215, 0)).max(axis=2) <= 8).sum()
    assert gold > 2 * (BOXES[0][2] - BOXES[0][0])  # the GT outlines are there


def test_screenshot_reports_bad_arguments(qtbot, tmp_path, image_file, capsys):
    assert main(["--screenshot", str(tmp_path / "x.png"), "--layers", "ground_truth,boxes", str(image_file)]) == 2
    assert "unknown layer(s) boxes" in capsys.readouterr().err
    assert main(["--screenshot", str(tmp_path / "y.png"), str(tmp_path / "missing.png")]) == 1
    assert "no image could be opened" in capsys.readouterr().err


@pytest.mark.slow
def test_screenshot_as_a_separate_offscreen_process(tmp_path, image_file):
    out = tmp_path / "cli.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "frcnn_viewer", "--screenshot", str(out), "--window", "--layers", "anchors", str(image_file)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with Image.open(out) as im:
        assert im.width == 1400  # the window (its height may grow to fit the docks' minimum sizes)


def test_parser_documents_the_entry_point_options():
    args = build_parser().parse_args(["--screenshot", "o.png", "--layers", "a,b", "--checkpoint", "c.pt", "--arch", "fasterrcnn_resnet50_fpn", "img.png"])
    assert args.paths == ["img.png"] and args.layers == "a,b" and str(args.checkpoint) == "c.pt" and args.arch == "fasterrcnn_resnet50_fpn"


def test_warns_about_the_pyside_release_that_crashes_on_python_311(capsys):
    from frcnn_viewer.app import _warn_about_broken_pyside

    _warn_about_broken_pyside("6.11.3")
    assert capsys.readouterr().err == ""
    _warn_about_broken_pyside("6.12.0")
    assert ("6.12.0" in capsys.readouterr().err) == (sys.version_info < (3, 12))

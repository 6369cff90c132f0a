"""``frcnn-viewer``: start the viewer, or render one frame to a PNG with ``--screenshot``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from .state.layer_registry import LAYER_NAMES
from .workspaces import Workspace


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frcnn-viewer",
        description="See inside Faster R-CNN: anchors, their labels, proposals, RoI samples and detections on your images. "
        "With no PATH it opens the bundled sample set.",
    )
    parser.add_argument("paths", nargs="*", help="image files, folders, a COCO JSON file, a VOC directory, or 'shapes'")
    parser.add_argument("--checkpoint", type=Path, help="a checkpoint written by 'frcnn train', or a torchvision Faster R-CNN's "
                        "state_dict / reference train.py checkpoint (default: an untrained model)")
    parser.add_argument("--arch", help="the torchvision builder of --checkpoint (e.g. fasterrcnn_mobilenet_v3_large_320_fpn), when the file cannot tell")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png", help="render one frame into OUT.png and exit")
    parser.add_argument("--layers", help=f"comma-separated layers to show ({', '.join(LAYER_NAMES)}); the others are hidden")
    parser.add_argument("--set", action="append", default=[], metavar="LAYER.OPTION=VALUE",
                        help="set a layer option, e.g. anchors.subset=\"cell\" or detections.score_threshold=0.3 (JSON values)")
    parser.add_argument("--click", metavar="X,Y", help="click the image at pixel X,Y before rendering (pick a feature cell or a detection)")
    parser.add_argument("--image", type=int, default=0, help="index of the image to render with --screenshot (default 0)")
    parser.add_argument("--window", action="store_true", help="with --screenshot, capture the whole window instead of the image view")
    parser.add_argument("--size", default="1400x900", help="window size WIDTHxHEIGHT for --screenshot (default 1400x900)")
    parser.add_argument("--workspace", choices=[w.value for w in Workspace],
                        help="open in this workspace (default: inspect)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log diagnostics")
    return parser


def _apply_view_options(window, args) -> None:
    """--layers, --set and --click: raise ValueError with the offending value."""
    if args.layers is not None:
        wanted = [name.strip() for name in args.layers.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in LAYER_NAMES]
        if unknown:
            raise ValueError(f"unknown layer(s) {', '.join(unknown)}; layers are {', '.join(LAYER_NAMES)}")
        for name in LAYER_NAMES:
            window.set_layer_visible(name, name in wanted)
    for assignment in args.set:
        target, _, text = assignment.partition("=")
        layer, _, key = target.partition(".")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        try:
            window.set_layer_option(layer, key, value)
        except ValueError as exc:
            raise ValueError(f"--set {assignment}: {exc}") from None
    if args.click:
        x, y = (float(v) for v in args.click.split(","))
        window.document.click(x, y)


def _warn_about_broken_pyside(version: str) -> None:
    """PySide6 6.12.0 drops a reference to ``True`` on every signal delivered to Python; on
    Python < 3.12 (where ``True`` is not immortal) the process aborts after some thousand
    signals (mouse moves count). Say so instead of crashing without a word."""
    if version == "6.12.0" and sys.version_info < (3, 12):
        print(
            "frcnn-viewer: warning: PySide6 6.12.0 on Python < 3.12 crashes after a few thousand Qt signals "
            "(a reference-count bug); install another version, e.g. pip install 'PySide6-Essentials<6.12'",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import PySide6
    from PySide6 import QtCore, QtWidgets

    _warn_about_broken_pyside(PySide6.__version__)

    from .main_window import MainWindow
    from .state.sources import sample_specs

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("frcnn-viewer")
    scratch = None
    settings = None
    if args.screenshot:  # leave the user's remembered layout and layers alone
        scratch = tempfile.TemporaryDirectory()
        settings = QtCore.QSettings(str(Path(scratch.name) / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    if args.workspace is not None:
        try:
            window.workspaces.show(args.workspace)
        except ValueError as exc:
            print(f"frcnn-viewer: error: {exc}", file=sys.stderr)
            return 2
    wait = args.screenshot is not None  # interactively, the window shows at once and fills in
    try:
        if not wait:
            window.show()
        window.open_paths(args.paths or sample_specs(), wait=wait)
        if args.checkpoint is not None:
            window.load_checkpoint(args.checkpoint, wait=wait, arch=args.arch)
        if wait:
            return _screenshot(app, window, args)
        _apply_view_options(window, args)
        return app.exec()
    except ValueError as exc:
        print(f"frcnn-viewer: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.screenshot:
            window.close()
            scratch.cleanup()


def _screenshot(app, window, args) -> int:
    """Render the requested image and layers into ``args.screenshot``; 1 if it could not be made."""
    width, _, height = args.size.partition("x")
    if not args.window:  # the image view alone: let it fill the window
        for dock in window.docks.values():
            dock.hide()
    window.show()
    window.resize(int(width), int(height))  # after show: the size asked for, even beyond the screen
    if args.image and not window.show_image(args.image):
        print(f"frcnn-viewer: cannot show image {args.image}", file=sys.stderr)
    window.wait_until_idle()  # a click picks among the detections: they must be there
    _apply_view_options(window, args)
    window.wait_until_idle()
    app.processEvents()
    window.canvas.fit()
    app.processEvents()
    for message in window.document.messages:
        if message.level != "info":
            print(f"frcnn-viewer: {message.level}: {message.text}", file=sys.stderr)
    if window.document.image is None:
        print("frcnn-viewer: no image could be opened", file=sys.stderr)
        return 1
    widget = window if args.window else window.canvas
    if not widget.grab().save(str(args.screenshot), "PNG"):
        print(f"frcnn-viewer: could not write {args.screenshot}", file=sys.stderr)
        return 1
    print(f"wrote {args.screenshot}")
    return 0

"""The window the screenshot scripts draw: settings in a scratch folder (the user's stay
untouched), a fixed size, only the docks a picture needs."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets


def scratch_window(folder: str | Path, width: int, height: int, shown_docks: tuple[str, ...]):
    """A shown ``MainWindow`` of ``width`` x ``height`` whose settings live in ``folder``,
    with only the docks titled in ``shown_docks`` visible."""
    from frcnn_viewer.main_window import MainWindow

    settings = QtCore.QSettings(str(Path(folder) / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(width, height)
    for dock in window.findChildren(QtWidgets.QDockWidget):
        dock.setVisible(dock.windowTitle() in shown_docks)
    window.show()
    return window

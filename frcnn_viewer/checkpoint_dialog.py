"""File ▸ Load checkpoint: the file, and the architecture when the file cannot tell.

A torchvision Faster R-CNN file says which builder made it by its keys and shapes, except
MobileNetV3 at 800 px and at 320 px (same weights): *Automatic* lets
:func:`frcnn_core.load_checkpoint` decide (and say what it assumed), a builder name chooses.
"""

from __future__ import annotations

from PySide6 import QtWidgets

from frcnn_core.models.torchvision_frcnn import TorchvisionArch

CHECKPOINT_SUFFIXES = (".pt", ".pth")
CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth);;All files (*)"
AUTOMATIC = "Automatic (from the file)"



def architecture_box(object_name: str, tooltip: str) -> QtWidgets.QComboBox:
    """The choice of a torchvision file's architecture: automatic (data ``None``), or one of the builders."""
    box = QtWidgets.QComboBox()
    box.setObjectName(object_name)
    box.addItem(AUTOMATIC, None)
    for arch in TorchvisionArch:
        box.addItem(arch.value, arch.value)
    box.setToolTip(tooltip)
    return box

class CheckpointDialog(QtWidgets.QDialog):
    """A path (typed or browsed) and an *Architecture* choice: automatic or a torchvision builder."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Load a checkpoint")
        form = QtWidgets.QFormLayout(self)
        self.path_edit = QtWidgets.QLineEdit()
        self.path_edit.setPlaceholderText("ours (.pt) or a torchvision Faster R-CNN state_dict / train.py checkpoint (.pth)")
        self.path_edit.setMinimumWidth(420)
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("File", row)
        self.arch_box = architecture_box("architecture", "torchvision's builder of the file; automatic finds it from the file's keys "
                                         "and shapes (MobileNetV3 at 800 or 320 px cannot be told apart: it says which it assumed)")
        form.addRow("Architecture", self.arch_box)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Open | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load a checkpoint", self.path_edit.text(), CHECKPOINT_FILTER)
        if path:
            self.path_edit.setText(path)

    def path(self) -> str:
        return self.path_edit.text().strip()

    def arch(self) -> str | None:
        """The chosen builder name, ``None`` for automatic."""
        return self.arch_box.currentData()

"""The annotation mode's keys (labelImg's flow), the help dialog that lists them, and
the window shortcuts they take over while the mode is on.

:data:`ACTIONS` is the one table: :class:`~.actions.AnnotationActions` makes a ``QAction`` of each
row, the controller runs each row's :class:`Command` through its typed table of handlers, and
the help dialog lists the same rows, so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PySide6 import QtGui, QtWidgets


class Command(Enum):
    """What an annotation action does; the controller's table
    (:data:`~.controller.HANDLERS`) maps each to its method."""

    ARM_DRAWING = "arm_drawing"
    PREVIOUS_IMAGE = "previous_image"
    NEXT_IMAGE = "next_image"
    DELETE_SELECTED = "delete_selected"
    DUPLICATE_SELECTED = "duplicate_selected"
    SAVE = "save"
    UNDO = "undo"
    REDO = "redo"
    TOGGLE_VERIFIED = "toggle_verified"
    TOGGLE_DIFFICULT = "toggle_difficult"
    NUDGE = "nudge"  # args: (dx, dy) file pixels
    ACCEPT_SUGGESTION = "accept_suggestion"
    ACCEPT_ALL_SUGGESTIONS = "accept_all_suggestions"
    COPY_BOXES = "copy_boxes"
    PASTE_BOXES = "paste_boxes"
    PASTE_PREVIOUS = "paste_previous"
    NEXT_UNLABELLED = "next_unlabelled"
    CANCEL = "cancel"
    SHOW_HELP = "show_help"
    PICK_CLASS = "pick_class"  # args: (number,) 1..9 in the class list
    # the set-wide menu entries (dialogs; either mode) and labelling with the model
    OPEN_FOLDER = "open_folder"
    CHOOSE_ANNOTATION_DIR = "choose_annotation_dir"
    IMPORT_COCO = "import_coco"
    EXPORT_COCO = "export_coco"
    EXPORT_YOLO = "export_yolo"
    EXPORT_YOLO_DATASET = "export_yolo_dataset"
    EXPORT_CVAT = "export_cvat"
    EXPORT_LABELME = "export_labelme"
    RETRAIN = "retrain"


@dataclass(frozen=True)
class ActionSpec:
    """One annotation action: its command and the command's arguments, its keys and its text
    (the menu's or the help's)."""

    command: Command
    keys: tuple[str, ...]
    text: str
    args: tuple = ()


NUDGE_FAR = 10  # file pixels Shift+arrow moves a box

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(Command.ARM_DRAWING, ("W",), "Draw a new box: the next drag draws, even over a box"),
    ActionSpec(Command.PREVIOUS_IMAGE, ("A",), "Previous image (skips verified ones while 'Unverified only' is on)"),
    ActionSpec(Command.NEXT_IMAGE, ("D",), "Next image (idem)"),
    ActionSpec(Command.DELETE_SELECTED, ("Del", "Backspace"), "Delete the selected box (reject the selected suggestion)"),
    ActionSpec(Command.DUPLICATE_SELECTED, ("Ctrl+D",), "Duplicate the selected box"),
    ActionSpec(Command.SAVE, ("Ctrl+S",), "Save this image's VOC XML"),
    ActionSpec(Command.UNDO, ("Ctrl+Z",), "Undo"),
    ActionSpec(Command.REDO, ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo"),
    ActionSpec(Command.TOGGLE_VERIFIED, ("Space",), "Mark the image verified / unverified"),
    ActionSpec(Command.TOGGLE_DIFFICULT, ("Ctrl+Shift+D",), "Mark the selected box difficult / not"),
    ActionSpec(Command.NUDGE, ("Left",), "Move the selected box 1 pixel (without a selection: previous image)", (-1, 0)),
    ActionSpec(Command.NUDGE, ("Right",), "Move the selected box 1 pixel (without a selection: next image)", (1, 0)),
    ActionSpec(Command.NUDGE, ("Up",), "Move the selected box 1 pixel up", (0, -1)),
    ActionSpec(Command.NUDGE, ("Down",), "Move the selected box 1 pixel down", (0, 1)),
    ActionSpec(Command.NUDGE, ("Shift+Left",), "Move the selected box 10 pixels", (-NUDGE_FAR, 0)),
    ActionSpec(Command.NUDGE, ("Shift+Right",), "Move the selected box 10 pixels", (NUDGE_FAR, 0)),
    ActionSpec(Command.NUDGE, ("Shift+Up",), "Move the selected box 10 pixels up", (0, -NUDGE_FAR)),
    ActionSpec(Command.NUDGE, ("Shift+Down",), "Move the selected box 10 pixels down", (0, NUDGE_FAR)),
    ActionSpec(Command.ACCEPT_SUGGESTION, ("Return", "Enter"), "Accept the selected suggestion (or double-click it)"),
    ActionSpec(Command.ACCEPT_ALL_SUGGESTIONS, ("Shift+Return", "Shift+Enter"), "Accept every suggestion shown (one undo step)"),
    ActionSpec(Command.COPY_BOXES, ("Ctrl+C",), "Copy the selected box (every box without a selection)"),
    ActionSpec(Command.PASTE_BOXES, ("Ctrl+V",), "Paste the copied boxes"),
    ActionSpec(Command.PASTE_PREVIOUS, ("Ctrl+Shift+V",), "Copy every box of the previous image (its saved file)"),
    ActionSpec(Command.NEXT_UNLABELLED, ("N",), "Next image to label: unlabelled, the model's most uncertain first"),
    ActionSpec(Command.CANCEL, ("Esc",), "Stop drawing, deselect"),
    ActionSpec(Command.SHOW_HELP, ("F1",), "This list"),
) + tuple(ActionSpec(Command.PICK_CLASS, (str(k),), f"Class {k} of the list for new boxes and the selected box", (k,)) for k in range(1, 10))

MOUSE_HELP = (
    ("Drag on the image", "Draw a box (crosshair guides follow the mouse)"),
    ("Click / drag a box", "Select it / move it"),
    ("Click / double-click a dashed suggestion", "Select it / accept it (hover: where it came from)"),
    ("Drag a corner or an edge", "Resize the box"),
    ("Right or middle drag, wheel", "Pan and zoom as in inspection mode"),
)


def portable(keys) -> set[str]:
    """Key sequences in one comparable spelling."""
    return {QtGui.QKeySequence(k).toString(QtGui.QKeySequence.SequenceFormat.PortableText) for k in keys}


class ShortcutConflicts:
    """Shortcuts of other window actions that the annotation mode takes over (``1`` for 1:1
    zoom, the arrows for previous/next image), removed by :meth:`suspend` and given back by
    :meth:`restore`."""

    def __init__(self, window: QtWidgets.QWidget, own: list[QtGui.QAction]) -> None:
        self.window = window
        self.own = set(own)
        self.taken = portable(k for spec in ACTIONS for k in spec.keys)
        self._saved: list[tuple[QtGui.QAction, list[QtGui.QKeySequence]]] = []

    def suspend(self) -> None:
        for action in self.window.findChildren(QtGui.QAction):
            if action in self.own:
                continue
            shortcuts = action.shortcuts()
            keep = [s for s in shortcuts if s.toString(QtGui.QKeySequence.SequenceFormat.PortableText) not in self.taken]
            if len(keep) != len(shortcuts):
                self._saved.append((action, shortcuts))
                action.setShortcuts(keep)

    def restore(self) -> None:
        for action, shortcuts in self._saved:
            action.setShortcuts(shortcuts)
        self._saved.clear()


class HelpDialog(QtWidgets.QDialog):
    """The keys and mouse gestures of the annotation mode, in a table."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Annotation shortcuts")
        rows = [(" / ".join(spec.keys), spec.text) for spec in ACTIONS if spec.command is not Command.PICK_CLASS]
        rows += [("1 … 9", "Class 1 … 9 of the list for new boxes and the selected box"), *MOUSE_HELP]
        self.table = QtWidgets.QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        for r, (keys, text) in enumerate(rows):
            self.table.setItem(r, 0, QtWidgets.QTableWidgetItem(keys))
            self.table.setItem(r, 1, QtWidgets.QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        column = QtWidgets.QVBoxLayout(self)
        column.addWidget(self.table)
        column.addWidget(buttons)
        self.resize(620, 560)

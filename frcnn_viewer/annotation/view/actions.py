"""The annotation mode's actions: one ``QAction`` per row of :data:`~.shortcuts.ACTIONS`, the
mode switch, the set-wide commands, and the Annotate menu and toolbar that show them.

:class:`AnnotationActions` only builds and enables actions; what they do is the controller's
business: it listens to ``triggered(name)`` (the row's name) and ``mode_toggled(on)``. The
window puts :attr:`AnnotationActions.menu` in its menu bar and :attr:`AnnotationActions.toolbar`
beside its own.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .shortcuts import ACTIONS, ShortcutConflicts

# Menu entries that open a dialog and work in either mode: (name, text)
SET_ACTIONS: tuple[tuple[str, str], ...] = (
    ("open_folder", "Open a folder to &annotate…"),
    ("choose_annotation_dir", "Choose the annotation &folder…"),
    ("import_coco", "&Import COCO JSON into VOC files…"),
    ("export_coco", "&Export COCO JSON…"),
    ("export_yolo", "Export &YOLO labels…"),
    ("export_yolo_dataset", "Export a YOLO &dataset (data.yaml)…"),
    ("export_cvat", "Export C&VAT XML…"),
    ("export_labelme", "Export &labelme JSON…"),
)
# Menu and toolbar entries of labelling with the model: (name, text)
MODEL_ACTIONS: tuple[tuple[str, str], ...] = (
    ("retrain", "&Retrain on the labelled images"),
)
# The Annotate menu after the mode switch: names of ACTIONS rows, SET_ACTIONS, None a separator
MENU = (None, "save", "undo", "redo", None, "arm_drawing", "duplicate_selected", "delete_selected", "toggle_difficult", "toggle_verified",
        None, "copy_boxes", "paste_boxes", "paste_previous", None, "accept_suggestion", "accept_all_suggestions", "next_unlabelled",
        *(name for name, _text in MODEL_ACTIONS), None, *(name for name, _text in SET_ACTIONS), None, "show_help")


class AnnotationActions(QtCore.QObject):
    """The annotation actions of ``window`` (their shortcuts work anywhere in it).

    Signals: ``triggered(name)`` an action of :data:`ACTIONS`, :data:`SET_ACTIONS` or :data:`MODEL_ACTIONS` by its
    name; ``mode_toggled(on)`` the mode switch (Ctrl+M).

    Attributes:
        keyed: the :data:`ACTIONS` actions by name, enabled only in annotation mode.
        named: every action by name (:data:`ACTIONS`, :data:`SET_ACTIONS`, :data:`MODEL_ACTIONS`).
        mode_action: the checkable mode switch.
        menu, toolbar: the Annotate menu and toolbar, for the window to show.
    """

    triggered = QtCore.Signal(str)
    mode_toggled = QtCore.Signal(bool)

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.keyed: dict[str, QtGui.QAction] = {}
        for spec in ACTIONS:
            action = self._action(window, spec.name, spec.text)
            action.setShortcuts([QtGui.QKeySequence(k) for k in spec.keys])
            action.setEnabled(False)
            window.addAction(action)
            self.keyed[spec.name] = action
        named = dict(self.keyed)
        for name, text in SET_ACTIONS + MODEL_ACTIONS:
            named[name] = self._action(window, name, text)
        self.named = named
        self.mode_action = QtGui.QAction("&Annotation mode", window, checkable=True)
        self.mode_action.setShortcut(QtGui.QKeySequence("Ctrl+M"))
        self.mode_action.toggled.connect(self.mode_toggled.emit)
        self.menu = QtWidgets.QMenu("&Annotate", window)
        self.menu.addAction(self.mode_action)
        for name in MENU:
            if name is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(named[name])
        self.toolbar = QtWidgets.QToolBar("Annotate", window)
        self.toolbar.setObjectName("toolbar_annotate")
        self.toolbar.addAction(self.mode_action)
        for name, _text in MODEL_ACTIONS:
            self.toolbar.addAction(named[name])
            named[name].setVisible(False)  # shown in annotation mode (set_annotating)
        self.conflicts = ShortcutConflicts(window, [*self.keyed.values(), self.mode_action])

    def _action(self, window: QtWidgets.QWidget, name: str, text: str) -> QtGui.QAction:
        action = QtGui.QAction(text, window)
        action.triggered.connect(lambda _checked=False: self.triggered.emit(name))
        return action

    def set_annotating(self, on: bool) -> None:
        """Enable the keyed actions and take over the window shortcuts they share keys with
        (``1`` for 1:1 zoom, the arrows), or give them back."""
        for action in self.keyed.values():
            action.setEnabled(on)
        for name, _text in MODEL_ACTIONS:  # retraining on the labelled images belongs to annotating
            self.named[name].setVisible(on)
        (self.conflicts.suspend if on else self.conflicts.restore)()
        self.mode_action.setChecked(on)

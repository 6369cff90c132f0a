"""The annotation mode's actions: one ``QAction`` per row of :data:`~.shortcuts.ACTIONS`, the
mode switch, the set-wide commands, and the Annotate menu and toolbar that show them.

:class:`AnnotationActions` only builds and enables actions; what they do is the controller's
business: it listens to ``triggered(spec)`` (the row's :class:`~.shortcuts.ActionSpec`) and ``mode_toggled(on)``. The
window puts :attr:`AnnotationActions.menu` in its menu bar and :attr:`AnnotationActions.toolbar`
beside its own.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .shortcuts import ACTIONS, ActionSpec, Command, ShortcutConflicts

# Menu entries that open a dialog and work in either mode
SET_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(Command.OPEN_FOLDER, (), "Open a folder to &annotate…"),
    ActionSpec(Command.CHOOSE_ANNOTATION_DIR, (), "Choose the annotation &folder…"),
    ActionSpec(Command.IMPORT_COCO, (), "&Import COCO JSON into VOC files…"),
    ActionSpec(Command.EXPORT_COCO, (), "&Export COCO JSON…"),
    ActionSpec(Command.EXPORT_YOLO, (), "Export &YOLO labels…"),
    ActionSpec(Command.EXPORT_YOLO_DATASET, (), "Export a YOLO &dataset (data.yaml)…"),
    ActionSpec(Command.EXPORT_CVAT, (), "Export C&VAT XML…"),
    ActionSpec(Command.EXPORT_LABELME, (), "Export &labelme JSON…"),
)
# Menu and toolbar entries of labelling with the model
MODEL_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(Command.RETRAIN, (), "&Retrain on the labelled images"),
)
# The Annotate menu after the mode switch: commands of single actions, None a separator
MENU = (None, Command.SAVE, Command.UNDO, Command.REDO, None, Command.ARM_DRAWING, Command.DUPLICATE_SELECTED,
        Command.DELETE_SELECTED, Command.TOGGLE_DIFFICULT, Command.TOGGLE_VERIFIED, None, Command.COPY_BOXES,
        Command.PASTE_BOXES, Command.PASTE_PREVIOUS, None, Command.ACCEPT_SUGGESTION, Command.ACCEPT_ALL_SUGGESTIONS,
        Command.NEXT_UNLABELLED, *(spec.command for spec in MODEL_ACTIONS), None, *(spec.command for spec in SET_ACTIONS),
        None, Command.SHOW_HELP)


class AnnotationActions(QtCore.QObject):
    """The annotation actions of ``window`` (their shortcuts work anywhere in it).

    Signals: ``triggered(spec)`` the :class:`~.shortcuts.ActionSpec` of an action of :data:`ACTIONS`,
    :data:`SET_ACTIONS` or :data:`MODEL_ACTIONS`; ``mode_toggled(on)`` the mode switch (Ctrl+M).

    Attributes:
        keyed: the :data:`ACTIONS` actions by row, enabled only in annotation mode.
        named: the actions of the commands that have one (all but nudges and class picks), by command.
        mode_action: the checkable mode switch.
        menu, toolbar: the Annotate menu and toolbar, for the window to show.
    """

    triggered = QtCore.Signal(object)
    mode_toggled = QtCore.Signal(bool)

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.keyed: dict[ActionSpec, QtGui.QAction] = {}
        for spec in ACTIONS:
            action = self._action(window, spec)
            action.setShortcuts([QtGui.QKeySequence(k) for k in spec.keys])
            action.setEnabled(False)
            window.addAction(action)
            self.keyed[spec] = action
        named = {spec.command: action for spec, action in self.keyed.items() if not spec.args}
        for spec in SET_ACTIONS + MODEL_ACTIONS:
            named[spec.command] = self._action(window, spec)
        self.named = named
        self.mode_action = QtGui.QAction("&Annotation mode", window, checkable=True)
        self.mode_action.setShortcut(QtGui.QKeySequence("Ctrl+M"))
        self.mode_action.toggled.connect(self.mode_toggled.emit)
        self.menu = QtWidgets.QMenu("&Annotate", window)
        self.menu.addAction(self.mode_action)
        for command in MENU:
            if command is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(named[command])
        self.toolbar = QtWidgets.QToolBar("Annotate", window)
        self.toolbar.setObjectName("toolbar_annotate")
        self.toolbar.addAction(self.mode_action)
        for spec in MODEL_ACTIONS:
            self.toolbar.addAction(named[spec.command])
            named[spec.command].setVisible(False)  # shown in annotation mode (set_annotating)
        self.conflicts = ShortcutConflicts(window, [*self.keyed.values(), self.mode_action])

    def _action(self, window: QtWidgets.QWidget, spec: ActionSpec) -> QtGui.QAction:
        action = QtGui.QAction(spec.text, window)
        action.triggered.connect(lambda _checked=False: self.triggered.emit(spec))
        return action

    def set_annotating(self, on: bool) -> None:
        """Enable the keyed actions and take over the window shortcuts they share keys with
        (``1`` for 1:1 zoom, the arrows), or give them back."""
        for action in self.keyed.values():
            action.setEnabled(on)
        for spec in MODEL_ACTIONS:  # retraining on the labelled images belongs to annotating
            self.named[spec.command].setVisible(on)
        (self.conflicts.suspend if on else self.conflicts.restore)()
        self.mode_action.setChecked(on)

"""Annotation mode: draw and edit ground-truth boxes on the viewer's canvas (the Qt side).

The data lives in :mod:`frcnn_viewer.state` (no Qt): :mod:`~frcnn_viewer.annotation.model.mode`
(the model: session, class list shared with the document, pixel mapping, files) and its
parts. This package observes and edits it: :mod:`.commands` (every edit as a
``QUndoCommand``), :mod:`.box_editor` (the canvas interaction), :mod:`.class_list`,
:mod:`.box_form` and :mod:`.panel` (the dock), :mod:`.shortcuts` (the keys and the help
dialog), :mod:`.actions` (the actions, menu and toolbar), :mod:`.unsaved_bar` (the offer to
restore the edits a previous session never saved) and :mod:`.controller`, which
turns gestures into commands and is given these pieces by the main window; the Issues list
(the labels that are likely wrong) is :mod:`.issues_panel` and :mod:`.issues`, over
:mod:`frcnn_viewer.annotation.model.issues`. Import the modules explicitly; this package's
``__init__`` imports nothing.
"""

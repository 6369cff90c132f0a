"""Annotation mode: draw and edit ground-truth boxes on the viewer's canvas.

The data side is plain Python (no Qt): :mod:`.classes` (the class list),
:mod:`.session` (the boxes of the image being annotated, loaded from and saved to
VOC XML through :mod:`frcnn_core.annotations`), :mod:`.geometry` (box arithmetic for
drawing, moving and resizing) and :mod:`.sets` (COCO / YOLO for the whole set).
The Qt side observes and edits it: :mod:`.commands` (every edit as a ``QUndoCommand``),
:mod:`.box_editor` (the canvas interaction), :mod:`.class_list`, :mod:`.box_form` and
:mod:`.panel` (the dock), :mod:`.shortcuts` (keys and the help dialog) and
:mod:`.controller`, which wires them into the main window. Import the Qt modules explicitly; this package's
``__init__`` imports nothing.
"""

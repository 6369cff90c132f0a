"""The viewer's Qt-free state: plain Python objects that hold data and announce changes.

Nothing in this package imports Qt (PySide6) or pyqtgraph, so it runs and is tested
without a display; the Qt widgets observe it and forward what the user asked for
(napari's model/view split). The annotation mode's state is :mod:`.annotation` (the
model the controller drives) with its parts :mod:`.annotation_session` (one image's
boxes and file), :mod:`.annotation_classes` (the class list, stored in the document),
:mod:`.annotation_pixels` (displayed and file pixels), :mod:`.annotation_files` (where the
VOC files are, which are verified), :mod:`.annotation_geometry` (box arithmetic) and
:mod:`.annotation_sets` (the whole set as COCO / YOLO). Import the modules explicitly;
this ``__init__`` imports nothing.
"""

"""Annotation files without Qt: one in-memory model, five formats.

:mod:`.model` holds the boxes of an image in continuous pixel coordinates; :mod:`.voc`
(labelImg's XML), :mod:`.coco` (instances JSON), :mod:`.yolo` (text labels and
Ultralytics' ``data.yaml``), :mod:`.cvat` (CVAT for images 1.1 XML) and :mod:`.labelme`
(labelme JSON) convert to and from it at the file boundary. Every reader raises :class:`AnnotationError`
naming the file and the offending value; every writer writes atomically
(:mod:`frcnn_core.files.atomic`).
"""

from .coco import export_coco, import_coco
from .cvat import CvatFile, CvatImage, export_cvat, read_cvat_xml
from .labelme import export_labelme, read_labelme_json, write_labelme_json
from .model import AnnotationError, BoxAnnotation, ImageAnnotation, class_names_of, clip_box
from .voc import read_voc_xml, voc_path_for_image, write_voc_xml
from .yolo import export_yolo, export_yolo_dataset, read_data_yaml, read_yolo_txt

__all__ = [
    "AnnotationError", "BoxAnnotation", "ImageAnnotation", "class_names_of", "clip_box",
    "read_voc_xml", "write_voc_xml", "voc_path_for_image",
    "export_coco", "import_coco",
    "export_yolo", "read_yolo_txt",
    "export_yolo_dataset", "read_data_yaml",
    "CvatFile", "CvatImage", "export_cvat", "read_cvat_xml",
    "export_labelme", "read_labelme_json", "write_labelme_json",
]

"""Datasets: COCO, VOC, YOLO, CVAT, labelme, image folders, videos and two generated sets, all under one contract.

See :mod:`.sample` for the contract (``ds[i] -> (image, target)``, ``ds.info(i)``,
``class_names``, ``category_ids``, ``image_ids``, ``problems``) and :func:`open_dataset`
for turning a user's spec into a dataset.
"""

from .coco import CocoDataset
from .composite import CompositeDataset
from .cvat import CvatDataset
from .errors import DatasetError
from .folder import ImageFolderDataset
from .images import IMAGE_EXTENSIONS, read_rgb
from .labelme import LabelmeDataset
from .loading import SpecKind, Subset, collate, open_dataset, open_validation_split, spec_kind, split_dataset
from .sample import DetectionDataset, Record
from .shapes import ShapesDataset
from .transforms import RandomHorizontalFlip, horizontal_flip
from .video import VIDEO_EXTENSIONS, VideoDataset, is_video_file
from .voc import VOC_CLASSES, VocDataset
from .yolo import YoloDataset

__all__ = [
    "CocoDataset", "CompositeDataset", "CvatDataset", "DatasetError", "DetectionDataset", "IMAGE_EXTENSIONS", "ImageFolderDataset",
    "RandomHorizontalFlip", "Record", "ShapesDataset", "Subset", "VOC_CLASSES", "VocDataset", "collate",
    "horizontal_flip", "open_dataset", "open_validation_split", "read_rgb", "split_dataset",
    "LabelmeDataset", "SpecKind", "VIDEO_EXTENSIONS", "VideoDataset", "YoloDataset", "is_video_file", "spec_kind",
]

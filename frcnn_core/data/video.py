"""A video file as a dataset of its frames, read with OpenCV's ``VideoCapture``.

Frames have no annotations (``class_names`` is ``()``); ``image_id`` is the frame
index (0-based) and ``path`` is ``""`` (a frame is not an image file; the video is
:attr:`VideoDataset.path`), so consumers decode frames through ``ds[i]``. The frame
count and size come from the capture's properties when the video is opened; a frame
is decoded only when ``ds[i]`` asks for it: reading the next frame continues the
stream, any other index seeks to it (OpenCV's FFmpeg backend seeks to the keyframe
before it and decodes forward, so the frame is exact). One capture is shared, behind
a lock, by the threads that read frames.

OpenCV comes from ``opencv-python-headless`` (no Qt plugins to clash with the
viewer's PySide6); it is imported when a video is opened, not with this module.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .sample import DetectionDataset, Record

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv")


def is_video_file(path: Path) -> bool:
    """Whether ``path`` has one of :data:`VIDEO_EXTENSIONS` (case-insensitive)."""
    return path.suffix.lower() in VIDEO_EXTENSIONS


class VideoDataset(DetectionDataset):
    """The frames of a video file (see the module docstring).

    Attributes:
        path: the video file.
        fps: frames per second as the container states it (``0.0`` when unknown).

    Raises:
        DatasetError: the file is missing, OpenCV cannot open it, or it states no
            frame count or size.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        import cv2  # 0.2 s and 150 MB of libraries: only for videos

        self._cv2 = cv2
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetError(f"{self.path}: no such file")
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            raise DatasetError(f"{self.path}: OpenCV cannot open it as a video")
        self._count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        width, height = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if self._count < 1 or width < 1 or height < 1:
            self._capture.release()
            raise DatasetError(f"{self.path}: the video states {self._count} frames of {width}x{height}; cannot index its frames")
        self.size = (height, width)
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self._next = 0  # the frame the capture decodes next
        self._lock = threading.Lock()
        self.problems: list[str] = []

    def __len__(self) -> int:
        return self._count

    def record(self, index: int) -> Record:
        return Record.unlabelled("", self.size, index)

    def pixels(self, index: int, record: Record) -> np.ndarray:
        """``[H, W, 3]`` uint8 RGB of frame ``index``.

        Raises:
            DatasetError: the frame cannot be decoded (a damaged or shorter video
                than its header says); the message names the file and the frame.
        """
        cv2 = self._cv2
        with self._lock:
            if index != self._next:
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = self._capture.read()
            self._next = index + 1 if ok else -1
        if not ok or frame is None:
            raise DatasetError(f"{self.path}: frame {index} of {self._count} cannot be decoded")
        if frame.shape[:2] != self.size:
            raise DatasetError(f"{self.path}: frame {index} is {frame.shape[1]}x{frame.shape[0]}, the video states {self.size[1]}x{self.size[0]}")
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

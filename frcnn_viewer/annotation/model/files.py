"""Where the open images' annotation files are, whether they are marked verified, and opening
folders to annotate. Plain Python, no Qt.

Each image's truth is its labelImg VOC XML file: beside the image, in ``Annotations/`` of a
VOC directory, or in a folder the user chose (:attr:`AnnotationFiles.annotation_dir`).
"""

from __future__ import annotations

from pathlib import Path

from frcnn_core.annotations import voc_path_for_image
from frcnn_core.data import ImageFolderDataset
from frcnn_core.data.loading import SpecKind, spec_kind

from ...state.sources import ImageEntry, Progress, Source, open_sources
from .sets import Pair, is_verified


class AnnotationFiles:
    """The VOC file of each image, and a cache of their ``verified="yes"`` marks, each file read
    once per version (its modification time) so listing a folder does not parse every file again.

    Attributes:
        annotation_dir: where VOC files go (``None``: beside the image, or ``Annotations/`` of
            a VOC directory).
    """

    def __init__(self) -> None:
        self.annotation_dir: Path | None = None
        self._verified: dict[Path, tuple[int, bool]] = {}

    @staticmethod
    def image_path(entry: ImageEntry) -> Path | None:
        """The image file of ``entry`` (``None`` for a generated image)."""
        path = entry.info().get("path")
        return Path(path) if path else None

    def annotation_dir_for(self, entry: ImageEntry) -> Path | None:
        """The folder of ``entry``'s VOC file (``None``: beside the image)."""
        if self.annotation_dir is not None:
            return self.annotation_dir
        root = getattr(entry.source.dataset, "root", None)  # a VOC directory keeps them in Annotations/
        return Path(root) / "Annotations" if root is not None and (Path(root) / "Annotations").is_dir() else None

    def xml_path(self, entry: ImageEntry) -> Path | None:
        """Where the VOC file of ``entry`` is (or would be written); ``None`` without an image file."""
        path = self.image_path(entry)
        return None if path is None else voc_path_for_image(path, self.annotation_dir_for(entry))

    def pairs(self, entries: list[ImageEntry]) -> list[Pair]:
        """``(image, VOC file)`` of each of ``entries`` that has an image file."""
        pairs = []
        for entry in entries:
            xml = self.xml_path(entry)
            if xml is not None:
                pairs.append((self.image_path(entry), xml))
        return pairs

    def verified(self, entry: ImageEntry) -> bool:
        """Whether ``entry``'s VOC file is marked verified (``False`` without a readable one)."""
        xml = self.xml_path(entry)
        if xml is None:
            return False
        try:
            stamp = xml.stat().st_mtime_ns
        except OSError:
            return False
        known = self._verified.get(xml)
        if known is None or known[0] != stamp:
            known = self._verified[xml] = (stamp, is_verified(xml))
        return known[1]

    def written(self, xml: Path) -> None:
        """``xml`` was just written: read it again next time (a coarse clock may not show it)."""
        self._verified.pop(xml, None)


def open_annotation_sources(specs: list[str], progress: Progress | None = None) -> tuple[list[Source], list[str]]:
    """What :func:`frcnn_viewer.state.sources.open_sources` opens, except that a plain or labelImg
    folder lists every image, with or without an annotation file (to annotate them all)."""
    folders = [s for s in specs if Path(s).is_dir() and not (Path(s) / "Annotations").is_dir() and spec_kind(s) in (SpecKind.IMAGES, SpecKind.VOC)]
    sources, problems = open_sources([s for s in specs if s not in folders], progress) if len(folders) < len(specs) else ([], [])
    for folder in folders:
        dataset = ImageFolderDataset(folder)
        problems += [f"{folder}: {problem}" for problem in dataset.problems]
        if len(dataset):
            sources.append(Source(folder, dataset, annotated=True))
        else:
            problems.append(f"{folder}: no images found")
    return sources, problems

"""What the user opened, as ``frcnn_core.data`` datasets, and images loaded for display.

Everything is read through ``frcnn_core.data`` (the loaders the CLI uses), so the viewer
sees the same pixels, boxes, classes and image ids as ``frcnn detect`` and ``frcnn train``.
What a path is comes from :func:`frcnn_core.data.loading.spec_kind`, the CLI's own rule:
image files and plain folders become one image-folder dataset, exactly as ``frcnn detect
IMAGES`` builds it; a COCO JSON, a VOC directory or labelImg folder, a YOLO ``data.yaml`` or
``images/`` + ``labels/`` tree, a CVAT XML export, a labelme folder, a video file (its frames)
and ``shapes`` / ``composite`` become their own datasets.

Opening reads annotations, never pixels (COCO lists sizes; videos decode a frame when it is
shown): the list's names, GT counts and classes come from each image's record
(:class:`Catalogue`), and pixels are decoded for the image shown (:func:`load_image`) and the
thumbnails of the rows on screen (:func:`thumbnail_pixels`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from frcnn_core.data import ImageFolderDataset, open_dataset, read_rgb
from frcnn_core.data.images import to_rgb8
from frcnn_core.data.loading import SpecKind, spec_kind

# progress(what, done, total): what is being done ("opening PATH"), and how far (total 0: unknown)
Progress = Callable[[str, int, int], None]
# How often (in images) listing a source reports its progress.
LISTING_PROGRESS_STEP = 2000

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SAMPLE_SPECS = ("shapes", RESOURCES / "photos")
GENERATED = ("shapes", "composite")  # generated sets: the viewer shows their val split

# Larger images are shown (and run through the model) downscaled to this longest side.
DISPLAY_MAX_SIDE = 4096
# Larger images are refused before decoding (PIL itself refuses about 179 MP as a
# possible decompression bomb).
MAX_PIXELS = 150_000_000

MODE_NOTES = {
    "I;16": "16-bit grayscale, scaled to 8-bit RGB",
    "I;16B": "16-bit grayscale, scaled to 8-bit RGB",
    "I;16L": "16-bit grayscale, scaled to 8-bit RGB",
    "I": "32-bit integer grayscale, scaled to 8-bit RGB",
    "F": "floating-point grayscale, scaled to 8-bit RGB",
    "L": "grayscale, shown as RGB",
    "LA": "grayscale with alpha: alpha dropped, shown as RGB",
    "1": "1-bit black and white, shown as RGB",
    "P": "palette image, converted to RGB",
    "PA": "palette image with alpha: alpha dropped",
    "RGBA": "RGBA: alpha dropped",
    "CMYK": "CMYK, converted to RGB",
}


class ImageLoadError(Exception):
    """An image could not be shown; the message names the file and the reason."""


@dataclass(frozen=True)
class Catalogue:
    """What the image list knows of a source's ``N`` images without decoding one.

    Attributes:
        names: ``N`` list names: each image's file name, or ``LABEL #i`` for a generated image
            or a video frame.
        gt_counts: ``[N]`` int64 GT boxes of each image (0 for an unannotated source).
        gt_image: ``[B]`` int64, the image (0..N-1) of each of the source's ``B`` GT boxes.
        gt_label: ``[B]`` int64, the label of that box, 1..C in the source's ``class_names``.
        paths: ``N`` absolute image file paths (``None`` for a generated image or a frame).
    """

    names: list[str]
    gt_counts: np.ndarray
    gt_image: np.ndarray
    gt_label: np.ndarray
    paths: list[str | None]


@dataclass(eq=False)
class Source:
    """One thing the user opened: a dataset and how to name it.

    :meth:`prepare` reads every image's record once (no pixels: the opening thread does it);
    :attr:`catalogue` and :attr:`entries` are what it found.
    """

    label: str
    dataset: object
    annotated: bool
    _catalogue: Catalogue | None = field(default=None, init=False, repr=False)
    _entries: list[ImageEntry] | None = field(default=None, init=False, repr=False)
    _by_path: dict[str, int] | None = field(default=None, init=False, repr=False)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(getattr(self.dataset, "class_names", ()) or ())

    def prepare(self, progress: Progress | None = None) -> None:
        """Build :attr:`catalogue` and :attr:`entries` if not yet done (plain Python: any thread)."""
        if self._catalogue is None:
            catalogue = catalogue_of(self.dataset, self.label, progress)
            self._entries = [ImageEntry(self, index, name) for index, name in enumerate(catalogue.names)]
            self._catalogue = catalogue

    @property
    def catalogue(self) -> Catalogue:
        self.prepare()
        return self._catalogue

    @property
    def entries(self) -> list[ImageEntry]:
        """One entry per image, in the dataset's order (the same objects every time)."""
        self.prepare()
        return self._entries

    def index_of_path(self, path: str | None) -> int | None:
        """The index of the image whose file is ``path`` (absolute), if this source lists it."""
        if self._by_path is None:
            self._by_path = {p: i for i, p in enumerate(self.catalogue.paths) if p is not None}
        return None if path is None else self._by_path.get(path)


@dataclass
class ImageEntry:
    """One image of the viewer's list: ``source.dataset[index]``."""

    source: Source
    index: int
    name: str

    def info(self) -> dict:
        """The dataset's record of the image (path, size, image_id, target) without decoding pixels."""
        return self.source.dataset.info(self.index)


@dataclass
class LoadedImage:
    """An image ready to draw and to run through the model.

    Attributes:
        pixels: ``[H, W, 3]`` uint8, C-contiguous (what the canvas shows).
        tensor: ``[3, H, W]`` float in 0..1, the same pixels (what the model sees).
        gt_boxes: ``[G, 4]`` xyxy in these pixels; gt_names: the class name of each box;
        difficult: ``[G]`` bool.
        display_scale: ``(sx, sy)`` displayed pixels per original pixel (1 unless a huge image
            was reduced).
        original_size: ``(H, W)`` of the file; notes: conversions the user should know about.
    """

    entry: ImageEntry
    pixels: np.ndarray
    tensor: torch.Tensor
    gt_boxes: np.ndarray
    gt_names: list[str]
    difficult: np.ndarray
    display_scale: tuple[float, float] = (1.0, 1.0)
    original_size: tuple[int, int] = (0, 0)
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` as displayed."""
        return self.pixels.shape[0], self.pixels.shape[1]

    @property
    def annotated(self) -> bool:
        return self.entry.source.annotated


def sample_specs() -> list[str]:
    """The bundled sample set: the ``shapes`` images and the photos shipped in ``resources/``."""
    return [str(spec) for spec in SAMPLE_SPECS if spec == "shapes" or Path(spec).is_dir()]


def open_sources(specs: list[str | Path], progress: Progress | None = None) -> tuple[list[Source], list[str]]:
    """Open what :func:`frcnn_core.data.open_dataset` opens (``shapes``, ``composite``, COCO,
    VOC, YOLO, CVAT, labelme, videos), each image file and folder of images joining one
    unlabelled source. Datasets with splits open everything labelled (``trainval``), the
    generated sets their ``val`` split.

    Returns the sources that opened (each listed: :meth:`Source.prepare`) and one message per problem
    (a missing path, a malformed dataset, the files a dataset skipped); nothing raises for bad
    input. ``progress(what, done, total)`` is called while a big dataset opens and is listed.
    """
    sources: list[Source] = []
    problems: list[str] = []
    loose: list[str] = []
    for spec in specs:
        text = str(spec)
        path = Path(text).expanduser()
        kind = None if text in GENERATED else spec_kind(path)
        if text in GENERATED or (kind is not None and kind is not SpecKind.IMAGES):
            split = "val" if text in GENERATED else "trainval"
            report = None if progress is None else (lambda done, total, what=f"opening {text}": progress(what, done, total))
            annotated = kind is None or kind.annotated
            _add(sources, problems, text, lambda: open_dataset(text, split=split, progress=report), annotated, progress)
        elif path.exists():  # images, or a file or folder the image reader will name the trouble of
            loose.append(str(path))
        else:
            problems.append(f"{text}: no such file or folder")
    if loose:
        label = loose[0] if len(loose) == 1 else f"{len(loose)} files and folders"
        _add(sources, problems, label, lambda: ImageFolderDataset(loose), False, progress)
    return sources, problems


def _add(sources: list[Source], problems: list[str], label: str, build, annotated: bool, progress: Progress | None) -> None:
    if progress is not None:
        progress(f"opening {label}", 0, 0)
    try:
        dataset = build()
    except Exception as exc:  # a dataset's own errors name the file and the record
        problems.append(f"{label}: {exc}")
        return
    problems += [f"{label}: {problem}" for problem in getattr(dataset, "problems", ())]
    if len(dataset) == 0:
        problems.append(f"{label}: no images found")
        return
    source = Source(label, dataset, annotated and bool(getattr(dataset, "class_names", ())))
    source.prepare(progress)
    sources.append(source)


def catalogue_of(dataset, label: str, progress: Progress | None = None) -> Catalogue:
    """The :class:`Catalogue` of ``dataset``, read from its records (``dataset.record(i)`` where it
    has one, else ``dataset.info(i)``); no image is decoded or probed."""
    record = getattr(dataset, "record", None)
    count = len(dataset)
    stem = Path(label).name or label
    names: list[str] = []
    paths: list[str | None] = []
    labels: list[np.ndarray] = []
    for index in range(count):
        if record is not None:
            item = record(index)
            path, image_labels = item.path, item.labels
        else:
            info = dataset.info(index)
            path, image_labels = info.get("path"), info["target"]["labels"].numpy()
        names.append(os.path.basename(path) if path else f"{stem} #{index}")
        paths.append(os.path.abspath(path) if path else None)
        labels.append(np.asarray(image_labels, dtype=np.int64).reshape(-1))
        if progress is not None and index % LISTING_PROGRESS_STEP == 0:
            progress(f"listing {label}", index, count)
    gt_counts = np.array([len(x) for x in labels], dtype=np.int64)
    gt_image = np.repeat(np.arange(count, dtype=np.int64), gt_counts)
    gt_label = np.concatenate([np.concatenate(labels[i:i + LISTING_PROGRESS_STEP]) for i in range(0, count, LISTING_PROGRESS_STEP)]) \
        if labels else np.zeros(0, np.int64)  # in slices: one C call over 118 000 arrays holds the interpreter lock
    return Catalogue(names, gt_counts, gt_image, gt_label, paths)


def entries_of(source: Source) -> list[ImageEntry]:
    """One entry per image of ``source``, named after its file (or its index)."""
    return list(source.entries)


def load_image(entry: ImageEntry, max_side: int = DISPLAY_MAX_SIDE, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Decode an entry for display; raises :class:`ImageLoadError` with a message naming the file.

    Files are decoded with ``frcnn_core.data``'s conversion to 8-bit RGB (so the model sees
    what ``frcnn`` sees); one larger than ``max_side`` is reduced while decoding.
    """
    try:
        info = entry.info()
    except Exception as exc:  # the dataset's own errors name the record
        raise ImageLoadError(f"{entry.name}: cannot read: {exc}") from exc
    path = info.get("path") or ""
    where = path or entry.name
    height, width = (int(v) for v in info["size"])
    if height * width > max_pixels:
        raise ImageLoadError(
            f"{where}: {width}x{height} pixels ({height * width / 1e6:.0f} MP) is larger than the "
            f"{max_pixels / 1e6:.0f} MP the viewer opens; downscale it first"
        )
    target = info["target"]
    notes = _mode_notes(Path(path)) if path else []
    reduced = (max(1, round(width * max_side / max(height, width))), max(1, round(height * max_side / max(height, width))))
    try:
        if not path:
            pixels = _generated_pixels(entry)
        elif max(height, width) > max_side:
            pixels = _reduced_pixels(Path(path), reduced)
            notes.append(f"{width}x{height} pixels: shown and run downscaled to {reduced[0]}x{reduced[1]}; exports use the original pixels")
        else:
            pixels = read_rgb(path)
    except Exception as exc:  # PIL and the loaders raise many types for bad files
        raise ImageLoadError(f"{where}: cannot read as an image: {exc}") from exc
    scale = (pixels.shape[1] / width, pixels.shape[0] / height)
    names = list(entry.source.class_names)
    labels = target["labels"].tolist()
    pixels = np.ascontiguousarray(pixels)
    return LoadedImage(
        entry=entry,
        pixels=pixels,
        tensor=torch.from_numpy(pixels).permute(2, 0, 1).float().div_(255.0).contiguous(),
        gt_boxes=(target["boxes"].numpy().reshape(-1, 4) * (scale * 2)).astype(np.float32),
        gt_names=[names[label - 1] if 0 < label <= len(names) else f"class {label}" for label in labels],
        difficult=target["difficult"].numpy().astype(bool).reshape(-1),
        display_scale=scale,
        original_size=(height, width),
        notes=[f"{Path(where).name}: {note}" for note in notes],
    )


def thumbnail_pixels(entry: ImageEntry, max_side: int, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """``[h, w, 3]`` uint8 of ``entry`` reduced to at most ``max_side`` pixels a side (for the list).

    Decoded as :func:`load_image` decodes a large image (a JPEG straight at 1/2, 1/4 or 1/8
    scale, then box-filtered); generated images and video frames through the dataset. Raises
    :class:`ImageLoadError` naming the file, as :func:`load_image` does.
    """
    try:
        info = entry.info()
    except Exception as exc:  # the dataset's own errors name the record
        raise ImageLoadError(f"{entry.name}: cannot read: {exc}") from exc
    path = info.get("path") or ""
    height, width = (int(v) for v in info["size"])
    if height * width > max_pixels:
        raise ImageLoadError(f"{path or entry.name}: {width}x{height} pixels is larger than the {max_pixels / 1e6:.0f} MP the viewer opens")
    scale = min(1.0, max_side / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    try:
        if path:
            return _reduced_pixels(Path(path), size)
        pixels = _generated_pixels(entry)
        return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BOX)) if scale < 1 else pixels
    except Exception as exc:  # PIL and the loaders raise many types for bad files
        raise ImageLoadError(f"{path or entry.name}: cannot read as an image: {exc}") from exc


def _generated_pixels(entry: ImageEntry) -> np.ndarray:
    image, _ = entry.source.dataset[entry.index]
    return (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def _reduced_pixels(path: Path, size: tuple[int, int]) -> np.ndarray:
    """Decode ``path`` box-filtered down to ``size`` ``(W, H)``, never as a full-size float copy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size was checked before
        with Image.open(path) as im:
            im.draft("RGB", size)  # a JPEG decodes straight at 1/2, 1/4 or 1/8 scale
            if im.mode in ("L", "RGB"):
                return to_rgb8(im.resize(size, Image.Resampling.BOX))
            return np.asarray(Image.fromarray(to_rgb8(im)).resize(size, Image.Resampling.BOX))


def _mode_notes(path: Path) -> list[str]:
    """What the conversion to 8-bit RGB changes for this file (read from its header only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                mode = im.mode
    except Exception:  # the decoder reports unreadable files itself
        return []
    return [MODE_NOTES[mode]] if mode in MODE_NOTES else []

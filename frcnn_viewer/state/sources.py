"""What the user opened, as ``frcnn_core.data`` datasets, and images loaded for display.

Everything is read through ``frcnn_core.data`` (the loaders the CLI uses), so the viewer
sees the same pixels, boxes, classes and image ids as ``frcnn detect`` and ``frcnn train``.
Files and plain folders become one image-folder dataset, exactly as ``frcnn detect IMAGES``
builds it; a COCO JSON, a VOC directory or ``shapes`` become their own datasets.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from frcnn_core.data import ImageFolderDataset, open_dataset, read_rgb
from frcnn_core.data.images import to_rgb8

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


@dataclass
class Source:
    """One thing the user opened: a dataset and how to name it."""

    label: str
    dataset: object
    annotated: bool

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(getattr(self.dataset, "class_names", ()) or ())


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


def _is_dataset(path: Path) -> bool:
    """A COCO file, a VOC directory or a folder of images with labelImg XML files."""
    if path.is_file():
        return path.suffix.lower() == ".json"
    return path.is_dir() and ((path / "Annotations").is_dir() or any(path.glob("*.xml")))


def open_sources(specs: list[str | Path]) -> tuple[list[Source], list[str]]:
    """Open files, folders, COCO JSON files, VOC directories, ``shapes`` or ``composite``.

    Returns the sources that opened and one message per problem (a missing path, a
    malformed dataset, the files a dataset skipped); nothing raises for bad input.
    """
    sources: list[Source] = []
    problems: list[str] = []
    loose: list[str] = []
    for spec in specs:
        text = str(spec)
        path = Path(text).expanduser()
        if text in GENERATED or _is_dataset(path):
            split = "val" if text in GENERATED else "trainval"
            _add(sources, problems, text, lambda: open_dataset(text, split=split), annotated=True)
        elif path.exists():
            loose.append(str(path))
        else:
            problems.append(f"{text}: no such file or folder")
    if loose:
        label = loose[0] if len(loose) == 1 else f"{len(loose)} files and folders"
        _add(sources, problems, label, lambda: ImageFolderDataset(loose), annotated=False)
    return sources, problems


def _add(sources: list[Source], problems: list[str], label: str, build, annotated: bool) -> None:
    try:
        dataset = build()
    except Exception as exc:  # a dataset's own errors name the file and the record
        problems.append(f"{label}: {exc}")
        return
    problems += [f"{label}: {problem}" for problem in getattr(dataset, "problems", ())]
    if len(dataset) == 0:
        problems.append(f"{label}: no images found")
        return
    sources.append(Source(label, dataset, annotated and bool(getattr(dataset, "class_names", ()))))


def entries_of(source: Source) -> list[ImageEntry]:
    """One entry per image of ``source``, named after its file (or its index)."""
    entries = []
    for index in range(len(source.dataset)):
        path = source.dataset.info(index).get("path")
        name = Path(path).name if path else f"{source.label} #{index}"
        entries.append(ImageEntry(source, index, name))
    return entries


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

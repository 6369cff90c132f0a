"""Retraining on what is labelled: which folder, which classes, from where. Plain Python, no Qt.

:func:`retrain_keywords` turns the open images and the training run already under way into
the keywords of :meth:`TrainingController.start <frcnn_viewer.training.controller.TrainingController.start>`:
the data is the folder of the current image's labelImg files (a flat folder, or a VOC
directory), opened as a dataset by :func:`frcnn_core.data.open_dataset` (only images with
an annotation file are listed), with the annotation mode's class list (so the model knows
every class of it, in its order), :data:`VAL_FRACTION` of it held out for validation
(:func:`frcnn_core.data.loading.split_dataset`), and checkpoints every
:data:`CHECKPOINT_EVERY` iterations so the suggestions follow the training closely. When the
viewer's model is the last checkpoint of a run started here for the same classes, the run
is continued (:data:`ROUND_ITERATIONS` more), else a new one starts from the ``cpu`` preset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...state.sources import ImageEntry
from .files import AnnotationFiles

VAL_FRACTION = 0.2
ROUND_ITERATIONS = 300
CHECKPOINT_EVERY = 50
MIN_LABELLED = 2  # one to train on, one to validate on


@dataclass(frozen=True)
class RunSoFar:
    """The training run this window started last: its checkpoint, iterations done, classes."""

    checkpoint: str | None
    iteration: int
    class_names: tuple[str, ...]


def labelled_folder(files: AnnotationFiles, entry: ImageEntry) -> Path:
    """The dataset folder holding ``entry``'s annotation file: the image's folder (labelImg
    files beside the images) or the VOC root (files in its ``Annotations/``).

    Raises:
        ValueError: the files go to a folder of the user's choice (no dataset reads that
            layout), or the image has no file.
    """
    image = files.image_path(entry)
    xml = files.xml_path(entry)
    if image is None or xml is None:
        raise ValueError(f"{entry.name}: a generated image has no annotation file to train on")
    if xml.parent == image.parent:
        return image.parent
    if xml.parent.name == "Annotations" and (xml.parent.parent / "Annotations").is_dir() and image.parent.parent == xml.parent.parent:
        return xml.parent.parent
    raise ValueError(f"the annotation files go to {xml.parent}, apart from the images in {image.parent}; "
                     "retraining reads labelImg files beside the images or a VOC directory")


def retrain_keywords(files: AnnotationFiles, entries: Sequence[ImageEntry], index: int, class_names: Sequence[str],
                     model_checkpoint: str | None, run: RunSoFar | None, iterations: int = ROUND_ITERATIONS) -> dict:
    """The keywords of ``TrainingController.start`` that train on the labelled images of the
    folder of entry ``index`` (see the module docstring).

    Raises:
        ValueError: no class, fewer than :data:`MIN_LABELLED` labelled images, or a layout no
            dataset reads (the message says which).
    """
    folder = labelled_folder(files, entries[index])
    names = tuple(class_names)
    if not names:
        raise ValueError("no classes yet: label some boxes first")
    labelled = sum(1 for e in entries if (xml := files.xml_path(e)) is not None and xml.exists() and labelled_folder_or_none(files, e) == folder)
    if labelled < MIN_LABELLED:
        raise ValueError(f"{folder}: {labelled} labelled images; save at least {MIN_LABELLED} to train (one is held out for validation)")
    keywords = {"data": str(folder), "class_names": names, "val_fraction": VAL_FRACTION, "device": "auto"}
    if run is not None and run.checkpoint is not None and run.checkpoint == model_checkpoint and run.class_names == names:
        return {**keywords, "resume": run.checkpoint, "iterations": run.iteration + iterations}
    return {**keywords, "preset": "cpu", "iterations": iterations, "checkpoint_every": CHECKPOINT_EVERY}


def labelled_folder_or_none(files: AnnotationFiles, entry: ImageEntry) -> Path | None:
    try:
        return labelled_folder(files, entry)
    except ValueError:
        return None

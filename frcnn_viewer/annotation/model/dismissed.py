"""The label issues a user dismissed, kept in ``.frcnn-dismissed.json`` beside the annotations.

Plain Python, no Qt. One file per annotation folder (where the images' VOC files are),
written atomically (:func:`frcnn_core.files.atomic.atomic_write_text`) at each dismissal::

    {
      "schema": "frcnn-viewer/dismissed-label-errors", "version": 1,
      "dismissed": [
        {"image": "a.jpg",              # the image file's name
         "kind": "bad_box",             # frcnn_core LabelErrorKind value
         "label": "cat" | null,         # the labelled box's class (null for "missing")
         "box": [x1, y1, x2, y2]}       # the labelled box, or for "missing" the suggested one (file pixels)
      ]
    }

An issue is the *same* as a dismissed one when the image, the kind and the label are the same
and the boxes overlap at IoU ``>=`` :data:`SAME_BOX_IOU` (``>=`` :data:`SAME_PLACE_IOU` for
``missing``, whose box is the model's and moves a little with each retrained model). A box
edited since (moved, relabelled) is another box: its issues are shown again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from frcnn_core.boxes import pairwise_iou
from frcnn_core.evaluation.label_errors import LabelErrorKind
from frcnn_core.files.atomic import atomic_write_text
from frcnn_core.files.json_input import load_json

DISMISSED_FILE = ".frcnn-dismissed.json"
SCHEMA = "frcnn-viewer/dismissed-label-errors"
VERSION = 1
SAME_BOX_IOU = 0.95
SAME_PLACE_IOU = 0.5


class DismissedFileError(ValueError):
    """A ``.frcnn-dismissed.json`` that cannot be read (one line naming the file and the value)."""


@dataclass(frozen=True)
class Dismissal:
    """One dismissed issue: the image file's name, the kind, the labelled box's class (``None`` for
    ``missing``) and its box (``missing``: the suggested box), ``(x1, y1, x2, y2)`` file pixels."""

    image: str
    kind: LabelErrorKind
    label: str | None
    box: tuple[float, float, float, float]

    def to_json(self) -> dict:
        return {"image": self.image, "kind": self.kind.value, "label": self.label, "box": [round(v, 2) for v in self.box]}


def _dismissal(item, path: Path, row: int) -> Dismissal:
    where = f"{path}: dismissed[{row}]"
    if not isinstance(item, dict):
        raise DismissedFileError(f"{where}: expected an object, got {item!r:.60}")
    try:
        kind = LabelErrorKind(item.get("kind"))
    except ValueError:
        valid = ", ".join(k.value for k in LabelErrorKind)
        raise DismissedFileError(f"{where}: kind {item.get('kind')!r:.40} is not one of {valid}") from None
    box, image, label = item.get("box"), item.get("image"), item.get("label")
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
        raise DismissedFileError(f"{where}: box must be [x1, y1, x2, y2] numbers, got {box!r:.60}")
    if not isinstance(image, str) or not (label is None or isinstance(label, str)):
        raise DismissedFileError(f"{where}: image must be a file name and label a class name or null")
    return Dismissal(image, kind, label, tuple(float(v) for v in box))


def read_dismissed(folder: Path) -> list[Dismissal]:
    """The dismissals kept in ``folder``'s sidecar; ``[]`` when it has none.

    Raises:
        DismissedFileError: the file exists but is not a dismissal list (naming it and the value).
    """
    path = Path(folder) / DISMISSED_FILE
    if not path.exists():
        return []
    document = load_json(path, "a list of dismissed label issues", DismissedFileError)
    if not isinstance(document, dict) or document.get("schema") != SCHEMA or not isinstance(document.get("dismissed"), list):
        raise DismissedFileError(f"{path}: not a list of dismissed label issues (expected schema {SCHEMA!r} and a 'dismissed' list)")
    return [_dismissal(item, path, row) for row, item in enumerate(document["dismissed"])]


def write_dismissed(folder: Path, dismissals: list[Dismissal]) -> Path:
    """Write ``folder``'s sidecar atomically; returns its path."""
    path = Path(folder) / DISMISSED_FILE
    document = {"schema": SCHEMA, "version": VERSION, "dismissed": [d.to_json() for d in dismissals]}
    atomic_write_text(path, json.dumps(document, indent=1) + "\n")
    return path


class DismissedStore:
    """The dismissals of every annotation folder seen, each sidecar read once (then kept in memory
    and written back at each dismissal). A sidecar that cannot be read counts as empty and is
    reported once through ``report(text)``; it is not overwritten until the user dismisses
    something there (which then replaces it). Lookups go through an index by image, kind and
    label, so checking a list of issues costs one IoU per dismissal of the same image and kind."""

    def __init__(self, report=None) -> None:
        self._folders: dict[Path, list[Dismissal]] = {}
        self._index: dict[Path, dict[tuple, list[Dismissal]]] = {}
        self._report = report or (lambda text: None)

    def of(self, folder: Path) -> list[Dismissal]:
        """The dismissals kept for ``folder`` (its sidecar read the first time)."""
        folder = Path(folder)
        if folder not in self._folders:
            try:
                dismissals = read_dismissed(folder)
            except DismissedFileError as exc:
                self._report(str(exc))
                dismissals = []
            self._folders[folder], self._index[folder] = [], {}
            for dismissal in dismissals:
                self._keep(folder, dismissal)
        return self._folders[folder]

    def _keep(self, folder: Path, dismissal: Dismissal) -> None:
        self._folders[folder].append(dismissal)
        self._index[folder].setdefault((dismissal.image, dismissal.kind, dismissal.label), []).append(dismissal)

    def holds(self, folder: Path, dismissal: Dismissal) -> bool:
        """Whether ``dismissal`` was dismissed before (module docstring)."""
        return bool(self.held(folder, [dismissal])[0])

    def held(self, folder: Path, dismissals: list[Dismissal]) -> np.ndarray:
        """``[N]`` bool: which of ``dismissals`` (of one folder) were dismissed before; one IoU
        matrix per image, kind and label."""
        self.of(folder)
        index = self._index[Path(folder)]
        out = np.zeros(len(dismissals), bool)
        groups: dict[tuple, list[int]] = {}
        for i, d in enumerate(dismissals):
            groups.setdefault((d.image, d.kind, d.label), []).append(i)
        for key, rows in groups.items():
            kept = index.get(key)
            if not kept:
                continue
            least = SAME_PLACE_IOU if key[1] is LabelErrorKind.MISSING else SAME_BOX_IOU
            iou = pairwise_iou(torch.tensor([dismissals[i].box for i in rows], dtype=torch.float64),
                               torch.tensor([d.box for d in kept], dtype=torch.float64))
            out[rows] = (iou >= least).any(dim=1).numpy()
        return out

    def add(self, folder: Path, dismissal: Dismissal) -> Path:
        """Keep ``dismissal`` and write ``folder``'s sidecar; returns its path.

        Raises:
            OSError: the sidecar could not be written (the dismissal is kept in memory).
        """
        folder = Path(folder)
        if not self.holds(folder, dismissal):
            self._keep(folder, dismissal)
        return write_dismissed(folder, self._folders[folder])

    def forget(self) -> None:
        """Read every sidecar again next time (a folder opened anew)."""
        self._folders.clear()
        self._index.clear()

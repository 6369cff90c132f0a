"""The viewer's document: images, the current image's GT, anchor labels and trace, selection.

Plain Python, no Qt (napari's model/view split): the Qt widgets observe :attr:`Document.changed`
and :attr:`Document.message` and call the methods here with what the user asked for.
``changed`` is emitted with a frozenset of :class:`Change` members.

The document decides nothing about the detector: anchor labels come from
:func:`frcnn_core.assign_anchors` (or the trace of a training step), TP/FP/missed from
:func:`frcnn_core.evaluation.metrics.match_image` (the matching of ``frcnn eval``) through :mod:`frcnn_viewer.state.results`, and the
parameters are a :class:`frcnn_core.DetectorConfig` edited by its own field names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from frcnn_core import AnchorAssignment, DetectorConfig, FeatureLevel, Trace, assign_anchors
from frcnn_core.config import ANCHOR_ASSIGNMENT_FIELDS, INFERENCE_FIELDS, unknown_fields
from frcnn_core.evaluation.diagnose import ErrorCosts, ImageDiagnosis, diagnosis_report
from frcnn_core.evaluation.metrics import ImageMatching
from frcnn_core.trace.trace import SINGLE_LEVEL_NAME

from .changes import Change
from .diagnosis import (
    DiagnosisSettings,
    DiagnosisSummary,
    ErrorKind,
    describe_diagnosis_at,
    diagnose_image,
    in_original_pixels,
    ranked_by_kind,
    same_verdicts,
    summarize,
)
from .events import Event
from .layer_options import LayerName, OptionControl
from .layer_registry import new_layer_list
from .layers import Layer, LayerList
from .levels import LevelGrid, geometry_grid, level_label, trace_grids
from .models import ModelInfo, TraceRequest, model_labels
from .provenance import Provenance, provenance_of
from .results import ImageResult, image_result
from .sources import ImageEntry, ImageLoadError, LoadedImage, Source, entries_of, load_image

ANCHOR_SAMPLING_SEED = 0  # the anchor mini-batch shown is drawn with this seed: the same every time

# What the parameter panel edits: DetectorConfig fields, by their own names.
PARAMETER_FIELDS = ANCHOR_ASSIGNMENT_FIELDS + INFERENCE_FIELDS


@dataclass
class Message:
    level: str  # "info", "warning" or "error"
    text: str


@dataclass
class Document:
    """State of the viewer window; see the module docstring for the events."""

    layers: LayerList = field(default_factory=new_layer_list)
    entries: list[ImageEntry] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)  # what the entries come from, in the order opened
    index: int | None = None
    image: LoadedImage | None = None
    class_names: tuple[str, ...] = ()
    model: ModelInfo | None = None
    parameters: DetectorConfig = field(default_factory=DetectorConfig)
    anchor_state: AnchorAssignment | None = None
    trace: Trace | None = None
    matching: ImageMatching | None = None
    results: dict[int, ImageResult] = field(default_factory=dict)
    selected_cell: tuple[int, int] | None = None  # on the first level's grid
    selected_point: tuple[float, float] | None = None  # where that cell was picked: each level's cell there
    selected_detection: int | None = None
    messages: list[Message] = field(default_factory=list)
    changed: Event = field(default_factory=Event, repr=False)
    message: Event = field(default_factory=Event, repr=False)
    _trace_key: int = 0  # identifies the newest trace request
    _answered_key: int = -1  # a request key that a trace from outside the worker already answers
    results_key: int = 0  # identifies the model and proposal settings that results belong to
    diagnosis_settings: DiagnosisSettings = field(default_factory=DiagnosisSettings)
    diagnosis: ImageDiagnosis | None = None  # the current image's, from its trace and GT
    list_filter: ErrorKind | None = None  # the image list shows only the images holding one
    costs: ErrorCosts | None = None  # what fixing each error is worth over diagnosed(), from the worker
    _costs_key: int = 0  # identifies the newest costs request
    _costs_asked: tuple[ImageDiagnosis, ...] = ()  # the diagnoses of the newest request
    _costs_of: tuple[ImageDiagnosis, ...] = ()  # the diagnoses ``costs`` was computed from

    def __post_init__(self) -> None:
        self.layers.changed.connect(self._layer_changed)

    def _layer_changed(self, _layer: Layer, what: object) -> None:
        """An option the document's numbers depend on (its ``announces``) is announced as a document change."""
        if isinstance(what, OptionControl) and what.announces is not None:
            self.changed.emit(frozenset({what.announces}))

    @property
    def display_threshold(self) -> float:
        """The detections layer's score threshold: the detections shown, counted (TP, FP, missed)
        and ranked by. Display only: the model outputs what ``parameters.score_thresh`` lets through."""
        return self.layers[LayerName.DETECTIONS].options.score_threshold

    # ----- messages -------------------------------------------------------------------
    def report(self, level: str, text: str) -> None:
        """Record a message for the user (the window shows it in the status bar and the log)."""
        self.messages.append(Message(level, text))
        self.message.emit(self.messages[-1])

    # ----- images ---------------------------------------------------------------------
    def add_sources(self, sources: list[Source]) -> int:
        """Append the images of ``sources`` to the list; returns the index of the first new one."""
        first = len(self.entries)
        for source in sources:
            self.entries += entries_of(source)
            if source not in self.sources:
                self.sources.append(source)
            for name in source.class_names:
                if name not in self.class_names:
                    self.class_names += (name,)
        self.changed.emit(frozenset({Change.ENTRIES}))
        return first

    def listed_indices(self, source: Source) -> list[int] | None:
        """The list index of each of ``source``'s images when every one of them is already listed
        (same files, through any source opened before), else ``None``."""
        starts, position = [], 0
        for opened in self.sources:  # add_sources appends each source's entries in one run
            starts.append(position)
            position += len(opened.entries)
        if position != len(self.entries):  # a source listed twice: no telling which run is which
            return None
        found = []
        for path in source.catalogue.paths:
            hit = next(((start, i) for start, opened in zip(starts, self.sources) if (i := opened.index_of_path(path)) is not None), None)
            if hit is None:
                return None
            found.append(hit[0] + hit[1])
        return found

    def set_index(self, index: int) -> bool:
        """Show image ``index``; on a bad file the message says why and nothing else changes."""
        if not 0 <= index < len(self.entries):
            raise IndexError(f"image index {index} is outside 0..{len(self.entries) - 1}")
        try:
            image = load_image(self.entries[index])
        except ImageLoadError as exc:
            self.report("error", str(exc))
            return False
        for note in image.notes:
            self.report("warning", note)
        had_diagnosis = self.diagnosis is not None
        self.index, self.image = index, image
        self.trace = self.matching = self.diagnosis = None
        self.selected_cell = self.selected_point = self.selected_detection = None
        self._trace_key += 1
        self._update_anchors()
        self.changed.emit(frozenset({Change.IMAGE, Change.ANCHORS, Change.TRACE, Change.SELECTION} | ({Change.DIAGNOSIS} if had_diagnosis else set())))
        return True

    def step(self, delta: int) -> bool:
        """Show the next (``delta=1``) or previous (``-1``) image in list order, if any."""
        target = 0 if self.index is None else self.index + delta
        return 0 <= target < len(self.entries) and self.set_index(target)

    def set_class_names(self, names: Sequence[str]) -> None:
        """Replace the class names (the annotation mode's class list adds, renames and removes
        them) and emit :attr:`Change.CLASSES`: the window then rebuilds the untrained model
        for them, so GT boxes of a new class get its label in the traced target."""
        names = tuple(names)
        if names != self.class_names:
            self.class_names = names
            self.changed.emit(frozenset({Change.CLASSES}))

    def set_ground_truth(self, boxes: np.ndarray, names: list[str], difficult: np.ndarray) -> None:
        """Replace the current image's GT (annotation mode) and relabel the anchors at once.

        ``boxes`` ``[G, 4]`` xyxy displayed pixels, ``names`` and ``difficult`` ``[G]`` per box.
        The image's source counts as annotated from then on (an image annotated by hand has
        GT, possibly none). The trace keeps the GT it was computed with until the next one.
        """
        image = self.image
        image.entry.source.annotated = True
        image.gt_boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        image.gt_names = list(names)
        image.difficult = np.asarray(difficult, dtype=bool).reshape(-1)
        self._update_anchors()
        self._update_diagnosis()
        aspects = {Change.ANCHORS} | ({Change.DIAGNOSIS} if self.diagnosis is not None else set())
        if self.model is not None and not self.model.anchors_from_parameters:
            self._trace_key += 1  # its anchor labels come from a trace with the new GT
            aspects.add(Change.PROPOSALS)
        self.changed.emit(frozenset(aspects))

    # ----- model and parameters -------------------------------------------------------
    def set_model(self, model: ModelInfo) -> None:
        """Adopt the worker's model: its configuration becomes the panel's parameters."""
        self.model = model
        self.parameters = model.config
        self.trace = self.matching = self.diagnosis = None
        self.selected_detection = None
        self.results.clear()
        self.results_key += 1
        self._trace_key += 1
        self._update_anchors()
        self.changed.emit(frozenset({Change.MODEL, Change.PARAMS, Change.ANCHORS, Change.TRACE, Change.SELECTION, Change.RESULTS, Change.DIAGNOSIS}))

    def set_parameters(self, **changes) -> bool:
        """Change :data:`PARAMETER_FIELDS` of :attr:`parameters` by their ``DetectorConfig`` names.

        Anchor and assignment fields relabel the anchors at once (no model needed); inference
        fields (and for a torchvision model its labelling rule and input size,
        :meth:`model_run_fields`) make the window run the model again. A name that is not a
        ``DetectorConfig`` field, or not one the viewer adjusts for this model
        (:meth:`adjustable_fields`), is a ``ValueError`` listing the valid ones; a bad value is
        reported and leaves the parameters as they were (returns ``False``).
        """
        unknown_fields(DetectorConfig, changes)
        adjustable = self.adjustable_fields()
        fixed = sorted(set(changes) - set(adjustable))
        if fixed:
            raise ValueError(f"{', '.join(fixed)} cannot be changed in the viewer; adjustable: {', '.join(adjustable)}")
        changes = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
        try:
            parameters = self.parameters.replace(**changes)
        except (TypeError, ValueError) as exc:
            self.report("error", f"parameters not applied: {exc}")
            return False
        changed = {k for k in changes if getattr(parameters, k) != getattr(self.parameters, k)}
        self.parameters = parameters
        aspects = set()
        if changed & set(ANCHOR_ASSIGNMENT_FIELDS):
            self.selected_cell = self.selected_point = None
            self._update_anchors()
            aspects |= {Change.PARAMS, Change.ANCHORS, Change.SELECTION}
        if changed & set(self.model_run_fields()):
            self._trace_key += 1
            self.results_key += 1
            self.results.clear()
            aspects |= {Change.PARAMS, Change.PROPOSALS, Change.RESULTS}
        if aspects:
            self.changed.emit(frozenset(aspects))
        return True

    def adjustable_fields(self) -> tuple[str, ...]:
        """The :data:`PARAMETER_FIELDS` the current model can take (a torchvision model has no
        setting for our anchor grid: its anchors are its ``AnchorGenerator``'s)."""
        fixed = self.model.fixed_fields if self.model is not None else frozenset()
        return tuple(name for name in PARAMETER_FIELDS if name not in fixed)

    def model_run_fields(self) -> tuple[str, ...]:
        """The parameters that take effect by running the model again: the proposal and detection
        settings, and for a model whose anchors come from its trace (torchvision) its anchor
        labelling rule and input size too."""
        if self.model is None or self.model.anchors_from_parameters:
            return INFERENCE_FIELDS
        adjustable = self.adjustable_fields()
        return INFERENCE_FIELDS + tuple(name for name in ANCHOR_ASSIGNMENT_FIELDS if name in adjustable)

    def inference_changes(self) -> dict:
        """The parameters of :meth:`model_run_fields` as ``DetectorConfig`` keywords, for the worker."""
        return {name: getattr(self.parameters, name) for name in self.model_run_fields()}

    def _update_anchors(self) -> None:
        """The anchors and their labels shown: laid and labelled from the parameters (our
        detector, no model run), or those of the trace (a torchvision model's FPN anchors,
        labelled by its own rule; ``None`` until the trace arrives or without GT)."""
        if self.image is None:
            self.anchor_state = None
            return
        if self.model is not None and not self.model.anchors_from_parameters:
            self.anchor_state = self.trace.anchor_assignment() if self.trace is not None else None
            return
        gt = self.image.gt_boxes if self.image.annotated else None
        generator = torch.Generator().manual_seed(ANCHOR_SAMPLING_SEED)
        self.anchor_state = assign_anchors(self.image.size, gt, self.parameters, generator)

    # ----- trace ----------------------------------------------------------------------
    def trace_request(self) -> TraceRequest | None:
        """The current image and GT for the worker, or ``None`` without an image or model, or
        while the trace shown came from outside the worker for this very image and settings."""
        if self.image is None or self.model is None or self._answered_key == self._trace_key:
            return None
        target = None
        if self.image.annotated:
            labels = model_labels(self.image.gt_names, self.model.config)
            known = labels > 0  # the worker reports a checkpoint that lacks some classes
            target = {"boxes": torch.from_numpy(self.image.gt_boxes[known]), "labels": torch.from_numpy(labels[known])}
        return TraceRequest(self._trace_key, self.image.tensor, target, self.inference_changes())

    def set_trace(self, key: int, trace: Trace) -> bool:
        """Accept the worker's trace if it answers the latest request; returns whether it did."""
        if key != self._trace_key or self.image is None:
            return False
        self.trace = trace
        self.selected_detection = None
        self.matching = image_result(self.image, trace.detections, self.model.config).matching
        aspects = {Change.TRACE, Change.SELECTION, Change.DIAGNOSIS}
        if not self.model.anchors_from_parameters:
            self._update_anchors()
            aspects.add(Change.ANCHORS)
        self._update_diagnosis()
        self.changed.emit(frozenset(aspects))
        return True

    def show_trace(self, index: int, trace: Trace, image: LoadedImage, anchor_state: AnchorAssignment | None = None) -> bool:
        """Show a trace made outside the inference worker (a training step's) on entry ``index``.

        ``image`` is what the trace was made from (e.g. the entry flipped, as the step saw it),
        ``anchor_state`` the anchor labels to show (e.g. the step's own sample; default: computed
        from the parameters). No trace is requested from the worker for it (``trace_request()``
        is ``None``) until the image, model or proposal settings change. Returns whether it is shown.
        """
        if self.model is None or not 0 <= index < len(self.entries):
            return False
        self.index, self.image, self.trace = index, image, trace
        self.selected_cell = self.selected_point = self.selected_detection = None
        self.matching = image_result(image, trace.detections, self.model.config).matching
        if anchor_state is None:
            self._update_anchors()
        else:
            self.anchor_state = anchor_state
        self._trace_key += 1  # drops the answer to any request still out
        self._answered_key = self._trace_key
        self._update_diagnosis()
        self.changed.emit(frozenset({Change.IMAGE, Change.ANCHORS, Change.TRACE, Change.SELECTION, Change.DIAGNOSIS}))
        return True

    def set_results(self, key: int, results: dict[int, ImageResult]) -> bool:
        """Store "analyse all" results (merged with earlier ones) for sorting and export, unless
        the model or the proposal settings changed since they were asked for (``key``)."""
        if key != self.results_key:
            return False
        self.results.update(results)
        self.changed.emit(frozenset({Change.RESULTS}))
        return True

    def ranked(self, key: str) -> list[int]:
        """Entry indices worst first by ``key``: ``"missed"`` or ``"false_positives"`` (most first,
        at the :attr:`display_threshold`), ``"ap"`` (lowest first) or ``"uncertainty"``
        (the model's uncertainty, :attr:`ImageResult.uncertainty`, highest first; needs no GT);
        ``"order"`` is list order. Images without results, or without GT for the key, keep list
        order at the end.

        While :attr:`list_filter` is set (:meth:`set_list_filter`), only the images whose diagnosis
        holds that stage or false-positive type, the most first, whatever ``key``."""
        if self.list_filter is not None:
            return ranked_by_kind(self.diagnosed(), self.list_filter)
        indices = list(range(len(self.entries)))
        if key == "order":
            return indices
        threshold = self.display_threshold

        def badness(i: int) -> float | None:
            result = self.results.get(i)
            if result is not None and key == "uncertainty":
                return result.uncertainty
            if result is None or result.matching is None:
                return None
            if key == "ap":
                ap = result.matching.average_precision()
                return None if ap is None else -ap
            return result.errors(threshold)[key]

        scored = [(badness(i), i) for i in indices]
        known = sorted(((b, i) for b, i in scored if b is not None), key=lambda pair: (-pair[0], pair[1]))
        return [i for _, i in known] + [i for b, i in scored if b is None]

    # ----- diagnosis: why was it missed? (frcnn_core.evaluation.diagnose) ----------------------------
    def set_diagnosis_settings(self, iou: float | None = None, score_threshold: float | None = None) -> bool:
        """Change the diagnosis rule's IoU and score threshold; the current image's verdicts are
        recomputed at once (no model needed), the list's are stale until analysed again
        (:meth:`stale_diagnoses`). A bad value is reported and changes nothing (returns ``False``)."""
        settings = self.diagnosis_settings
        try:
            settings = DiagnosisSettings(settings.iou if iou is None else float(iou), settings.score_threshold if score_threshold is None else float(score_threshold))
        except (TypeError, ValueError) as exc:
            self.report("error", f"diagnosis settings not applied: {exc}")
            return False
        if settings != self.diagnosis_settings:
            self.diagnosis_settings = settings
            self._update_diagnosis()
            self.changed.emit(frozenset({Change.DIAGNOSIS}))
        return True

    def _update_diagnosis(self) -> None:
        """Diagnose the current image from its trace and its GT as it is now; when the trace is
        the worker's (the model and settings of the "analyse all" results), the image's result
        takes the new verdicts too, so the list's counts follow a GT edit."""
        if self.image is None or self.trace is None or self.model is None:
            self.diagnosis = None
            return
        self.diagnosis = diagnose_image(self.image, self.trace, self.model.config, self.diagnosis_settings)
        result = self.results.get(self.index)
        if result is not None and self._answered_key != self._trace_key:
            if result.diagnosis is None or self.diagnosis is None or not same_verdicts(result.diagnosis, self.diagnosis):
                result.diagnosis = self.diagnosis  # kept when it says the same: the error costs stay valid

    def diagnosed(self) -> dict[int, ImageDiagnosis]:
        """Entry index -> diagnosis, for the analysed images with GT diagnosed at the current settings."""
        return {i: r.diagnosis for i, r in sorted(self.results.items()) if self.diagnosis_settings.made(r.diagnosis)}

    def stale_diagnoses(self) -> list[int]:
        """Entry indices of analysed images whose diagnosis was made at other settings."""
        return [i for i, r in sorted(self.results.items()) if r.diagnosis is not None and not self.diagnosis_settings.made(r.diagnosis)]

    def diagnosis_summary(self) -> DiagnosisSummary:
        """Counts per stage and per false-positive type over :meth:`diagnosed`."""
        return summarize(self.diagnosed().values())

    def costs_request(self) -> tuple[int, list[ImageDiagnosis]] | None:
        """What to hand the worker for :func:`frcnn_core.evaluation.diagnose.error_costs`: ``(key,
        diagnoses)`` when :meth:`diagnosed` changed since the last request, else ``None``. With
        nothing diagnosed the costs are cleared here."""
        asked = tuple(self.diagnosed().values())
        if _same_objects(asked, self._costs_asked):
            return None
        self._costs_key += 1
        self._costs_asked = asked
        if not asked:
            self.costs, self._costs_of = None, ()
            self.changed.emit(frozenset({Change.COSTS}))
            return None
        return self._costs_key, list(asked)

    def set_costs(self, key: int, costs: ErrorCosts) -> bool:
        """Accept the worker's error costs if they answer the newest request; returns whether they did."""
        if key != self._costs_key:
            return False
        self.costs, self._costs_of = costs, self._costs_asked
        self.changed.emit(frozenset({Change.COSTS}))
        return True

    def costs_current(self) -> bool:
        """Whether :attr:`costs` are those of :meth:`diagnosed` as it is now."""
        return self.costs is not None and _same_objects(tuple(self.diagnosed().values()), self._costs_of)

    def set_list_filter(self, kind: ErrorKind | None) -> None:
        """Show only the images holding ``kind`` (a stage or a false-positive type) in the image
        list, the most first (:meth:`ranked`); ``None`` shows them all again."""
        if kind is not self.list_filter:
            self.list_filter = kind
            self.changed.emit(frozenset({Change.LIST_FILTER}))

    def diagnosis_report(self) -> dict:
        """:func:`frcnn_core.evaluation.diagnose.diagnosis_report` of :meth:`diagnosed` in list order (the
        JSON of ``frcnn diagnose``): boxes in the files' pixels, ``image_id`` and ``file_name``
        as the dataset gives them."""
        diagnoses, images = [], []
        for i, diagnosis in self.diagnosed().items():
            info = self.entries[i].info()
            diagnoses.append(in_original_pixels(diagnosis, self.results[i].display_scale))
            images.append({"image_id": info["image_id"], "file_name": info.get("path") or ""})
        config = self.model.config
        class_names = list(config.class_names) or [config.label_name(k) for k in range(1, config.num_classes + 1)]
        settings = self.diagnosis_settings
        costs = self.costs if self.costs_current() else None  # else computed here
        return diagnosis_report(diagnoses, images, class_names, settings.iou, settings.score_threshold, costs)

    def level_grids(self) -> list[LevelGrid]:
        """The feature levels of the anchors shown, with their rows and cell arithmetic: the one
        grid of the parameters (our detector, ``C4``), or every level of the trace (a torchvision
        FPN, ``P2``…``P6``); none before a torchvision model's first trace."""
        if self.image is None:
            return []
        if self.model is None or self.model.anchors_from_parameters:
            return [geometry_grid(self.anchor_state.geometry, SINGLE_LEVEL_NAME)] if self.anchor_state is not None else []
        return trace_grids(self.trace) if self.trace is not None else []

    def feature_levels(self) -> tuple[FeatureLevel, ...]:
        """The feature levels of the anchors shown (:meth:`level_grids`), for the level choice."""
        return tuple(grid.level for grid in self.level_grids())

    def shown_anchors(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``([N, 4] xyxy original pixels, [N] inside)`` of every anchor shown (``None`` without),
        rows as :meth:`level_grids` says."""
        if self.anchor_state is not None:
            return self.anchor_state.anchors, self.anchor_state.inside
        if self.trace is not None and self.model is not None and not self.model.anchors_from_parameters:
            return self.trace.anchors.numpy(), self.trace.inside.numpy()
        return None

    # ----- selection ------------------------------------------------------------------
    def shown_detections(self) -> np.ndarray:
        """Indices of the current detections at or above the :attr:`display_threshold`."""
        if self.trace is None:
            return np.zeros(0, dtype=np.int64)
        return np.nonzero(self.trace.detections.scores.numpy() >= self.display_threshold)[0]

    def click(self, x: float, y: float) -> None:
        """Select the smallest shown detection under ``(x, y)``; elsewhere pick the feature cell there."""
        hit = None
        if self.layers[LayerName.DETECTIONS].visible and self.trace is not None:
            shown = self.shown_detections()
            boxes = self.trace.detections.boxes.numpy()[shown]
            inside = (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
            if inside.any():
                areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
                candidates = np.nonzero(inside)[0]
                hit = int(shown[candidates[np.argmin(areas[candidates])]])
        if hit is not None:
            self.select_detection(hit)
        else:
            grids = self.level_grids()
            if grids:
                self.selected_cell, self.selected_point = grids[0].geometry.cell_at(x, y), (float(x), float(y))
                self.selected_detection = None
                self.changed.emit(frozenset({Change.SELECTION}))

    def select_cell(self, cell_y: int, cell_x: int) -> None:
        """Pick feature cell ``(cell_y, cell_x)`` of the first level's grid (with several levels,
        the cell of each level at its centre)."""
        self.selected_cell = (int(cell_y), int(cell_x))
        grids = self.level_grids()
        if grids:
            x1, y1, x2, y2 = grids[0].geometry.cell_rect(*self.selected_cell)
            self.selected_point = ((x1 + x2) / 2, (y1 + y2) / 2)
        self.selected_detection = None
        self.changed.emit(frozenset({Change.SELECTION}))

    def select_detection(self, index: int | None) -> None:
        self.selected_detection = index
        self.changed.emit(frozenset({Change.SELECTION}))

    def provenance(self, index: int | None = None) -> Provenance | None:
        """Provenance of detection ``index`` (default: the selected one)."""
        index = self.selected_detection if index is None else index
        if index is None or self.trace is None or not 0 <= index < len(self.trace.detections):
            return None
        return provenance_of(self.trace, index, self.model.config)

    # ----- numbers --------------------------------------------------------------------
    def counts(self) -> dict[str, float | int]:
        """Everything the stats panel shows: anchors, labels, uncovered GT, proposals, detections."""
        counts: dict[str, float | int] = {}
        if self.image is not None:
            counts["gt_boxes"] = len(self.image.gt_boxes)
        if self.anchor_state is not None:
            counts.update(self.anchor_state.counts())
            if self.image is not None and not self.image.annotated:
                counts.pop("gt_without_positive")
        if self.trace is not None:
            trace_counts = self.trace.counts()
            for key in ("anchors", "inside", "pre_nms_proposals", "proposals", "detections", "fg_rois", "bg_rois"):
                if key in trace_counts and key not in counts:
                    counts[key] = trace_counts[key]
            counts["shown_detections"] = len(self.shown_detections())
            if self.matching is not None:
                counts.update(self.matching.summary(self.display_threshold))
        return counts

    def describe_point(self, x: float, y: float) -> str:
        """Status-bar text for the mouse at ``(x, y)``: pixel, feature cell, the positive anchor there."""
        if self.image is None:
            return ""
        parts = [f"x {x:.0f}  y {y:.0f}"]
        grids = self.level_grids()
        if len(grids) == 1:
            parts.append("cell ({}, {})".format(*grids[0].geometry.cell_at(x, y)))
        elif grids:
            levels = [g.level for g in grids]
            parts.append("cells " + "  ".join("{} ({}, {})".format(level_label(g.level, levels), *g.geometry.cell_at(x, y)) for g in grids))
        state = self.anchor_state
        if state is not None:
            anchor = self.hovered_anchor(x, y)
            if anchor is not None:
                g = int(state.matched_gt[anchor])
                dx, dy, dw, dh = state.target_deltas[anchor]
                name = self.image.gt_names[g] if 0 <= g < len(self.image.gt_names) else "?"
                parts.append(
                    f"positive anchor {anchor} -> GT {g} ({name}): IoU {state.max_iou[anchor]:.2f}, "
                    f"target dx {dx:+.2f} dy {dy:+.2f} dw {dw:+.2f} dh {dh:+.2f}"
                )
        verdict = self.describe_diagnosis(x, y)
        if verdict is not None:
            parts.append(verdict)
        return "   ".join(parts)

    def describe_diagnosis(self, x: float, y: float) -> str | None:
        """The measured values of the GT box or false positive under ``(x, y)`` when the
        diagnosis layer is visible (see :func:`frcnn_viewer.state.diagnosis.describe_diagnosis_at`)."""
        if not self.layers[LayerName.DIAGNOSIS].visible or self.model is None:
            return None
        return describe_diagnosis_at(self.diagnosis, x, y, self.model.config.label_name)

    def hovered_anchor(self, x: float, y: float) -> int | None:
        """The positive anchor shown under ``(x, y)`` when the anchor-labels layer is visible."""
        layer = self.layers[LayerName.ANCHOR_LABELS]
        if self.anchor_state is None or not layer.visible or not self.image.annotated:
            return None
        return self.anchor_state.positive_at(x, y, sampled=layer.options.sampled)


def _same_objects(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))

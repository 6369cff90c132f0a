"""What each layer draws, computed from the document as plain arrays (no Qt).

Each ``<layer>_overlay(layer, doc)`` turns a :class:`~frcnn_viewer.state.layers.Layer` and the
:class:`~frcnn_viewer.state.document.Document` into an :class:`Overlay` (registered with its
layer in :mod:`frcnn_viewer.state.layer_registry`): groups of boxes
that share one colour (each drawn by the canvas as ONE item), line segments, text
labels and an optional heatmap. All coordinates are the displayed image's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from frcnn_core import IGNORED, NEGATIVE, POSITIVE, AnchorGeometry
from frcnn_core.evaluation.diagnose import Stage

from .label_placement import TextLabel, elide
from .layer_options import AnchorsOptions, AnchorSubset, LayerName, ProposalStage
from .layers import (
    BACKGROUND_COLOUR,
    FALSE_POSITIVE_COLOUR,
    IGNORED_COLOUR,
    LOW_SCORE_COLOUR,
    MISSED_COLOUR,
    NEGATIVE_COLOUR,
    RGB,
    UNCOVERED_COLOUR,
    Layer,
)
from .levels import chosen_grids, finest_grid, level_index, level_mask

RGBA = tuple[int, int, int, int]
WHITE: RGB = (255, 255, 255)
PROPOSAL_SCORE_BINS = 5

@dataclass
class BoxGroup:
    """Boxes ``[N, 4]`` xyxy drawn alike: one colour ``(r, g, b, a)`` and line width."""

    key: str
    boxes: np.ndarray
    colour: RGBA
    line_width: int = 1


@dataclass
class SegmentGroup:
    """Line segments ``[M, 4]`` ``(x1, y1, x2, y2)`` in one colour."""

    key: str
    segments: np.ndarray
    colour: RGBA


@dataclass
class Heatmap:
    """An ``[h, w, 4]`` uint8 RGBA image stretched over ``rect`` ``(x, y, width, height)``."""

    rgba: np.ndarray
    rect: tuple[float, float, float, float]


@dataclass
class Overlay:
    """Everything one layer draws."""

    boxes: list[BoxGroup] = field(default_factory=list)
    segments: list[SegmentGroup] = field(default_factory=list)
    labels: list[TextLabel] = field(default_factory=list)
    heatmap: Heatmap | None = None

    def group(self, key: str) -> BoxGroup | None:
        return next((g for g in self.boxes if g.key == key), None)

    def num_boxes(self) -> int:
        return sum(len(g.boxes) for g in self.boxes)


def rgba(colour: RGB, alpha: int = 255) -> RGBA:
    return (*colour, alpha)


def _centres(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, :2] + boxes[:, 2:]) / 2


def _links(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``[M, 4]`` segments from the centres of ``starts`` to the centres of ``ends``."""
    return np.concatenate((_centres(starts), _centres(ends)), axis=1).reshape(-1, 4)


def build_overlay(layer: Layer, doc) -> Overlay:
    """The drawing of ``layer`` for the document's current image (empty without one), by the
    function its spec registers."""
    if doc.image is None:
        return Overlay()
    return doc.layers.specs[layer.name].build(layer, doc)


def _box_label(box: np.ndarray, text: str, colour: RGB, bottom: bool = False) -> TextLabel:
    """A label of ``box`` ``(x1, y1, x2, y2)``, anchored at its top-left corner (bottom-left with ``bottom``)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return TextLabel(x1, y2 if bottom else y1, text, colour, (x1, y1, x2, y2))


def _mix(low: RGB, high: RGB, t: float) -> RGB:
    return tuple(int(round(a + (b - a) * t)) for a, b in zip(low, high))




def ground_truth_overlay(layer: Layer, doc) -> Overlay:
    image = doc.image
    overlay = Overlay()
    if not image.annotated or not len(image.gt_boxes):
        return overlay
    overlay.boxes.append(BoxGroup("gt", image.gt_boxes, rgba(layer.colour)))
    uncovered = doc.anchor_state.gt_without_positive() if doc.anchor_state is not None else []
    if uncovered:
        # flagged: no anchor reaches the positive IoU threshold with these boxes
        overlay.boxes.append(BoxGroup("uncovered", image.gt_boxes[uncovered], rgba(UNCOVERED_COLOUR), 2))
    if layer.options.show_names:
        for g, (box, name) in enumerate(zip(image.gt_boxes, image.gt_names)):
            text = elide(name) + (" (difficult)" if image.difficult[g] else "") + (" - no positive anchor" if g in uncovered else "")
            overlay.labels.append(_box_label(box, text, UNCOVERED_COLOUR if g in uncovered else layer.colour))
    return overlay


def anchors_overlay(layer: Layer, doc) -> Overlay:
    """The anchors of the chosen level (or of all), less the hidden scales and ratios: inside
    the image, all, or those of the picked feature cell (on each level drawn, the cell at the
    picked point, with that level's grid when one level is drawn)."""
    shown = doc.shown_anchors()
    overlay = Overlay()
    if shown is None:
        return overlay
    anchors, inside = shown
    options: AnchorsOptions = layer.options
    grids = chosen_grids(doc.level_grids(), options.level)
    keep = np.zeros(len(anchors), dtype=bool)
    for grid in grids:
        keep[grid.rows] = ~np.isin(grid.scale_values(), options.hidden_scales) & ~np.isin(grid.ratio_values(), options.hidden_ratios)
    if options.subset is AnchorSubset.INSIDE:
        keep &= inside
    elif options.subset is AnchorSubset.CELL:
        cell_mask = np.zeros(len(anchors), dtype=bool)
        point = doc.selected_point
        if len(grids) == 1:
            overlay.segments.append(SegmentGroup("grid", _grid_segments(grids[0].geometry), rgba(WHITE, 70)))
        if point is not None:
            cells = []
            for grid in grids:
                cell = grid.geometry.cell_at(*point)
                cell_mask[grid.rows.start + grid.geometry.cell_anchor_indices(*cell)] = True
                cells.append(grid.geometry.cell_rect(*cell))
            overlay.boxes.append(BoxGroup("cell", np.array(cells, dtype=np.float64).reshape(-1, 4), rgba(WHITE), 2))
        keep &= cell_mask
    overlay.boxes.insert(0, BoxGroup("anchors", anchors[keep], rgba(layer.colour)))
    return overlay


def _grid_segments(grid: AnchorGeometry) -> np.ndarray:
    """The feature grid's cell borders over the area the feature map covers."""
    hf, wf = grid.feature_size
    cw, ch = grid.cell_size
    xs = np.arange(wf + 1) * cw
    ys = np.arange(hf + 1) * ch
    vertical = np.stack((xs, np.zeros_like(xs), xs, np.full_like(xs, hf * ch)), axis=1)
    horizontal = np.stack((np.zeros_like(ys), ys, np.full_like(ys, wf * cw), ys), axis=1)
    return np.concatenate((vertical, horizontal))


def anchor_labels_overlay(layer: Layer, doc) -> Overlay:
    """Positive, negative (and ignored) anchors of the chosen level, with links to their GT."""
    state = doc.anchor_state
    overlay = Overlay()
    if state is None:
        return overlay
    labels = state.labels if layer.options.sampled else state.candidate_labels
    level = level_mask(doc.feature_levels(), layer.options.level, len(labels))
    if layer.options.show_ignored:
        overlay.boxes.append(BoxGroup("ignored", state.anchors[level & (labels == IGNORED)], rgba(IGNORED_COLOUR, 160)))
    overlay.boxes.append(BoxGroup("negative", state.anchors[level & (labels == NEGATIVE)], rgba(NEGATIVE_COLOUR)))
    positive = level & (labels == POSITIVE)
    overlay.boxes.append(BoxGroup("positive", state.anchors[positive], rgba(layer.colour)))
    if layer.options.show_links and positive.any() and len(state.gt_boxes):
        matched = state.gt_boxes[state.matched_gt[positive]]
        overlay.segments.append(SegmentGroup("links", _links(state.anchors[positive], matched), rgba(layer.colour, 180)))
    return overlay


def proposals_overlay(layer: Layer, doc) -> Overlay:
    trace = doc.trace
    overlay = Overlay()
    if trace is None:
        return overlay
    if layer.options.stage is ProposalStage.PRE_NMS:
        boxes, scores = trace.pre_nms_boxes.numpy(), trace.pre_nms_scores.numpy()
    else:
        boxes, scores = trace.proposals.numpy(), trace.proposal_scores.numpy()
    top = np.argsort(-scores, kind="stable")[: max(int(layer.options.top_k), 0)]
    boxes, scores = boxes[top], scores[top]
    # coloured by objectness: one group per score bin, brighter bins drawn last (on top)
    bins = np.minimum((scores * PROPOSAL_SCORE_BINS).astype(int), PROPOSAL_SCORE_BINS - 1)
    for b in range(PROPOSAL_SCORE_BINS):
        colour = _mix(LOW_SCORE_COLOUR, layer.colour, b / (PROPOSAL_SCORE_BINS - 1))
        overlay.boxes.append(BoxGroup(f"objectness_{b}", boxes[bins == b], rgba(colour)))
    return overlay


def roi_samples_overlay(layer: Layer, doc) -> Overlay:
    trace = doc.trace
    overlay = Overlay()
    if trace is None or trace.roi_boxes is None:
        return overlay
    boxes, labels = trace.roi_boxes.numpy(), trace.roi_labels.numpy()
    if layer.options.show_background:
        overlay.boxes.append(BoxGroup("background", boxes[labels == 0], rgba(BACKGROUND_COLOUR, 200)))
    foreground = labels > 0
    overlay.boxes.append(BoxGroup("foreground", boxes[foreground], rgba(layer.colour)))
    for box, label in zip(boxes[foreground], labels[foreground]):
        overlay.labels.append(_box_label(box, elide(doc.model.config.label_name(int(label))), layer.colour))
    return overlay


def detections_overlay(layer: Layer, doc) -> Overlay:
    trace = doc.trace
    overlay = Overlay()
    if trace is None:
        return overlay
    det = trace.detections
    threshold = layer.options.score_threshold
    shown = doc.shown_detections()
    boxes = det.boxes.numpy()
    colours = np.zeros(len(boxes), dtype=np.int64)  # 0 plain/true positive, 1 false positive, 2 difficult
    matching = doc.matching
    if matching is not None:
        colours[matching.false_positive(threshold)] = 1
        colours[matching.ignored] = 2
    palette = ((("true_positive" if matching is not None else "detections"), layer.colour), ("false_positive", FALSE_POSITIVE_COLOUR), ("difficult", IGNORED_COLOUR))
    for value, (key, colour) in enumerate(palette):
        overlay.boxes.append(BoxGroup(key, boxes[shown[colours[shown] == value]], rgba(colour)))
    if matching is not None:
        missed = matching.missed(threshold)
        overlay.boxes.append(BoxGroup("missed", doc.image.gt_boxes[missed], rgba(MISSED_COLOUR), 2))
        if not (doc.layers[LayerName.DIAGNOSIS].visible and doc.diagnosis is not None):  # else the diagnosis says why, in the same place
            overlay.labels += [_box_label(doc.image.gt_boxes[g], "missed", MISSED_COLOUR, bottom=True) for g in missed]
    if layer.options.show_names:
        for i in shown:
            text = f"{elide(doc.model.config.label_name(int(det.labels[i])))} {float(det.scores[i]):.2f}"
            overlay.labels.append(_box_label(boxes[i], text, palette[colours[i]][1]))
    provenance = doc.provenance()
    if provenance is not None:
        chain = np.array([provenance.anchor_box, provenance.proposal_box, provenance.box])
        overlay.boxes.append(BoxGroup("source_anchor", chain[:1], rgba((0, 200, 255)), 2))
        overlay.boxes.append(BoxGroup("source_proposal", chain[1:2], rgba((255, 140, 0)), 2))
        overlay.boxes.append(BoxGroup("selected", chain[2:], rgba(WHITE), 3))
        overlay.segments.append(SegmentGroup("provenance", _links(chain[:2], chain[1:]), rgba(WHITE, 200)))
    return overlay


def objectness_overlay(layer: Layer, doc) -> Overlay:
    """The highest objectness over the anchors of each feature cell of the chosen level; with
    every level of a multi-level model, the highest over the levels on the finest level's grid."""
    trace = doc.trace
    if trace is None:
        return Overlay()
    levels = trace.levels
    index = level_index(levels, layer.options.level)
    if index is None and len(levels) > 1:
        values, stride = finest_grid(levels, [trace.objectness_map(i).numpy() for i in range(len(levels))])
    else:
        index = 0 if index is None else index
        values, stride = trace.objectness_map(index).numpy(), levels[index].stride
    heat = np.empty((*values.shape, 4), dtype=np.uint8)
    heat[..., :3] = layer.colour
    heat[..., 3] = np.round(np.clip(values, 0, 1) * 255).astype(np.uint8)
    hf, wf = values.shape
    sx, sy = trace.scale
    return Overlay(heatmap=Heatmap(np.ascontiguousarray(heat), (0.0, 0.0, wf * stride / sx, hf * stride / sy)))


def diagnosis_overlay(layer: Layer, doc) -> Overlay:
    """Every missed GT box with the stage that lost it, every false positive with its type
    (at the document's diagnosis settings); labels under the boxes' lower-left corners."""
    diagnosis = doc.diagnosis
    overlay = Overlay()
    if diagnosis is None:
        return overlay
    missed = [g for g in diagnosis.gt if g.stage is not Stage.DETECTED]
    overlay.boxes.append(BoxGroup("missed", np.array([g.box for g in missed], np.float64).reshape(-1, 4), rgba(layer.colour), 2))
    overlay.boxes.append(BoxGroup("false_positive", np.array([f.box for f in diagnosis.false_positives], np.float64).reshape(-1, 4), rgba(FALSE_POSITIVE_COLOUR), 2))
    shown = diagnosis.gt if layer.options.show_detected else missed
    overlay.labels += [_box_label(np.asarray(g.box), g.stage.description, layer.colour if g.stage is not Stage.DETECTED else WHITE, bottom=True) for g in shown]
    overlay.labels += [_box_label(np.asarray(f.box), f"FP: {f.type.description}", FALSE_POSITIVE_COLOUR, bottom=True) for f in diagnosis.false_positives]
    return overlay

"""Where a detection came from: its proposal, that proposal's anchor and the anchor's feature
level, the scores and deltas."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from frcnn_core import DetectorConfig, Trace


@dataclass
class Provenance:
    """Where one detection came from: proposal, anchor, class scores and the deltas applied."""

    detection: int
    label: str
    score: float
    box: list[float]
    proposal: int
    proposal_box: list[float]
    objectness: float
    anchor: int
    anchor_box: list[float]
    anchor_level: str  # the feature level's name (C4 for ours, P2..P6 for a torchvision FPN)
    anchor_cell: tuple[int, int]  # on that level's grid
    anchor_shape: tuple[float, float]  # (scale in multiples of the level's stride, ratio h/w)
    rpn_deltas: list[float]
    deltas: list[float]
    class_names: list[str]  # background first
    class_scores: list[float]
    box_vote_iou: float  # > 0: after the deltas, box voting at this IoU moved the box (DetectorConfig.box_vote_iou)


def provenance_of(trace: Trace, index: int, config: DetectorConfig) -> Provenance:
    """Follow detection ``index`` of ``trace`` back through its proposal to its anchor, and the
    anchor to its feature level and cell (:attr:`frcnn_core.Trace.levels`)."""
    det = trace.detections
    proposal = int(det.proposal_index[index])
    anchor = int(trace.proposal_anchor_index[proposal])
    level_index = int(trace.level_of_anchor(torch.tensor([anchor]))[0])
    level = trace.levels[level_index]
    local = anchor - trace.level_slices()[level_index].start
    per_cell = level.anchors_per_cell
    cell_y, cell_x = divmod(local // per_cell, level.feature_size[1])
    a = local % per_cell  # ratio-major, size-minor inside a cell
    names = ["background", *[config.label_name(k) for k in range(1, det.class_scores.shape[1])]]
    return Provenance(
        detection=index,
        label=names[int(det.labels[index])],
        score=float(det.scores[index]),
        box=det.boxes[index].tolist(),
        proposal=proposal,
        proposal_box=trace.proposals[proposal].tolist(),
        objectness=float(trace.proposal_scores[proposal]),
        anchor=anchor,
        anchor_box=trace.anchors[anchor].tolist(),
        anchor_level=level.name,
        anchor_cell=(int(cell_y), int(cell_x)),
        anchor_shape=(level.sizes[a % len(level.sizes)] / level.stride, level.aspect_ratios[a // len(level.sizes)]),
        rpn_deltas=trace.rpn_deltas[anchor].tolist(),
        deltas=det.deltas[index].tolist(),
        class_names=names,
        class_scores=det.class_scores[index].tolist(),
        box_vote_iou=config.box_vote_iou,
    )

"""Where a detection came from: its proposal, that proposal's anchor, the scores and deltas."""

from __future__ import annotations

from dataclasses import dataclass

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
    anchor_cell: tuple[int, int]
    anchor_shape: tuple[float, float]  # (scale, ratio)
    rpn_deltas: list[float]
    deltas: list[float]
    class_names: list[str]  # background first
    class_scores: list[float]


def provenance_of(trace: Trace, index: int, config: DetectorConfig) -> Provenance:
    """Follow detection ``index`` of ``trace`` back through its proposal to its anchor."""
    det = trace.detections
    proposal = int(det.proposal_index[index])
    anchor = int(trace.proposal_anchor_index[proposal])
    per_cell = trace.num_anchors_per_cell
    cell_y, cell_x = divmod(anchor // per_cell, trace.feature_size[1])
    a = anchor % per_cell
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
        anchor_cell=(int(cell_y), int(cell_x)),
        anchor_shape=(trace.anchor_scales[a % len(trace.anchor_scales)], trace.anchor_ratios[a // len(trace.anchor_scales)]),
        rpn_deltas=trace.rpn_deltas[anchor].tolist(),
        deltas=det.deltas[index].tolist(),
        class_names=names,
        class_scores=det.class_scores[index].tolist(),
    )

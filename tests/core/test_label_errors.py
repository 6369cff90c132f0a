"""frcnn_core.evaluation.label_errors: each kind of annotation mistake found on a hand-made trace,
and the head's verdict on given boxes checked against the detections it made."""

from __future__ import annotations

import json

import pytest
import torch

from frcnn_core import FasterRCNN, StagedTrace, cpu_config
from frcnn_core.cli import main
from frcnn_core.data import ShapesDataset
from frcnn_core.evaluation.diagnose import Stage
from frcnn_core.evaluation.label_errors import (
    LabelErrorKind,
    find_label_errors,
    find_label_errors_dataset,
    label_errors_report,
    near_anchor_objectness,
    trace_with_verdict,
)
from frcnn_core.models.checkpoint import save_checkpoint
from frcnn_core.roi.postprocess import Detections
from frcnn_core.trace.staged import BoxVerdict
from frcnn_core.trace.trace import Trace

A = [40.0, 40.0, 80.0, 80.0]
B = [120.0, 120.0, 170.0, 160.0]
EMPTY = [10.0, 140.0, 40.0, 180.0]  # nothing there in these scenes


def _boxes(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 4)


def shifted(box, dx: float) -> list[float]:
    return [box[0] + dx, box[1], box[2] + dx, box[3]]


def make_trace(anchors=(), proposals=(), detections=(), num_classes=2) -> Trace:
    """A 200 x 200 image's trace (network input 1:1). ``anchors`` and ``proposals``: ``(box,
    objectness)`` rows; ``detections``: ``(box, score, label)`` rows, each from its own proposal
    (appended to the proposals with objectness 0.9)."""
    rows = sorted(detections, key=lambda row: -row[1])
    proposals = list(proposals) + [(r[0], 0.9) for r in rows]
    anchors = list(anchors) or [([0.0, 0.0, 16.0, 16.0], 0.0)]
    num = len(rows)
    class_scores = torch.zeros(num, num_classes + 1)
    for d, (_box, score, label) in enumerate(rows):
        class_scores[d, label] = score
        class_scores[d, 0] = 1 - score
    det = Detections(
        boxes=_boxes([r[0] for r in rows]),
        scores=torch.tensor([r[1] for r in rows], dtype=torch.float32),
        labels=torch.tensor([r[2] for r in rows], dtype=torch.int64),
        class_scores=class_scores,
        proposal_index=torch.arange(len(proposals) - num, len(proposals), dtype=torch.int64),
        deltas=torch.zeros(num, 4),
    )
    n, p = len(anchors), len(proposals)
    prop_boxes = _boxes([box for box, _ in proposals])
    prop_scores = torch.tensor([s for _, s in proposals], dtype=torch.float32)
    return Trace(
        image_size=(200, 200), input_size=(200, 200), scale=(1.0, 1.0), feature_size=(1, n), stride=16,
        anchor_scales=(1.0,), anchor_ratios=(1.0,), anchors=_boxes([box for box, _ in anchors]), inside=torch.ones(n, dtype=torch.bool),
        objectness=torch.tensor([s for _, s in anchors], dtype=torch.float32), rpn_deltas=torch.zeros(n, 4),
        pre_nms_boxes=prop_boxes, pre_nms_scores=prop_scores, pre_nms_anchor_index=torch.zeros(p, dtype=torch.int64),
        proposals=prop_boxes, proposal_scores=prop_scores, proposal_anchor_index=torch.zeros(p, dtype=torch.int64),
        detections=det, class_names=("a", "b"),
    )


def target(boxes, labels, difficult=None) -> dict:
    out = {"boxes": _boxes(list(boxes)), "labels": torch.tensor(list(labels))}
    if difficult is not None:
        out["difficult"] = torch.tensor(list(difficult))
    return out


def verdict(rows) -> BoxVerdict:
    """The head's class probabilities on the labelled boxes, one row each (background first)."""
    scores = torch.tensor(rows, dtype=torch.float32)
    return BoxVerdict(scores, torch.zeros(scores.shape[0], scores.shape[1], 4))


def supported(*boxes) -> list:
    """Anchors with high objectness exactly on each box (the RPN sees an object there)."""
    return [(list(box), 0.95) for box in boxes]


def test_a_correct_label_gives_nothing():
    trace = make_trace(anchors=supported(A), detections=[(A, 0.95, 1)])
    assert find_label_errors(trace, target([A], [1]), verdict([[0.02, 0.95, 0.03]])) == []


def test_missing_a_confident_detection_on_no_label():
    trace = make_trace(anchors=supported(A, B), detections=[(A, 0.95, 1), (B, 0.9, 2), (shifted(B, 2), 0.6, 1)])
    errors = find_label_errors(trace, target([A], [1]), verdict([[0.02, 0.95, 0.03]]))
    assert [e.kind for e in errors] == [LabelErrorKind.MISSING]  # the second detection on B is the same object
    e = errors[0]
    assert e.box is None and e.label is None and e.index is None
    assert e.suggested_label == 2 and e.suggested_box == tuple(B) and e.detection == 1
    assert e.score == pytest.approx(0.9 * (1 - 0 / 0.5) ** 2, abs=1e-4)
    assert e.evidence["proposal_score"] == pytest.approx(0.9)


def test_a_detection_partly_on_a_label_is_less_likely_missing():
    half = shifted(A, 24)  # IoU 0.25 with A, which has its own detection
    trace = make_trace(anchors=supported(A, half), detections=[(A, 0.95, 1), (half, 0.9, 1)])
    errors = find_label_errors(trace, target([A], [1]), verdict([[0.02, 0.95, 0.03]]))
    assert [e.kind for e in errors] == [LabelErrorKind.MISSING]
    assert errors[0].score == pytest.approx(0.9 * (1 - 0.25 / 0.5) ** 2, abs=1e-3)


def test_a_detection_on_a_difficult_box_is_not_missing_and_difficult_boxes_are_never_reported():
    trace = make_trace(detections=[(B, 0.9, 2)])
    assert find_label_errors(trace, target([B], [1], difficult=[True]), verdict([[0.9, 0.05, 0.05]])) == []


def test_wrong_class_from_a_detection_of_another_class_on_the_box():
    trace = make_trace(anchors=supported(A), detections=[(A, 0.9, 2)])
    errors = find_label_errors(trace, target([A], [1]))
    assert [e.kind for e in errors] == [LabelErrorKind.WRONG_CLASS]
    e = errors[0]
    assert (e.index, e.box, e.label, e.suggested_label, e.suggested_box) == (0, tuple(A), 1, 2, tuple(A))
    assert e.score == pytest.approx(0.9) and e.stage is Stage.CLASS


def test_wrong_class_from_the_head_on_the_box_itself():
    # no detection at all there: the head, asked about the labelled box, says class 2
    trace = make_trace(anchors=supported(A))
    errors = find_label_errors(trace, target([A], [1]), verdict([[0.1, 0.1, 0.8]]))
    assert [(e.kind, e.suggested_label) for e in errors] == [(LabelErrorKind.WRONG_CLASS, 2)]
    assert errors[0].score == pytest.approx(0.8 * (1 - 0.1))
    assert errors[0].evidence["head_other"] == pytest.approx(0.8)


def test_bad_box_a_confident_detection_of_its_class_overlapping_it_loosely():
    loose = shifted(A, 20)  # IoU 1/3 with A
    trace = make_trace(anchors=supported(loose), detections=[(loose, 0.9, 1)])
    errors = find_label_errors(trace, target([A], [1]), verdict([[0.5, 0.4, 0.1]]))
    assert [e.kind for e in errors] == [LabelErrorKind.BAD_BOX]  # its detection is not also "missing"
    e = errors[0]
    assert e.suggested_box == tuple(loose) and e.suggested_label == 1 and e.detection == 0
    assert e.evidence["detection_iou"] == pytest.approx(1 / 3, abs=1e-4)
    assert e.score == pytest.approx(0.9 * (1 - 0.4), abs=1e-4)  # the head doubts its class there
    plain = find_label_errors(trace, target([A], [1]))[0]  # without the head: the looser, the likelier
    assert plain.kind is LabelErrorKind.BAD_BOX and plain.score == pytest.approx(0.9 * (1 - 1 / 3), abs=1e-4)


def test_a_loose_detection_beside_a_well_detected_box_is_not_a_bad_box():
    trace = make_trace(anchors=supported(A), detections=[(A, 0.95, 1), (shifted(A, 20), 0.7, 1)])
    kinds = [e.kind for e in find_label_errors(trace, target([A], [1]), verdict([[0.02, 0.95, 0.03]]))]
    assert LabelErrorKind.BAD_BOX not in kinds


def test_spurious_a_box_no_stage_supports():
    trace = make_trace(anchors=[(EMPTY, 0.03), (A, 0.95)], detections=[(A, 0.95, 1)])
    errors = find_label_errors(trace, target([A, EMPTY], [1, 2]), verdict([[0.02, 0.95, 0.03], [0.9, 0.05, 0.05]]))
    assert [(e.kind, e.index) for e in errors] == [(LabelErrorKind.SPURIOUS, 1)]
    e = errors[0]
    assert e.suggested_box is None and e.suggested_label is None
    assert e.score == pytest.approx((1 - 0.03) * (1 - 0) * 0.9, abs=1e-4)
    assert e.stage is Stage.RPN and e.evidence["objectness"] == pytest.approx(0.03)


def test_a_confident_detection_near_a_box_speaks_against_spurious():
    beside = shifted(EMPTY, 18)  # IoU 0.26: another class's object half on the box
    trace = make_trace(anchors=[(EMPTY, 0.03)], detections=[(beside, 0.8, 1)])
    errors = find_label_errors(trace, target([EMPTY], [2]), verdict([[0.9, 0.05, 0.05]]), min_score=0.0)
    spurious = [e for e in errors if e.kind is LabelErrorKind.SPURIOUS]
    assert spurious[0].score == pytest.approx((1 - 0.03) * (1 - 0.8) * 0.9, abs=1e-4)
    assert spurious[0].evidence["near_detection_score"] == pytest.approx(0.8)


def test_spurious_without_a_verdict_reads_the_proposals():
    trace = make_trace(anchors=[(EMPTY, 0.1)], proposals=[(EMPTY, 0.2)])
    errors = find_label_errors(trace, target([EMPTY], [2]))
    assert [e.kind for e in errors] == [LabelErrorKind.SPURIOUS]
    assert errors[0].score == pytest.approx(0.9 * 1.0 * 0.8, abs=1e-4)


def test_near_anchors_are_the_best_fitting_ones_when_none_fits_well():
    # the only anchors are far larger than the box: the best of them still speaks for the place
    big = [30.0, 30.0, 130.0, 130.0]
    trace = make_trace(anchors=[(big, 0.8), ([100.0, 100.0, 200.0, 200.0], 0.1)])
    assert near_anchor_objectness(_boxes([A]), trace).tolist() == pytest.approx([0.8])


def test_entries_are_ranked_and_scored_in_0_1():
    loose = shifted(B, 18)
    trace = make_trace(anchors=supported(A, loose), detections=[(A, 0.99, 2), (loose, 0.8, 1), ([150.0, 10.0, 190.0, 50.0], 0.7, 1)])
    errors = find_label_errors(trace, target([A, B, EMPTY], [1, 1, 1]), verdict([[0.0, 0.01, 0.99], [0.3, 0.6, 0.1], [0.97, 0.02, 0.01]]))
    assert {e.kind for e in errors} == set(LabelErrorKind)
    scores = [e.score for e in errors]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)


def test_the_report_names_classes_and_nulls_what_a_kind_lacks():
    trace = make_trace(anchors=[(EMPTY, 0.0)], detections=[(B, 0.9, 2)])
    errors = find_label_errors(trace, target([EMPTY], [1]), verdict([[0.95, 0.03, 0.02]]))
    rows = label_errors_report([errors, []], [{"image_id": 7, "file_name": "a.jpg"}, {"image_id": 8, "file_name": ""}], ["cat", "dog"])
    assert [row["kind"] for row in rows] == ["spurious", "missing"]
    for row in rows:
        assert set(row) == {"image_id", "file_name", "kind", "score", "label", "box", "suggested_label", "suggested_box", "evidence"}
        assert row["image_id"] == 7 and row["file_name"] == "a.jpg"
    spurious, missing = rows
    assert (spurious["label"], spurious["box"], spurious["suggested_label"], spurious["suggested_box"]) == ("cat", EMPTY, None, None)
    assert (missing["label"], missing["box"], missing["suggested_label"], missing["suggested_box"]) == (None, None, "dog", B)
    assert spurious["evidence"]["stage"] == "rpn"  # an anchor fits it, no proposal reaches it
    json.dumps(rows, allow_nan=False)


def test_the_head_on_a_proposal_says_what_it_said_of_the_detection_from_it(two_box_image, tiny_config):
    torch.manual_seed(0)
    model = FasterRCNN(tiny_config).eval()
    image, _ = two_box_image
    staged = StagedTrace(model, image)
    trace = staged.trace()
    det = trace.detections
    assert len(det) > 0
    answer = staged.classify_boxes(trace.proposals[det.proposal_index])
    torch.testing.assert_close(answer.class_scores, det.class_scores, rtol=1e-4, atol=1e-5)
    rows = torch.arange(len(det))
    torch.testing.assert_close(answer.boxes[rows, det.labels], det.boxes, rtol=1e-4, atol=1e-3)
    assert torch.equal(trace_with_verdict(model, image, det.boxes)[0].detections.boxes, trace.detections.boxes)


class TwoImages(torch.utils.data.Dataset):
    class_names = ("red", "blue")

    def __init__(self, image, tgt) -> None:
        self.image, self.target = image, tgt

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index):
        return self.image, self.target

    def info(self, index):
        return {"image_id": 10 + index, "path": f"/data/{index}.png", "target": self.target}


def test_the_dataset_report_restores_the_mode(two_box_image, tiny_config):
    torch.manual_seed(0)
    model = FasterRCNN(tiny_config)
    image, tgt = two_box_image
    rows = find_label_errors_dataset(model, TwoImages(image, tgt), score_threshold=0.0)
    assert model.training
    assert rows and {row["image_id"] for row in rows} == {10, 11}
    assert {row["file_name"] for row in rows} == {"/data/0.png", "/data/1.png"}
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)


def test_the_command_prints_the_ranked_table_and_writes_the_core_report(tmp_path, capsys):
    torch.manual_seed(0)
    config = cpu_config(4, ShapesDataset.CLASS_NAMES, min_size=128, max_size=128)
    checkpoint = save_checkpoint(tmp_path / "random.pt", FasterRCNN(config))
    out = tmp_path / "issues.json"
    args = ["label-errors", str(checkpoint), "--data", "shapes", "--num-images", "2", "--score-threshold", "0.2", "--device", "cpu", "--no-progress"]
    assert main([*args, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("rank  score  kind") and "entries)" in text
    rows = json.loads(out.read_text())
    model = FasterRCNN(config)
    model.load_state_dict(torch.load(checkpoint, weights_only=True)["model"])
    assert rows == json.loads(json.dumps(find_label_errors_dataset(model, ShapesDataset(num_images=2, split="val"), 0.5, 0.2)))
    assert len(rows) > 2
    assert main([*args, "--json", str(out), "--top", "2"]) == 0
    assert json.loads(out.read_text()) == rows[:2]
    assert len(capsys.readouterr().out.splitlines()) == 1 + 2 + 2  # header, two entries, counts, "written to"

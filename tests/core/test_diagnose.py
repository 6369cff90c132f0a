"""frcnn_core.evaluation.diagnose on hand-made traces: each stage and each false-positive type forced."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import nms

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.data import ShapesDataset
from frcnn_core.evaluation.diagnose import MISS_STAGES, FalsePositiveType, Stage, diagnose_dataset, diagnose_trace, diagnosis_report, error_costs, funnel
from frcnn_core.evaluation.metrics import evaluate_voc
from frcnn_core.evaluation.scoring import dataset_targets
from frcnn_core.evaluation.tide import TideError, TideOracle
from frcnn_core.inference import predict_dataset
from frcnn_core.roi.postprocess import Detections
from frcnn_core.trace.trace import Trace

from tide_reference import tidecv_figures

FAR = [[300.0, 300.0, 310.0, 310.0]]  # overlaps nothing in these 200 x 200 scenes
GT = [40.0, 40.0, 80.0, 80.0]


def _boxes(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 4)


def make_trace(anchors=(GT,), pre_nms=(GT,), proposals=None, detections=(), num_classes=2) -> Trace:
    """A trace of a 200 x 200 image with the given stages (original pixels; network input 1:1).

    ``proposals`` defaults to the pre-NMS boxes after NMS at 0.7 (their scores decreasing in
    the order given); ``detections`` are ``(box, score, label)`` rows."""
    anchors, pre = _boxes(list(anchors)), _boxes(list(pre_nms))
    pre_scores = torch.linspace(0.9, 0.5, len(pre)) if len(pre) > 1 else torch.full((len(pre),), 0.9)
    if proposals is None:
        proposals = pre[nms(pre, pre_scores, 0.7)]
    proposals = _boxes(proposals) if not isinstance(proposals, torch.Tensor) else proposals
    rows = sorted(detections, key=lambda row: -row[1])
    num = len(rows)
    det = Detections(
        boxes=_boxes([r[0] for r in rows]),
        scores=torch.tensor([r[1] for r in rows], dtype=torch.float32),
        labels=torch.tensor([r[2] for r in rows], dtype=torch.int64),
        class_scores=torch.zeros(num, num_classes + 1),
        proposal_index=torch.zeros(num, dtype=torch.int64),
        deltas=torch.zeros(num, 4),
    )
    n, p = len(anchors), len(proposals)
    return Trace(
        image_size=(200, 200), input_size=(200, 200), scale=(1.0, 1.0), feature_size=(1, n), stride=16,
        anchor_scales=(1.0,), anchor_ratios=(1.0,), anchors=anchors, inside=torch.ones(n, dtype=torch.bool),
        objectness=torch.zeros(n), rpn_deltas=torch.zeros(n, 4),
        pre_nms_boxes=pre, pre_nms_scores=pre_scores, pre_nms_anchor_index=torch.zeros(len(pre), dtype=torch.int64),
        proposals=proposals, proposal_scores=torch.zeros(p), proposal_anchor_index=torch.zeros(p, dtype=torch.int64),
        detections=det, class_names=("a", "b"),
    )


def target(boxes=(GT,), labels=(1,), difficult=None) -> dict:
    out = {"boxes": _boxes(list(boxes)), "labels": torch.tensor(list(labels))}
    if difficult is not None:
        out["difficult"] = torch.tensor(list(difficult))
    return out


def shifted(box, dx: float) -> list[float]:
    return [box[0] + dx, box[1], box[2] + dx, box[3]]


def only_stage(trace: Trace, tgt: dict | None = None, **kwargs) -> Stage:
    diagnosis = diagnose_trace(trace, tgt or target(), **kwargs)
    return diagnosis.gt[0].stage


def test_no_anchor_reaches_the_box():
    # even though later stages find it (the RPN regressed far), the first failing stage decides
    trace = make_trace(anchors=FAR, detections=[(GT, 0.9, 2)])
    d = diagnose_trace(trace, target())
    assert d.gt[0].stage is Stage.ANCHOR and d.gt[0].best_anchor_iou == 0.0
    assert d.gt[0].best_pre_nms_iou == pytest.approx(1.0)


def test_the_rpn_never_proposed_it():
    assert only_stage(make_trace(pre_nms=FAR)) is Stage.RPN


def test_a_proposal_suppressed_by_nms():
    # the box at IoU 0.6 with the GT scores lower than a neighbour at IoU 3/7 that overlaps it by 0.74
    near, neighbour = shifted(GT, 10), shifted(GT, 16)
    trace = make_trace(pre_nms=[neighbour, near])
    assert len(trace.proposals) == 1  # NMS kept only the neighbour
    d = diagnose_trace(trace, target())
    assert d.gt[0].stage is Stage.NMS
    assert d.gt[0].best_pre_nms_iou == pytest.approx(0.6) and d.gt[0].best_proposal_iou == pytest.approx(3 / 7)


def test_the_head_lost_it():
    assert only_stage(make_trace(detections=[(FAR[0], 0.9, 1)])) is Stage.HEAD
    assert only_stage(make_trace()) is Stage.HEAD  # no detection at all


def test_found_as_another_class():
    d = diagnose_trace(make_trace(detections=[(GT, 0.9, 2)]), target())
    assert d.gt[0].stage is Stage.CLASS
    assert d.gt[0].best_detection_iou == pytest.approx(1.0) and d.gt[0].best_class_detection_iou == 0.0


def test_too_low_a_score():
    d = diagnose_trace(make_trace(detections=[(GT, 0.3, 1)]), target())
    assert d.gt[0].stage is Stage.SCORE and d.gt[0].best_class_detection_score == pytest.approx(0.3)
    assert diagnose_trace(make_trace(detections=[(GT, 0.3, 1)]), target(), score_threshold=0.25).gt[0].stage is Stage.DETECTED


def test_taken_by_another_box():
    # two GT boxes 4 px apart, one detection: VOC gives it to the closer box only
    second = shifted(GT, 4)
    trace = make_trace(anchors=[GT, second], pre_nms=[GT], detections=[(shifted(GT, 1), 0.9, 1)])
    d = diagnose_trace(trace, target([GT, second], [1, 1]))
    assert [g.stage for g in d.gt] == [Stage.DETECTED, Stage.TAKEN]
    assert d.gt[1].best_class_detection_iou >= 0.5 and d.gt[1].best_class_detection_score == pytest.approx(0.9)
    assert d.false_positives == []


def test_difficult_boxes_are_left_out_and_detections_on_them_ignored():
    d = diagnose_trace(make_trace(detections=[(GT, 0.9, 1)]), target([GT, FAR[0]], [1, 1], difficult=[True, False]))
    assert [g.index for g in d.gt] == [1] and d.false_positives == []


def fp_types(detections, tgt=None, **kwargs) -> list[FalsePositiveType]:
    return [f.type for f in diagnose_trace(make_trace(detections=detections), tgt or target(), **kwargs).false_positives]


def test_false_positive_types():
    assert fp_types([(GT, 0.9, 1), (shifted(GT, 2), 0.8, 1)]) == [FalsePositiveType.DUPLICATE]
    assert fp_types([(shifted(GT, 20), 0.9, 1)]) == [FalsePositiveType.LOCALIZATION]  # IoU 1/3
    assert fp_types([(GT, 0.9, 2)]) == [FalsePositiveType.CLASSIFICATION]
    assert fp_types([(shifted(GT, 20), 0.9, 2)]) == [FalsePositiveType.BOTH]
    assert fp_types([(shifted(GT, 36), 0.9, 1)]) == [FalsePositiveType.BACKGROUND]  # IoU 4/76 < 0.1
    assert fp_types([(FAR[0], 0.4, 1)]) == []  # below the score threshold: not reported


def test_false_positive_types_take_tides_bounds():
    # TIDE: localization from 0.1 up to the foreground IoU, both ends included (a box at IoU
    # 0.5 that another detection took); else background when the best IoU is at most 0.1
    at_tenth = [GT[0], GT[1], GT[0] + 16, GT[1] + 10]  # inside GT, IoU 160 / 1600 = 0.1
    assert fp_types([(at_tenth, 0.9, 1)]) == [FalsePositiveType.LOCALIZATION]
    assert fp_types([(at_tenth, 0.9, 2)]) == [FalsePositiveType.BACKGROUND]  # not "both"
    half = [GT[0], GT[1], GT[0] + 20, GT[3]]  # IoU 0.5 with GT, inside it
    assert fp_types([(GT, 0.9, 1), (half, 0.8, 1)]) == [FalsePositiveType.LOCALIZATION]
    # classification is tried before duplicate: on a taken box of its class and on another class's box
    box = [100.0, 40.0, 140.0, 80.0]
    tgt = target([box, shifted(box, 2)], [1, 2])
    assert fp_types([(box, 0.9, 1), (shifted(box, 1), 0.8, 1)], tgt) == [FalsePositiveType.CLASSIFICATION]


def test_the_false_positive_types_are_tides_and_their_strings_differ_from_the_stages():
    assert [t.value for t in FalsePositiveType] == ["classification", "localization", "both", "duplicate", "background"]
    assert not {t.value for t in FalsePositiveType} & {s.value for s in Stage}
    with pytest.deprecated_call(match="CLASSIFICATION"):
        assert FalsePositiveType.CLASS is FalsePositiveType.CLASSIFICATION


def test_localization_comes_before_class():
    # near its own class's box (IoU 1/3) and right on another class's box
    box = [100.0, 40.0, 140.0, 80.0]
    types = fp_types([(box, 0.9, 1)], target([shifted(box, -20), box], [1, 2]))
    assert types == [FalsePositiveType.LOCALIZATION]


def test_false_positive_records_the_decisive_values():
    fp = diagnose_trace(make_trace(detections=[(shifted(GT, 20), 0.9, 2)]), target()).false_positives[0]
    assert fp.best_other_class_iou == pytest.approx(1 / 3) and fp.best_class_iou == 0.0 and fp.score == pytest.approx(0.9)


def test_report_and_funnel():
    second = shifted(GT, 4)
    trace = make_trace(anchors=[GT, second, FAR[0]], pre_nms=[GT, FAR[0]], detections=[(shifted(GT, 1), 0.9, 1), (FAR[0], 0.7, 1)])
    d = diagnose_trace(trace, target([GT, second, FAR[0]], [1, 1, 2]))
    report = diagnosis_report([d], [{"image_id": 7, "file_name": "a.png"}], ["a", "b"])
    assert report["iou"] == 0.5 and report["score_threshold"] == 0.5
    assert [(r["image_id"], r["file_name"], r["class_name"], r["stage"]) for r in report["gt"]] == [
        (7, "a.png", "a", "detected"), (7, "a.png", "a", "taken"), (7, "a.png", "b", "class"),
    ]
    assert report["gt"][0]["box"] == GT and set(report["gt"][0]) >= {"best_anchor_iou", "best_class_detection_score"}
    assert report["false_positives"] == [{"image_id": 7, "file_name": "a.png", "box": FAR[0], "label": 1, "class_name": "a", "score": pytest.approx(0.7), "type": "classification"}]
    assert report["summary"]["false_positives"] == {"classification": 1, "localization": 0, "both": 0, "duplicate": 0, "background": 0}
    assert report["summary"]["gt"] == {"anchor": 0, "rpn": 0, "nms": 0, "head": 0, "class": 1, "score": 0, "taken": 1, "detected": 1}
    assert report["per_class"]["a"]["gt"]["taken"] == 1 and report["per_class"]["b"]["gt"]["class"] == 1
    assert d.stage_counts()[Stage.TAKEN] == 1
    steps = funnel(report["summary"]["gt"])
    assert steps[0] == ("ground truth", 3) and steps[-1] == ("matched", 1)
    assert [n for _, n in steps] == [3, 3, 3, 3, 3, 2, 2, 1]


@pytest.mark.parametrize(("iou", "score_threshold"), [(0.5, 0.0), (0.3, 0.2)])
def test_detected_equals_the_true_positives_of_eval(iou, score_threshold):
    """A random model on a few shapes images: the diagnosis's ``detected`` count is the number
    of ``evaluate_voc`` true positives scoring at least the threshold, on detections from the
    batched inference path (``frcnn eval``'s), not the trace."""
    torch.manual_seed(0)
    dataset = ShapesDataset(num_images=6, image_size=(128, 128), split="val")
    model = FasterRCNN(cpu_config(4, dataset.CLASS_NAMES, min_size=128, max_size=128))
    report = diagnose_dataset(model, dataset, iou, score_threshold)
    voc = evaluate_voc(predict_dataset(model, dataset), dataset_targets(dataset), 4, iou_threshold=iou)
    true_positives = 0
    for k in range(1, 5):
        kept = int((voc["scores"][k] >= score_threshold).sum())
        true_positives += round(voc["recall"][k][kept - 1] * voc["num_gt"][k]) if kept else 0
    assert report["summary"]["gt"]["detected"] == true_positives > 0
    assert sum(report["summary"]["gt"].values()) == sum(voc["num_gt"].values()) == len(report["gt"])
    assert [info["image_id"] for info in map(dataset.info, range(6))] == sorted({r["image_id"] for r in report["gt"]})


def test_what_fixing_the_misses_of_each_stage_is_worth_by_hand():
    """One class, three boxes: one detected (0.9), one no anchor reaches, one found at 0.3 (lost to
    the score threshold), and a false positive on nothing at 0.95 ranked first."""
    lost, low = [120.0, 120.0, 160.0, 160.0], [40.0, 120.0, 80.0, 160.0]
    trace = make_trace(
        anchors=[GT, low], pre_nms=[GT, low],
        detections=[(GT, 0.9, 1), (low, 0.3, 1), ([0.0, 170.0, 20.0, 190.0], 0.95, 1)],
    )
    d = diagnose_trace(trace, target([GT, lost, low], [1, 1, 1]))
    assert [g.stage for g in d.gt] == [Stage.DETECTED, Stage.ANCHOR, Stage.SCORE]
    costs = error_costs([d])
    # TIDE's AP, ranked FP TP TP of 3 boxes: precision 2/3 (made monotone) up to recall 2/3, read at
    # the 67 recalls 0, 0.01, ..., 0.66 of 101
    assert costs.map50 == pytest.approx(2 / 3 * 67 / 101)
    # the anchor's box leaves the positives: recall reaches 1, precision 2/3 at all 101 points
    assert costs.stages[Stage.ANCHOR] == pytest.approx(2 / 3 - 2 / 3 * 67 / 101)
    # the box lost to the score threshold is a true positive of the AP (at 0.3): nothing to gain
    assert {stage: value for stage, value in costs.stages.items() if stage is not Stage.ANCHOR} == dict.fromkeys(MISS_STAGES[1:], 0.0)
    assert costs.tide[TideError.MISSED] == costs.stages[Stage.ANCHOR]  # no error points at that box: TIDE's missed
    # without the false positive the two true positives have precision 1 up to recall 2/3
    assert costs.tide[TideError.BACKGROUND] == pytest.approx(67 / 101 - 2 / 3 * 67 / 101)
    report = diagnosis_report([d], [{"image_id": 0, "file_name": ""}], ["a", "b"])
    assert report["dap"] == {"tide": {e.value: v for e, v in costs.tide.items()}, "stages": {s.value: v for s, v in costs.stages.items()}, "map50": costs.map50}
    assert list(report["dap"]["tide"]) == ["classification", "localization", "both", "duplicate", "background", "missed"]
    assert list(report["dap"]["stages"]) == ["anchor", "rpn", "nms", "head", "class", "score", "taken"]


def test_dap_equals_tidecv_on_the_detections_frcnn_detect_writes():
    """A random model on shapes images, every detection it outputs (its own minimum score, the
    report's score threshold notwithstanding): the report's TIDE figures are tidecv's, and the
    stages' boxes together are TIDE's false negatives (its FalseNeg special error)."""
    torch.manual_seed(0)
    dataset = ShapesDataset(num_images=6, image_size=(128, 128), split="val")
    model = FasterRCNN(cpu_config(4, dataset.CLASS_NAMES, min_size=128, max_size=128))
    report = diagnose_dataset(model, dataset, score_threshold=0.9)
    detections = predict_dataset(model, dataset)
    assert sum(len(d) for d in detections) > 100 and max(d.scores.max() for d in detections) < 0.9
    theirs = tidecv_figures(detections, dataset_targets(dataset))
    assert report["dap"]["map50"] == pytest.approx(theirs.map, abs=1e-9) and theirs.map > 0
    assert report["dap"]["tide"] == pytest.approx(theirs.dap, abs=1e-9)
    model.eval()
    diagnoses = [diagnose_trace(model.trace(image), target) for image, target in (dataset[i] for i in range(len(dataset)))]
    oracle = TideOracle([d.tide for d in diagnoses])
    lost = np.concatenate([np.isin(np.arange(len(d.tide.gt_labels)), [g.index for g in d.gt if g.stage is not Stage.DETECTED]) for d in diagnoses])
    assert (oracle.false_negative <= lost).all()  # every false negative of TIDE has a stage
    assert oracle.map_without(lost) == pytest.approx(max(theirs.false_negatives_dap, 0.0), abs=1e-9)

"""frcnn diagnose --json and frcnn eval --plots end to end on a small random model."""

import json

import pytest
import torch

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.cli import main
from frcnn_core.data import ShapesDataset
from frcnn_core.evaluation.diagnose import diagnose_dataset
from frcnn_core.models.checkpoint import save_checkpoint

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = FasterRCNN(cpu_config(4, ShapesDataset.CLASS_NAMES, min_size=128, max_size=128))
    return save_checkpoint(tmp_path_factory.mktemp("model") / "random.pt", model)


def test_diagnose_prints_the_funnel_and_writes_the_report(checkpoint, tmp_path, capsys):
    out = tmp_path / "diagnosis.json"
    args = ["--data", "shapes", "--num-images", "3", "--iou", "0.3", "--score-threshold", "0.2", "--device", "cpu"]
    assert main(["diagnose", str(checkpoint), *args, "--json", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "ground truth" in text and "lost in NMS" in text and "background" in text and "triangle" in text
    report = json.loads(out.read_text())
    assert set(report) == {"iou", "score_threshold", "gt", "false_positives", "summary", "per_class", "dap"}
    dap = report["dap"]
    assert set(dap) == {"tide", "stages", "map50"} and 0 <= dap["map50"] <= 1
    assert list(dap["tide"]) == ["classification", "localization", "both", "duplicate", "background", "missed"]
    assert list(dap["stages"]) == ["anchor", "rpn", "nms", "head", "class", "score", "taken"]
    assert all(0 <= v <= 1 for v in [*dap["tide"].values(), *dap["stages"].values()])
    # the funnel's column: "lost in NMS: 7 boxes, +0.031 mAP@0.5 if fixed"
    nms = report["summary"]["gt"]["nms"]
    assert f"lost in NMS: {nms} box{'' if nms == 1 else 'es'}, {dap['stages']['nms']:+.3f} mAP@0.5 if fixed" in text
    tide_lines = text[text.index(f"TIDE's mAP@0.5 {dap['map50']:.3f}") :].splitlines()[1:7]
    printed = [line.split() for line in tide_lines]
    assert {name for name, _ in printed} == set(dap["tide"])  # the biggest lever first
    assert [float(value) for _, value in printed] == sorted((round(v, 3) for v in dap["tide"].values()), reverse=True)
    assert report["iou"] == 0.3 and report["score_threshold"] == 0.2
    assert sum(report["summary"]["gt"].values()) == len(report["gt"]) > 0
    assert sum(report["summary"]["false_positives"].values()) == len(report["false_positives"]) > 0
    assert set(report["gt"][0]) == {
        "image_id", "file_name", "box", "label", "class_name", "stage", "best_anchor_iou", "best_pre_nms_iou",
        "best_proposal_iou", "best_detection_iou", "best_class_detection_iou", "best_class_detection_score",
    }
    assert set(report["false_positives"][0]) == {"image_id", "file_name", "box", "label", "class_name", "score", "type"}
    # the file is the core's report, unchanged
    model = FasterRCNN(cpu_config(4, ShapesDataset.CLASS_NAMES, min_size=128, max_size=128))
    model.load_state_dict(torch.load(checkpoint, weights_only=True)["model"])
    direct = diagnose_dataset(model, ShapesDataset(num_images=3, split="val"), 0.3, 0.2)
    assert report == json.loads(json.dumps(direct))


def test_diagnose_rejects_an_iou_outside_0_1(checkpoint, capsys):
    with pytest.raises(SystemExit):
        main(["diagnose", str(checkpoint), "--data", "shapes", "--iou", "1.5"])
    assert "--iou" in capsys.readouterr().err


def test_eval_plots_writes_pr_curves_and_confusion_matrix(checkpoint, tmp_path, capsys):
    plots = tmp_path / "plots"
    assert main(["eval", str(checkpoint), "--data", "shapes", "--num-images", "2", "--device", "cpu", "--plots", str(plots)]) == 0
    assert "plots written" in capsys.readouterr().out
    for name in ("pr_curves.png", "confusion_matrix.png"):
        data = (plots / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000

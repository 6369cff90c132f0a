"""The diagnosis in the real window, offscreen: MainWindow.diagnose() against frcnn diagnose --json,
the panel's counts, clicking a stage, a GT edit in annotation mode, the curves tab."""

from __future__ import annotations

import dataclasses
import json
import threading

import numpy as np
import pytest
import torch
from PySide6 import QtCore

from frcnn_core import Detections, FasterRCNN, cpu_config
from frcnn_core.cli import main
from frcnn_core.evaluation.diagnose import FalsePositiveType, Stage
from frcnn_core.models.checkpoint import save_checkpoint
from frcnn_viewer.state.curves import evaluation_curves
from frcnn_viewer.workspaces import Workspace

from .conftest import BOXES, CLASSES

IOU, SCORE = 0.3, 0.2  # an untrained model scores about 1/3: its detections count at 0.2


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    model = FasterRCNN(cpu_config(2, CLASSES, min_size=128, max_size=128))
    return save_checkpoint(tmp_path_factory.mktemp("model") / "random.pt", model)


def click_row(qtbot, table, row: int) -> None:
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())


def listed(window) -> list[int]:
    """The entry indices the image list shows, top to bottom."""
    state = window.image_list.state
    return [state.entry_index(k) for k in range(len(state))]


def test_diagnose_equals_the_cli_json_and_the_panel_counts_it(window, qtbot, coco_file, checkpoint, tmp_path, capsys):
    out = tmp_path / "diagnosis.json"
    args = ["diagnose", str(checkpoint), "--data", str(coco_file), "--iou", str(IOU), "--score-threshold", str(SCORE), "--device", "cpu"]
    assert main([*args, "--json", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    cli = json.loads(out.read_text())
    assert window.open_paths([coco_file]) == 2 and window.load_checkpoint(checkpoint)
    costed_in = set()  # the thread each error-costs answer is emitted from: the worker's, never the GUI thread
    window.client.worker.costed.connect(lambda *_: costed_in.add(threading.current_thread()), QtCore.Qt.ConnectionType.DirectConnection)
    report = window.diagnose(iou=IOU, score_threshold=SCORE)
    assert json.loads(json.dumps(report)) == cli  # "dap" included
    assert len(cli["gt"]) == 4 and cli["false_positives"]  # something to compare
    panel = window.diagnosis_panel
    assert panel.counts() == report["summary"]
    # the two cost charts beside the funnel: the report's dAP, the biggest lever on top
    assert costed_in and threading.main_thread() not in costed_in
    assert window.document.costs_current()
    for key in ("tide", "stages"):
        drawn = panel.cost_bars()[key]
        assert dict(drawn) == pytest.approx(report["dap"][key])
        assert [value for _, value in drawn] == sorted(report["dap"][key].values(), reverse=True)
    assert f"{report['dap']['map50']:.3f}" in panel.costs_label.text()
    assert panel.iou.value() == IOU and panel.score.value() == SCORE

    # clicking a stage lists the images holding one, the most first
    doc = window.document
    stage = next(Stage(s) for s, n in report["summary"]["gt"].items() if n)
    click_row(qtbot, *panel.row_of(stage))
    assert doc.list_filter is stage
    per_image = {i: sum(g["stage"] == stage.value for g in report["gt"] if g["image_id"] == doc.entries[i].info()["image_id"]) for i in range(2)}
    expected = sorted((i for i, n in per_image.items() if n), key=lambda i: (-per_image[i], i))
    assert listed(window) == expected
    panel.show_all.click()
    assert doc.list_filter is None and listed(window) == [0, 1]

    # new settings: the current image at once, the list again in the worker
    window.document.set_diagnosis_settings(iou=0.5)
    assert doc.diagnosis.iou == 0.5
    assert window.wait_until_idle() and doc.stale_diagnoses() == []
    assert panel.counts()["gt"] == {s.value: n for s, n in doc.diagnosis_summary().stages.items()}

    # the curves tab: the core's PR curves and confusion matrix of the same results
    window.workspaces.show(Workspace.DIAGNOSE)
    window.docks["curves"].raise_()
    assert window.plots_panel.wait()
    expected_curves = evaluation_curves(doc.results, CLASSES, 0.5, SCORE)
    drawn = window.plots_panel.curves
    assert [c.ap for c in drawn.curves] == [c.ap for c in expected_curves.curves]
    np.testing.assert_array_equal(drawn.confusion, expected_curves.confusion)
    texts = window.plots_panel.texts()
    assert texts == {(r, c): str(n) for (r, c), n in np.ndenumerate(expected_curves.confusion) if n}
    assert len(window.plots_panel.pr_plot.getPlotItem().listDataItems()) == len(CLASSES)


def test_relabelling_a_box_in_annotation_mode_changes_its_verdict(window, qtbot, coco_file):
    """A "blue" detection on the red square: "found as another class" until the user says the
    square is blue; then it is detected and the false positive is gone."""
    assert window.open_paths([coco_file]) == 2
    doc = window.document
    torch.manual_seed(0)
    trace = FasterRCNN(doc.model.config).eval().trace(doc.image.tensor)
    gt = torch.tensor(BOXES)
    det = Detections(torch.tensor([BOXES[0]]), torch.tensor([0.9]), torch.tensor([2]), torch.full((1, 3), 1 / 3), torch.zeros(1, dtype=torch.int64), torch.zeros(1, 4))
    trace = dataclasses.replace(trace, pre_nms_boxes=gt, pre_nms_scores=torch.ones(2), proposals=gt, proposal_scores=torch.ones(2), detections=det)
    assert doc.show_trace(0, trace, doc.image)
    labels = lambda: [label.text for label in window.canvas.layer_items["diagnosis"].labels.labels()]  # noqa: E731
    assert Stage.CLASS.description in labels() and f"FP: {FalsePositiveType.CLASSIFICATION.description}" in labels()
    window.set_mode("annotate")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    x1, y1, x2, y2 = BOXES[0]
    qtbot.mouseClick(window.canvas.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=window.canvas.image_to_widget((x1 + x2) / 2, (y1 + y2) / 2))
    blue = window.annotation.classes.names.index("blue") + 1
    qtbot.keyClick(window, QtCore.Qt.Key(QtCore.Qt.Key.Key_0 + blue))  # relabel the selected box
    assert doc.image.gt_names[0] == "blue"
    assert doc.diagnosis.gt[0].stage is Stage.DETECTED and doc.diagnosis.false_positives == []
    assert Stage.CLASS.description not in labels() and not any(text.startswith("FP") for text in labels())
    assert "detected" in window.diagnosis_panel.current.text()

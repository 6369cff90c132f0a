"""frcnn_viewer.training.dock: the form, the buttons, the curves and the metrics log in the real window."""

from __future__ import annotations

import json

from frcnn_core.train import describe_device, select_device

from .fakes import TRAINING_TIMEOUT_MS, curve_points


def test_the_form_becomes_training_options(window):
    dock = window.docks["training"].widget()
    options = dock.options()
    assert options.data == "shapes" and options.device == "auto" and options.train == {} and options.detector == {}
    dock.backbone.setCurrentText("resnet18")
    dock.image_size.setValue(96)
    dock.iterations.setValue(30)
    dock.lr.setValue(0.005)
    dock.batch_size.setValue(2)
    dock.device.setCurrentText("cpu")
    options = dock.options()
    assert options.detector == {"backbone": "resnet18"} and options.image_size == 96 and options.device == "cpu"
    assert options.train == {"iterations": 30, "lr": 0.005, "batch_size": 2}
    assert dock.device_name.text() == describe_device(select_device("cpu"))


def test_buttons_start_pause_step_and_stop_a_run(window, qtbot, tmp_path):
    dock = window.docks["training"].widget()
    dock.data.setCurrentText("shapes")
    dock.image_size.setValue(64)
    dock.batch_size.setValue(1)
    dock.iterations.setValue(300)
    dock.device.setCurrentText("cpu")
    dock.output_dir.setText(str(tmp_path))
    assert not dock.pause_button.isEnabled() and not dock.stop_button.isEnabled()
    dock.start_button.click()
    qtbot.waitUntil(lambda: window.training_state()["iteration"] >= 2, timeout=TRAINING_TIMEOUT_MS)
    assert not dock.start_button.isEnabled() and dock.stop_button.isEnabled()
    dock.pause_button.click()
    qtbot.waitUntil(lambda: window.training_state()["paused"], timeout=TRAINING_TIMEOUT_MS)
    assert dock.pause_button.text() == "Resume"
    before = window.training_state()["iteration"]
    dock.step_count.setValue(2)
    dock.step_button.click()
    qtbot.waitUntil(lambda: window.training_state()["iteration"] == before + 2 and window.training_state()["paused"], timeout=TRAINING_TIMEOUT_MS)
    assert window.document.trace.iteration == before + 2
    with qtbot.waitSignal(window.training.stopped, timeout=TRAINING_TIMEOUT_MS):
        dock.stop_button.click()
    assert (tmp_path / "last.pt").is_file() and dock.start_button.isEnabled()
    dock.log_scale.setChecked(True)
    dock.smoothing.setValue(3)
    assert curve_points(dock.plots.curves["rpn_cls"]) == before + 2


def test_a_runs_metrics_log_is_reopened_as_curves(window, tmp_path):
    rows = [{"iteration": i, "lr": 0.01, "seconds": 0.5, "total": 2.0 / i, "rpn_cls": 0.5 / i, "fg_rois": 4.0} for i in range(1, 11)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    dock = window.docks["training"].widget()
    assert window.training.open_metrics(tmp_path / "metrics.jsonl")
    assert curve_points(dock.plots.curves["total"]) == 10 and curve_points(dock.plots.curves["iterations_per_second"]) == 10
    assert "iteration 10 / 10" in dock.status.text()
    (tmp_path / "bad.jsonl").write_text("{}\n")
    assert not window.training.open_metrics(tmp_path / "bad.jsonl")
    assert "bad.jsonl" in window.document.messages[-1].text and curve_points(dock.plots.curves["total"]) == 10


def test_the_data_field_proposes_the_dataset_just_opened_unless_the_user_chose(window, voc_dir, coco_file):
    dock = window.docks["training"].widget()
    assert dock.data.currentText() == "shapes"  # the bundled samples are open
    window.open_paths([voc_dir])
    assert dock.data.currentText() == str(voc_dir)
    dock.data.setCurrentText("composite")  # the user's choice stays
    window.open_paths([coco_file])
    assert dock.data.currentText() == "composite"
    assert dock.data.findText(str(coco_file)) >= 0


def test_validations_are_drawn_with_the_losses_the_best_is_marked_and_loaded(window, qtbot, tmp_path):
    dock = window.docks["training"].widget()
    assert not dock.load_best_button.isEnabled()
    assert window.start_training("shapes", iterations=4, device="cpu", image_size=64, batch_size=1, num_images=4, val_images=2,
                                 val_every=2, trace_every=100, output_dir=str(tmp_path))
    qtbot.waitUntil(lambda: len(window.training_state()["validations"]) == 2, timeout=TRAINING_TIMEOUT_MS)
    with qtbot.waitSignal(window.training.stopped, timeout=TRAINING_TIMEOUT_MS):
        window.stop_training(wait=False)
    state = window.training_state()
    assert [v["iteration"] for v in state["validations"]] == [2, 4]
    assert state["best_checkpoint"] == str(tmp_path / "best.pt")
    assert {2, 4} <= set(state["recorded"])  # each validated step is in the timeline (trace_every alone would record none)
    dock._redraw()
    for name in ("val_total", "val_rpn_cls", "val_map50", "val_coco_ap"):
        assert curve_points(dock.plots.curves[name]) == 2
    best = max(state["validations"], key=lambda v: v["map50"])
    assert all(line.isVisible() and line.value() == best["iteration"] for line in dock.plots.best_lines)
    dock.session.scrub(state["recorded"].index(2))
    assert "val mAP@0.5" in dock.timeline_label.text()
    assert dock.load_best_button.isEnabled()
    dock.load_best_button.click()
    qtbot.waitUntil(lambda: window.document.model is not None and window.document.model.checkpoint == str(tmp_path / "best.pt"),
                    timeout=TRAINING_TIMEOUT_MS)


def test_a_reopened_log_shows_its_validations_apart_from_the_steps(window, tmp_path):
    rows = [{"iteration": i, "lr": 0.01, "seconds": 0.5, "total": 2.0 / i, "rpn_cls": 0.5 / i} for i in range(1, 5)]
    rows.insert(2, {"iteration": 2, "split": "val", "rpn_cls": 0.4, "rpn_reg": 0.1, "roi_cls": 0.5, "roi_reg": 0.2, "total": 1.2, "map50": 0.3, "coco_ap": 0.1})
    rows.append({"iteration": 4, "split": "val", "rpn_cls": 0.3, "rpn_reg": 0.1, "roi_cls": 0.4, "roi_reg": 0.2, "total": 1.0, "map50": 0.2, "coco_ap": 0.1})
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert window.training.open_metrics(tmp_path)
    dock = window.docks["training"].widget()
    assert curve_points(dock.plots.curves["rpn_cls"]) == 4 and curve_points(dock.plots.curves["val_rpn_cls"]) == 2
    assert dock.plots.curves["total"].getData()[1][1] == 1.0  # the step's own loss, not the validation's
    assert dock.plots.best_lines[0].value() == 2  # the higher mAP@0.5, though the later loss is lower
    assert not dock.load_best_button.isEnabled()  # no best.pt beside this log

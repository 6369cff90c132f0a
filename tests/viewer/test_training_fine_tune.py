"""Fine-tuning a torchvision Faster R-CNN from its file in the Train workspace: the same curves,
stepping and canvas as our own training, and the viewer's model follows the run."""

from __future__ import annotations

import pytest
import torch

from frcnn_core.models.checkpoint import load_checkpoint
from frcnn_core.models.torchvision_frcnn import TorchvisionFasterRCNN, build_torchvision_detector

from .fakes import TRAINING_TIMEOUT_MS, curve_points

ARCH = "fasterrcnn_mobilenet_v3_large_320_fpn"


@pytest.mark.slow
def test_a_torchvision_file_fine_tunes_with_curves_steps_and_the_model_following(window, qtbot, tmp_path):
    torch.manual_seed(0)
    weights = tmp_path / "detector.pth"
    torch.save(build_torchvision_detector(ARCH, 2).state_dict(), weights)  # two classes; shapes has four
    dock = window.docks["training"].widget()
    assert window.start_training("shapes", iterations=200, device="cpu", init=str(weights), arch=ARCH, image_size=64,
                                 batch_size=1, num_images=4, trace_every=1, output_dir=str(tmp_path / "run"))
    messages = [m.text for m in window.document.messages]
    assert any("reference recipe: SGD lr 0.00125" in text for text in messages)  # 0.02 x 1 / 16
    assert any("box predictor starts anew" in text for text in messages)
    qtbot.waitUntil(lambda: curve_points(dock.plots.curves["total"]) >= 2, timeout=TRAINING_TIMEOUT_MS)
    assert window.pause_training()
    with qtbot.waitSignal(window.training.step_finished, timeout=TRAINING_TIMEOUT_MS):
        assert window.step_training(1) == 1
    qtbot.waitUntil(lambda: window.document.model is not None and window.document.model.arch == ARCH, timeout=TRAINING_TIMEOUT_MS)
    trace = window.document.trace
    assert trace is not None and trace.iteration == window.training_state()["iteration"] and len(trace.levels) == 3
    assert ARCH in window.architecture_label.text()
    checkpoint = window.stop_training()
    model, _ = load_checkpoint(checkpoint)
    assert isinstance(model, TorchvisionFasterRCNN) and model.config.class_names == ("circle", "square", "triangle", "cross")


def test_the_train_dock_names_the_file_to_fine_tune_and_its_architecture(window):
    dock = window.docks["training"].widget()
    assert dock.options().init is None and dock.arch.currentData() is None  # a new model, the architecture from the file
    dock.init.setText("  detector.pth ")
    dock.arch.setCurrentIndex(dock.arch.findData(ARCH))
    options = dock.options()
    assert options.init == "detector.pth" and options.arch == ARCH

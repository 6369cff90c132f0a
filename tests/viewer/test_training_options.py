"""frcnn_viewer.training.options: keywords to settings, checked where they enter."""

from __future__ import annotations

import pytest

from frcnn_viewer.training.options import TrainingOptions, build_trainer, open_training_data


def test_keywords_are_sorted_into_train_and_detector_settings():
    options = TrainingOptions.from_keywords("shapes", 50, "cpu", lr=0.005, batch_size=1, backbone="resnet18", image_size=64, num_images=4)
    assert options.train == {"lr": 0.005, "batch_size": 1, "iterations": 50}
    assert options.detector == {"backbone": "resnet18"}
    assert options.image_size == 64 and options.num_images == 4 and options.device == "cpu"


@pytest.mark.parametrize(("keywords", "message"), [
    ({"learning_rate": 0.1}, "learning_rate"),
    ({"lr": -1.0}, "lr must be positive"),
    ({"preset": "huge"}, "preset"),
    ({"trace_every": 0}, "trace_every"),
])
def test_bad_settings_are_refused_with_their_name(keywords, message):
    with pytest.raises(ValueError, match=message):
        TrainingOptions.from_keywords("shapes", **keywords)


def test_the_cpu_preset_and_the_changes_reach_the_trainer(tmp_path):
    options = TrainingOptions.from_keywords("shapes", 7, "cpu", image_size=64, batch_size=1, num_images=3, rpn_post_nms_top_n_train=50)
    dataset = open_training_data(options)
    trainer = build_trainer(options, dataset, tmp_path)
    cfg = trainer.model.config
    assert len(dataset) == 3 and cfg.class_names == tuple(dataset.class_names)
    assert cfg.backbone == "small" and cfg.min_size == 64 and cfg.rpn_post_nms_top_n_train == 50
    assert trainer.config.iterations == 7 and trainer.config.batch_size == 1 and trainer.config.lr == 0.02
    assert options.replace(output_dir=str(tmp_path)).run_dir() == tmp_path

"""frcnn_viewer.state.training.options: keywords to settings, checked where they enter."""

from __future__ import annotations

import pytest

from frcnn_viewer.state.training.options import TrainingOptions, build_trainer, open_training_data


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


class LargeBoxes:
    """Four 256x256 images, each one object filling 70-90 % of it: the cpu preset's largest
    anchor reaches IoU 0.5 with none of them (no pixels are needed to check anchors)."""

    class_names = ("block",)
    category_ids = (1,)
    problems: list[str] = []

    def __len__(self) -> int:
        return 4

    def info(self, i: int) -> dict:
        import torch

        side = 180 + 12 * i
        return {"path": None, "size": (256, 256), "image_id": i,
                "target": {"boxes": torch.tensor([[10.0, 20.0, 10.0 + side, 20.0 + side]]), "labels": torch.tensor([1])}}


@pytest.mark.parametrize("autoanchor", [False, True])
def test_the_dock_runs_the_training_start_anchor_check_and_never_replaces_anchors_the_user_set(tmp_path, autoanchor):
    said = []
    options = TrainingOptions(data="x", device="cpu", preset="cpu", image_size=256, autoanchor=autoanchor)
    trainer = build_trainer(options, LargeBoxes(), tmp_path, lambda level, text: said.append((level, text)))
    assert said[0][0] == "warning" and "fit the data poorly" in said[0][1] and "--anchor-scales" in said[0][1]
    preset_scales = TrainingOptions(device="cpu", preset="cpu", autoanchor=False).replace(image_size=256)
    switched = trainer.model.config.anchor_scales != build_trainer(preset_scales, LargeBoxes(), tmp_path).model.config.anchor_scales
    assert switched is autoanchor
    said.clear()
    fixed = TrainingOptions(data="x", device="cpu", preset="cpu", image_size=256, autoanchor=True, detector={"anchor_scales": (1.0, 2.0)})
    assert build_trainer(fixed, LargeBoxes(), tmp_path, lambda level, text: said.append(text)).model.config.anchor_scales == (1.0, 2.0)
    assert said[-1] == "keeping the anchors you set"


def test_fine_tuning_options_name_one_file_and_its_architecture():
    assert TrainingOptions.from_keywords("shapes", init="detector.pth", arch="fasterrcnn_resnet50_fpn").init == "detector.pth"
    with pytest.raises(ValueError, match="give one of them"):
        TrainingOptions(init="detector.pth", resume="last.pt")
    with pytest.raises(ValueError, match="arch names the architecture of the file given as init"):
        TrainingOptions(arch="fasterrcnn_resnet50_fpn")

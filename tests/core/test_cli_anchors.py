"""``frcnn anchors --optimize`` and the anchor check at ``frcnn train``'s start, end to end."""

import json

import pytest

from frcnn_core.cli import main
from frcnn_core.config import cpu_config
from frcnn_core.models.checkpoint import checkpoint_config, read_checkpoint

PRESET_SCALES = cpu_config(1).anchor_scales
TRAIN = ["--iterations", "2", "--batch-size", "2", "--device", "cpu", "--no-progress", "--preset", "cpu"]


def test_anchors_optimize_json(large_objects, tmp_path, capsys):
    out = tmp_path / "anchors.json"
    args = ["anchors", "--data", str(large_objects), "--min-size", "256", "--max-size", "512", "--anchor-scales", ",".join(map(str, PRESET_SCALES))]
    assert main([*args, "--optimize", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert {"before", "after", "anchor_scales", "anchor_ratios"} <= set(report)
    for side in ("before", "after"):
        assert {"iou_0.7", "iou_0.5", "median_iou"} <= set(report[side])
        assert all(0.0 <= report[side][k] <= 1.0 for k in ("iou_0.7", "iou_0.5", "median_iou"))
    assert report["before"]["iou_0.5"] == 0.0 and report["after"]["iou_0.5"] == 1.0
    assert len(report["anchor_scales"]) == 4 and len(report["anchor_ratios"]) == 3
    snippet = json.loads(printed.split("--config file: ")[1].splitlines()[0])
    assert snippet == {"detector": {"anchor_scales": report["anchor_scales"], "anchor_ratios": report["anchor_ratios"]}}
    assert "--anchor-scales " + ",".join(f"{v:g}" for v in report["anchor_scales"]) in printed
    # the plain report still prints as before
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["coverage"]["iou_ge_0.5"] == 0


def trained_scales(folder) -> tuple:
    return checkpoint_config(read_checkpoint(folder / "last.pt")).anchor_scales


@pytest.mark.slow
def test_train_start_check_switches_only_anchors_nobody_chose(large_objects, tmp_path, capsys):
    data = ["train", "--data", str(large_objects), *TRAIN]
    assert main([*data, "--output", str(tmp_path / "auto"), "--autoanchor"]) == 0
    printed = capsys.readouterr().out
    assert "warning: anchors 1.5,2.5,4,6.5 x 0.5,1,2 fit the data poorly: 0.0% of 6 GT boxes" in printed
    assert "training with the optimised anchors" in printed
    optimised = trained_scales(tmp_path / "auto")
    assert optimised != PRESET_SCALES and min(optimised) > max(PRESET_SCALES)

    assert main([*data, "--output", str(tmp_path / "off"), "--no-autoanchor"]) == 0
    assert "keeping the configured anchors" in capsys.readouterr().out
    assert trained_scales(tmp_path / "off") == PRESET_SCALES

    assert main([*data, "--output", str(tmp_path / "flag"), "--autoanchor", "--anchor-scales", "2,3"]) == 0
    assert "keeping the anchors you set" in capsys.readouterr().out
    assert trained_scales(tmp_path / "flag") == (2.0, 3.0)

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"detector": {"anchor_ratios": [1.0]}}))
    assert main([*data, "--output", str(tmp_path / "file"), "--autoanchor", "--config", str(config)]) == 0
    assert "keeping the anchors you set" in capsys.readouterr().out
    assert trained_scales(tmp_path / "file") == PRESET_SCALES


def test_the_warning_offers_optimised_anchors_only_with_the_rule_they_were_measured_under(large_objects):
    from frcnn_core import anchors_for_training, open_dataset

    dataset = open_dataset(large_objects)
    seed_rule = cpu_config(len(dataset.class_names), tuple(dataset.class_names), rpn_allowed_border=0.0)
    config, lines = anchors_for_training(dataset, seed_rule, autoanchor=False)
    assert config == seed_rule and "fit the data poorly" in lines[0]
    assert "rpn_allowed_border" in lines[1] and "--autoanchor" in lines[1] and "trained worse" in lines[1]
    every_anchor = seed_rule.replace(rpn_allowed_border=100000.0)
    config, lines = anchors_for_training(dataset, every_anchor, autoanchor=False)
    assert config == every_anchor and "keeping the configured anchors, as asked" in lines[1]


def test_by_default_optimised_anchors_train_only_when_every_anchor_trains(large_objects):
    from frcnn_core import anchors_for_training, open_dataset

    dataset = open_dataset(large_objects)
    every_anchor = cpu_config(len(dataset.class_names), tuple(dataset.class_names))  # the cpu preset's rule
    config, lines = anchors_for_training(dataset, every_anchor)
    assert config.anchor_scales != every_anchor.anchor_scales and "training with the optimised anchors" in lines[1]
    seed_rule = every_anchor.replace(rpn_allowed_border=0.0)
    config, lines = anchors_for_training(dataset, seed_rule)
    assert config == seed_rule and "trained worse" in lines[1]

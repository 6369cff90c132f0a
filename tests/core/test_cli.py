"""The frcnn command end to end on tiny generated data."""

import json

import pytest
import torch
from pycocotools.coco import COCO

from frcnn_core.annotations import export_coco
from frcnn_core.annotations.model import BoxAnnotation, ImageAnnotation
from frcnn_core.cli import main
from frcnn_core.data import ShapesDataset

TINY = ["--image-size", "64", "--iterations", "3", "--batch-size", "2", "--num-images", "4", "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--data", "shapes", "--output", str(out), *TINY, "--val-data", "shapes", "--checkpoint-every", "2"]) == 0
    return out


@pytest.mark.slow
def test_train_writes_checkpoint_metrics_and_eval(checkpoint):
    assert (checkpoint / "last.pt").is_file()
    rows = [json.loads(line) for line in (checkpoint / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows if r.get("split") != "val"] == [1, 2, 3]
    assert [r["iteration"] for r in rows if r.get("split") == "val"] == [3]  # a run this short validates at its end
    report = json.loads((checkpoint / "eval.json").read_text())
    assert 0.0 <= report["map50"] <= 1.0 and set(report["per_class"]) == {"circle", "square", "triangle", "cross"}


@pytest.mark.slow
def test_resume_extends_the_run(checkpoint, tmp_path):
    out = tmp_path / "resumed"
    out.mkdir()
    (out / "last.pt").write_bytes((checkpoint / "last.pt").read_bytes())
    assert main(["train", "--data", "shapes", "--output", str(out), "--resume", "--iterations", "4", "--num-images", "4", "--device", "cpu", "--no-progress"]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows if r.get("split") != "val"] == [4]


def test_detect_coco_format_scores_against_the_source_file(checkpoint, tmp_path, capsys):
    # a COCO file with its own (non-1-based) ids: the output must use them
    ds = ShapesDataset(num_images=3, image_size=(64, 64), split="val")
    images = tmp_path / "images"
    images.mkdir()
    annotations = []
    from PIL import Image

    for i in range(len(ds)):
        image, target = ds[i]
        name = f"img{i}.png"
        Image.fromarray((image.permute(1, 2, 0).numpy() * 255).astype("uint8")).save(images / name)
        boxes = [BoxAnnotation(ds.class_names[label - 1], tuple(box)) for box, label in zip(target["boxes"].tolist(), target["labels"].tolist())]
        annotations.append(ImageAnnotation(name, 64, 64, boxes=boxes))
    coco_file = images / "instances.json"
    export_coco(annotations, list(ds.class_names), coco_file, image_ids=[101, 205, 309])
    out = tmp_path / "dets.json"
    assert main(["detect", str(checkpoint / "last.pt"), "--data", str(coco_file), "-o", str(out), "--score-threshold", "0.0", "--device", "cpu", "--render", str(tmp_path / "png")]) == 0
    results = json.loads(out.read_text())
    assert results and {r["image_id"] for r in results} <= {101, 205, 309}
    COCO(str(coco_file)).loadRes(str(out))  # pycocotools accepts it unchanged
    assert len(list((tmp_path / "png").glob("*.png"))) == 3


def test_detect_rich_format_on_image_files(checkpoint, tmp_path):
    from PIL import Image

    Image.new("RGB", (80, 60), (120, 30, 30)).save(tmp_path / "a.jpg")
    out = tmp_path / "rich.json"
    assert main(["detect", str(checkpoint / "last.pt"), str(tmp_path / "a.jpg"), "-o", str(out), "--format", "rich", "--device", "cpu"]) == 0
    payload = json.loads(out.read_text())
    assert payload["schema_version"] == 1 and payload["images"][0]["width"] == 80 and payload["images"][0]["height"] == 60
    assert payload["class_names"] == ["circle", "square", "triangle", "cross"]


def test_detect_score_threshold_is_the_models_and_a_bad_one_is_one_line(checkpoint, tmp_path, capsys):
    """``--score-threshold`` sets the model's ``score_thresh`` (through ``reconfigure``): the
    model outputs nothing below it; a value outside 0..1 is refused with the field named."""
    from PIL import Image

    Image.new("RGB", (64, 64), (120, 30, 30)).save(tmp_path / "a.png")
    scores = {}
    for threshold in ("0.0", "0.3"):
        out = tmp_path / f"{threshold}.json"
        assert main(["detect", str(checkpoint / "last.pt"), str(tmp_path / "a.png"), "-o", str(out), "--score-threshold", threshold, "--device", "cpu", "--no-progress"]) == 0
        scores[threshold] = sorted(r["score"] for r in json.loads(out.read_text()))
    assert [s for s in scores["0.0"] if s >= 0.3] == scores["0.3"] and len(scores["0.3"]) < len(scores["0.0"])
    capsys.readouterr()
    assert main(["detect", str(checkpoint / "last.pt"), str(tmp_path / "a.png"), "-o", str(tmp_path / "x.json"), "--score-threshold", "1.5", "--device", "cpu"]) == 1
    assert "score_thresh must be in 0..1, got 1.5" in capsys.readouterr().err


def test_eval_prints_and_writes_json(checkpoint, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert main(["eval", str(checkpoint / "last.pt"), "--data", "shapes", "--num-images", "3", "--json", str(out), "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "mAP@0.5" in text and "COCO AP" in text and "triangle" in text
    report = json.loads(out.read_text())
    assert set(report) >= {"map50", "map50_11pt", "coco_ap", "per_class"}
    curve = report["per_class"]["circle"]["pr_curve"]
    assert len(curve["precision"]) == len(curve["recall"]) == len(curve["scores"])
    assert curve["scores"] == sorted(curve["scores"], reverse=True)


def test_anchors_counts_and_coverage(capsys):
    assert main(["anchors", "--image-size", "800x800", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["anchors"] == 22500 and report["counts"]["inside"] == 8940
    assert main(["anchors", "--image-size", "256x256", "--data", "shapes", "--split", "val", "--min-size", "256", "--max-size", "512", "--anchor-scales", "2,4,8"]) == 0
    assert "GT boxes" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["train", "--data", "nowhere/at/all", "--output", "x"], 1, "no such file"),
        (["anchors", "--anchor-scales", "8,-1"], 2, "positive numbers"),
        (["eval", "missing.pt", "--data", "shapes"], 1, "does not exist"),
        (["detect", "missing.pt", "-o", "x.json"], 1, "either image files"),
        pytest.param(["train", "--data", "shapes", "--output", "x", "--device", "cuda:7"], 1, "CUDA is not available", marks=pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")),
    ],
)
def test_usage_errors_exit_non_zero_with_a_message(argv, code, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        assert main(argv) == code
    except SystemExit as exc:  # argparse's own usage errors
        assert exc.code == code
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_finishes_the_step_writes_a_checkpoint_and_resume_continues(tmp_path, monkeypatch, capsys):
    import signal

    from frcnn_core.train import Trainer

    step = Trainer.step

    def step_then_interrupt(self, *args, **kwargs):
        result = step(self, *args, **kwargs)
        if self.iteration == 2:
            signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl-C during this step
        return result

    monkeypatch.setattr(Trainer, "step", step_then_interrupt)
    handler_before = signal.getsignal(signal.SIGINT)
    out = tmp_path / "run"
    assert main(["train", "--data", "shapes", "--output", str(out), *TINY]) == 130
    assert "interrupted at iteration 2" in capsys.readouterr().err
    assert torch.load(out / "last.pt", weights_only=True)["trainer"]["iteration"] == 2
    assert signal.getsignal(signal.SIGINT) is handler_before  # restored
    monkeypatch.setattr(Trainer, "step", step)
    assert main(["train", "--data", "shapes", "--output", str(out), "--resume", *TINY]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows if r.get("split") != "val"] == [1, 2, 3]


def test_out_of_gpu_memory_is_a_clear_error(tmp_path, monkeypatch, capsys):
    from frcnn_core.train import Trainer

    def out_of_memory(self, *args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Trainer, "run", out_of_memory)
    assert main(["train", "--data", "shapes", "--output", str(tmp_path / "run"), *TINY]) == 1
    err = capsys.readouterr().err
    assert "out of GPU memory" in err and "Tried to allocate 2.00 GiB" in err and "--batch-size" in err

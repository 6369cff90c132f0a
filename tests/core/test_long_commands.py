"""Long commands: progress bars, the slow-open line, sharding under torchrun, hostile JSON."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
import torch
from data_files import truncate
from PIL import Image

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.annotations import export_coco
from frcnn_core.annotations.model import BoxAnnotation, ImageAnnotation
from frcnn_core.cli import main
from frcnn_core.cli import progress as cli_progress
from frcnn_core.data import CocoDataset, ShapesDataset
from frcnn_core.inference import predict_dataset
from frcnn_core.models.checkpoint import save_checkpoint

NAMES = ("circle", "square", "triangle", "cross")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A checkpoint of an untrained light model (it detects junk, but deterministically) and a
    5-image COCO set written by the project's own export."""
    root = tmp_path_factory.mktemp("long")
    torch.manual_seed(0)
    model = FasterRCNN(cpu_config(len(NAMES), NAMES, min_size=64, max_size=96, score_thresh=0.0))
    checkpoint = save_checkpoint(root / "model.pt", model)
    ds = ShapesDataset(num_images=5, image_size=(64, 80), split="val")
    annotations = []
    for i in range(len(ds)):
        image, target = ds[i]
        Image.fromarray((image.permute(1, 2, 0).numpy() * 255).astype("uint8")).save(root / f"img{i}.png")
        boxes = [BoxAnnotation(NAMES[label - 1], tuple(box)) for box, label in zip(target["boxes"].tolist(), target["labels"].tolist())]
        annotations.append(ImageAnnotation(f"img{i}.png", 80, 64, boxes=boxes))
    coco = root / "instances.json"
    export_coco(annotations, list(NAMES), coco, image_ids=[11, 22, 33, 44, 55])
    return checkpoint, coco


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_detect_shows_a_bar_on_a_terminal_only(files, tmp_path, monkeypatch):
    checkpoint, coco = files
    argv = ["detect", str(checkpoint), "--data", str(coco), "-o", str(tmp_path / "d.json"), "--device", "cpu"]
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(argv) == 0
    bar = terminal.getvalue()
    assert "detect" in bar and "5/5" in bar and "img/s" in bar  # count, rate (and ETA while running)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main([*argv, "--no-progress"]) == 0
    assert terminal.getvalue() == ""
    piped = io.StringIO()  # a log file or a pipe: no bar
    monkeypatch.setattr(sys, "stderr", piped)
    assert main(argv) == 0
    assert piped.getvalue() == ""


def test_eval_and_anchors_show_bars(files, tmp_path, monkeypatch):
    checkpoint, coco = files
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["eval", str(checkpoint), "--data", str(coco), "--device", "cpu", "--batch-size", "2"]) == 0
    assert main(["anchors", "--data", str(coco), "--min-size", "64", "--max-size", "96"]) == 0
    text = terminal.getvalue()
    assert "eval" in text and "anchors" in text and text.count("5/5") >= 2


def test_a_slow_open_says_so_while_it_opens(files, monkeypatch, capsys):
    _, coco = files
    monkeypatch.setattr(cli_progress, "ANNOUNCE_AFTER_S", 0.0)
    real = CocoDataset.__init__

    def slow(self, *args, **kwargs):
        import time

        time.sleep(0.2)
        real(self, *args, **kwargs)

    monkeypatch.setattr(CocoDataset, "__init__", slow)
    assert main(["anchors", "--data", str(coco), "--json"]) == 0
    err = capsys.readouterr().err
    assert "opening instances.json …" in err and "opened instances.json in" in err and "5 images" in err


def test_coco_open_reports_progress_about_a_hundred_times(tmp_path):
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 64, "height": 48} for i in range(3000)]
    anns = [{"id": k, "image_id": k % 3000, "category_id": 1, "bbox": [1, 2, 3, 4], "segmentation": [[1, 2, 3, 4, 5, 6]]} for k in range(9000)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "a"}]}))
    calls = []
    ds = CocoDataset(path, progress=lambda done, total: calls.append((done, total)))
    assert len(ds) == 3000 and ds.info(1)["target"]["boxes"].tolist() == [[1, 2, 4, 6]] * 3
    assert 50 <= len(calls) <= 110 and calls[-1] == (100, 100)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and {t for _, t in calls} == {100}


def test_an_unreadable_image_gets_no_detections_and_a_warning(files, tmp_path, capsys):
    checkpoint, coco = files
    folder = tmp_path / "set"
    folder.mkdir()
    for path in coco.parent.glob("img*.png"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "instances.json").write_bytes(coco.read_bytes())
    truncate(folder / "img2.png", 0.5)
    out = tmp_path / "d.json"
    assert main(["detect", str(checkpoint), "--data", str(folder / "instances.json"), "-o", str(out), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "warning:" in printed and "img2.png" in printed
    assert 33 not in {r["image_id"] for r in json.loads(out.read_text())}
    assert {r["image_id"] for r in json.loads(out.read_text())} == {11, 22, 44, 55}


def test_progress_callback_counts_images(files):
    checkpoint, coco = files
    from frcnn_core.models.checkpoint import load_checkpoint

    model, _ = load_checkpoint(checkpoint)
    ds = CocoDataset(coco)
    calls = []
    batched = predict_dataset(model, ds, batch_size=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 5), (4, 5), (5, 5)] and len(batched) == 5


def _deep(path, opener: str, closer: str, depth: int = 100_000):
    path.write_text(opener * depth + closer * depth)
    return path


@pytest.mark.parametrize("shape", [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_json_is_one_line_naming_the_file(files, tmp_path, capsys, shape):
    checkpoint, _ = files
    deep = _deep(tmp_path / "deep.json", *shape)
    commands = [
        ["eval", str(checkpoint), "--data", str(deep), "--device", "cpu"],
        ["detect", str(checkpoint), "--data", str(deep), "-o", str(tmp_path / "o.json"), "--device", "cpu"],
        ["train", "--data", str(deep), "--output", str(tmp_path / "run"), "--device", "cpu", "--no-progress"],
        ["train", "--data", "shapes", "--config", str(deep), "--output", str(tmp_path / "run"), "--device", "cpu", "--no-progress", "--num-images", "2"],
    ]
    for argv in commands:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "deep.json" in err and "nested too deeply" in err, (argv, err[:300])


def test_deeply_nested_results_and_annotation_files_are_clear_errors(tmp_path):
    from frcnn_core.annotations import AnnotationError, import_coco
    from frcnn_core.files.export import ResultsFormatError, read_rich_results

    deep = _deep(tmp_path / "deep.json", "[", "]")
    with pytest.raises(ResultsFormatError, match="deep.json: JSON nested too deeply"):
        read_rich_results(deep)
    with pytest.raises(AnnotationError, match="deep.json: JSON nested too deeply"):
        import_coco(deep)


def _torchrun(args: list[str], nproc: int) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "frcnn_core.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.mark.slow
def test_detect_eval_and_diagnose_under_torchrun_write_what_one_process_writes(files, tmp_path):
    checkpoint, coco = files
    for fmt in ("coco", "rich"):
        one, two = tmp_path / f"one_{fmt}.json", tmp_path / f"two_{fmt}.json"
        common = ["detect", str(checkpoint), "--data", str(coco), "--device", "cpu", "--batch-size", "2", "--format", fmt]
        assert main([*common, "-o", str(one)]) == 0
        done = _torchrun([*common, "-o", str(two)], 2)
        assert done.returncode == 0, done.stderr[-3000:]
        assert json.loads(one.read_text()) and one.read_text() == two.read_text()
    one, two = tmp_path / "eval1.json", tmp_path / "eval2.json"
    common = ["eval", str(checkpoint), "--data", str(coco), "--device", "cpu", "--batch-size", "1"]
    assert main([*common, "--json", str(one)]) == 0
    done = _torchrun([*common, "--json", str(two)], 2)
    assert done.returncode == 0, done.stderr[-3000:]
    assert one.read_text() == two.read_text()
    assert done.stdout.count("COCO AP@[.5:.95]") == 1  # only the first process reports
    one, two = tmp_path / "diagnose1.json", tmp_path / "diagnose2.json"
    common = ["diagnose", str(checkpoint), "--data", str(coco), "--device", "cpu", "--score-threshold", "0.05"]
    assert main([*common, "--json", str(one)]) == 0
    done = _torchrun([*common, "--json", str(two)], 2)
    assert done.returncode == 0, done.stderr[-3000:]
    assert one.read_text() == two.read_text() and json.loads(one.read_text())["gt"]

"""VideoDataset: frames decoded on demand with exact seeks, and `frcnn detect` on a video."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.cli import main
from frcnn_core.data import DatasetError, VideoDataset, open_dataset
from frcnn_core.models.checkpoint import save_checkpoint

FRAMES, WIDTH, HEIGHT = 12, 64, 48


def _frame(k: int) -> np.ndarray:
    """Frame ``k`` (BGR): a grey level that grows with ``k`` and a square that moves right."""
    frame = np.full((HEIGHT, WIDTH, 3), 10 + 20 * k, np.uint8)
    frame[10:26, 2 + 4 * k:18 + 4 * k] = (0, 0, 255)
    return frame


def _write_video(path, fourcc: str) -> bool:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (WIDTH, HEIGHT))
    if not writer.isOpened():
        return False
    for k in range(FRAMES):
        writer.write(_frame(k))
    writer.release()
    return True


@pytest.fixture
def avi(tmp_path):
    path = tmp_path / "clip.avi"
    assert _write_video(path, "MJPG")
    return path


def test_frames_open_lazily_with_ids_sizes_and_no_labels(avi):
    ds = open_dataset(avi)
    assert isinstance(ds, VideoDataset) and len(ds) == FRAMES and ds.problems == [] and ds.class_names == ()
    assert ds.image_ids == list(range(FRAMES)) and ds.fps == pytest.approx(10.0)
    info = ds.info(5)
    assert info["size"] == (HEIGHT, WIDTH) and info["image_id"] == 5 and info["path"] == "" and info["target"]["boxes"].shape == (0, 4)
    image, target = ds[5]
    assert image.shape == (3, HEIGHT, WIDTH) and target["image_id"] == 5
    # RGB: the square is red, the background frame 5's grey (MJPG is lossy: a few levels)
    assert image[:, 15, 25].tolist() == pytest.approx([1.0, 0.0, 0.0], abs=0.06)
    assert image[:, 40, 5].tolist() == pytest.approx([(10 + 20 * 5) / 255] * 3, abs=0.03)


@pytest.mark.parametrize(("name", "fourcc"), [("clip.avi", "MJPG"), ("clip.mp4", "mp4v")])
def test_random_access_matches_sequential_decoding(tmp_path, name, fourcc):
    path = tmp_path / name
    if not _write_video(path, fourcc):
        pytest.skip(f"this OpenCV build cannot write {fourcc}")
    sequential = [VideoDataset(path)[k][0] for k in range(FRAMES)]
    ds = VideoDataset(path)
    for k in (9, 3, 3, 11, 0, 1, 7):
        torch.testing.assert_close(ds[k][0], sequential[k], atol=0, rtol=0)
    # each frame is its own: the grey level rises by 20 a frame
    levels = [round(float(frame[:, 40, 5].mean()) * 255) for frame in sequential]
    assert all(abs(level - (10 + 20 * k)) <= 8 for k, level in enumerate(levels))


def test_errors_name_the_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        VideoDataset(tmp_path / "none.mp4")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video" * 100)
    with pytest.raises(DatasetError, match="garbage.mp4") as info:
        open_dataset(garbage)
    assert "\n" not in str(info.value)


def test_frcnn_detect_writes_detections_per_frame(avi, tmp_path):
    config = cpu_config(2, ("red", "grey"), min_size=64, max_size=64, score_thresh=0.0)
    torch.manual_seed(0)
    checkpoint = save_checkpoint(tmp_path / "model.pt", FasterRCNN(config))
    out = tmp_path / "dets.json"
    assert main(["detect", str(checkpoint), str(avi), "-o", str(out), "--format", "rich", "--device", "cpu"]) == 0
    payload = json.loads(out.read_text())
    assert [image["image_id"] for image in payload["images"]] == list(range(FRAMES))
    assert all((image["width"], image["height"]) == (WIDTH, HEIGHT) for image in payload["images"])
    coco = tmp_path / "coco.json"
    assert main(["detect", str(checkpoint), "--data", str(avi), "-o", str(coco), "--device", "cpu"]) == 0
    results = json.loads(coco.read_text())
    assert results and {r["image_id"] for r in results} <= set(range(FRAMES)) and {r["category_id"] for r in results} <= {1, 2}
    assert main(["detect", str(checkpoint), str(avi), str(avi), "-o", str(out), "--device", "cpu"]) == 1

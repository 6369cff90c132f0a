"""`frcnn train` under torchrun: two CPU processes with gloo and DistributedDataParallel."""

import json
import subprocess
import sys

import pytest

from frcnn_core.models.checkpoint import load_checkpoint


@pytest.mark.slow
def test_two_process_ddp_training_on_cpu(tmp_path):
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "frcnn_core.cli", "train", "--data", "shapes", "--num-images", "4", "--image-size", "64",
        "--iterations", "2", "--batch-size", "1", "--device", "cpu", "--output", str(out), "--no-progress",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={"OMP_NUM_THREADS": "1", **__import__("os").environ})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "x2:" in done.stdout  # the main process reports a world of two
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows if r.get("split") != "val"] == [1, 2]  # only rank 0 writes
    model, payload = load_checkpoint(out / "last.pt")
    assert payload["trainer"]["iteration"] == 2

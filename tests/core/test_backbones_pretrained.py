"""ImageNet trunks: loaded from the torch hub cache, downloaded once through torchvision's
weights API when missing, and one clear line when they cannot be had. No network is used:
the download is replaced by a stand-in that writes a file or fails as offline."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision

from frcnn_core.cli import main
from frcnn_core.models.backbones import PretrainedWeightsMissing, build_backbone, fetch_imagenet_weights, imagenet_weights_cached

RESNET18_FILE = Path(torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url).name
TINY_TRAIN = ["--data", "shapes", "--num-images", "2", "--image-size", "64", "--iterations", "1", "--batch-size", "1", "--device", "cpu", "--no-progress"]


@pytest.fixture
def torch_home(tmp_path, monkeypatch) -> Path:
    """An empty torch hub cache."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


def resnet18_state_dict() -> dict:
    """A state dict with the keys and shapes of torchvision's ResNet-18 weights (random values)."""
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).state_dict()


def write_weights(path: Path) -> dict:
    state = resnet18_state_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


def fake_download(calls: list):
    def download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, Path(dst).name, hash_prefix))
        write_weights(Path(dst))

    return download


def offline(url, dst, hash_prefix=None, progress=True):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_cached_weights_are_loaded_without_any_download(torch_home, monkeypatch):
    state = write_weights(torch_home / "hub" / "checkpoints" / RESNET18_FILE)
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    assert imagenet_weights_cached("resnet18")
    assert fetch_imagenet_weights("resnet18") == str(torch_home / "hub" / "checkpoints" / RESNET18_FILE)
    trunk = build_backbone("resnet18", pretrained=True).trunk
    assert torch.equal(trunk[0].weight, state["conv1.weight"])  # conv1 is the trunk's first layer
    assert torch.equal(trunk[4][0].conv1.weight, state["layer1.0.conv1.weight"])


def test_missing_weights_are_downloaded_through_torchvision_and_announced(torch_home, monkeypatch):
    calls: list = []
    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download(calls))
    said: list[str] = []
    path = fetch_imagenet_weights("resnet18", announce=said.append)
    assert path == str(torch_home / "hub" / "checkpoints" / RESNET18_FILE) and Path(path).is_file()
    assert calls == [(torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url, RESNET18_FILE, RESNET18_FILE.split("-")[1].split(".")[0])]  # hash-checked
    assert RESNET18_FILE in said[0] and str(torch_home / "hub" / "checkpoints") in said[0]
    assert RESNET18_FILE in said[1] and "MiB" in said[1]
    assert fetch_imagenet_weights("resnet18", announce=said.append) == path and len(calls) == 1  # cached now
    assert fetch_imagenet_weights("small") is None


def test_offline_fetch_raises_one_line_naming_the_file_and_the_folder(torch_home, monkeypatch):
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(PretrainedWeightsMissing) as info:
        fetch_imagenet_weights("resnet18")
    message = str(info.value)
    assert "\n" not in message and RESNET18_FILE in message and str(torch_home / "hub" / "checkpoints") in message
    assert "name resolution" in message and not imagenet_weights_cached("resnet18")


def test_train_pretrained_offline_is_one_line_not_a_traceback(torch_home, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    code = main(["train", "--backbone", "resnet18", "--pretrained", "--output", str(tmp_path / "run"), *TINY_TRAIN])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert err.startswith("frcnn: error: ") and RESNET18_FILE in err and str(torch_home / "hub" / "checkpoints") in err


@pytest.mark.slow
def test_train_pretrained_downloads_once_then_trains(torch_home, monkeypatch, tmp_path, capsys):
    calls: list = []
    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download(calls))
    assert main(["train", "--backbone", "resnet18", "--pretrained", "--output", str(tmp_path / "run"), *TINY_TRAIN]) == 0
    out = capsys.readouterr().out
    assert len(calls) == 1 and f"downloading ImageNet weights {RESNET18_FILE}" in out and "MiB" in out

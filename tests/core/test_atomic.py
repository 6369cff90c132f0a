"""frcnn_core.files.atomic: a failed save never damages the existing file or leaves litter."""

import os
import stat

import pytest
import torch

from frcnn_core.files import atomic
from frcnn_core.files.atomic import atomic_output, atomic_write_bytes, atomic_write_text


def _litter(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "out.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    atomic_write_text(target, "naïve ✓")
    assert target.read_text(encoding="utf-8") == "naïve ✓"
    atomic_write_text(target, "café", encoding="latin-1")
    assert target.read_bytes() == "café".encode("latin-1")
    assert _litter(tmp_path) == []


def test_exception_inside_block_keeps_old_file(tmp_path):
    target = tmp_path / "ann.xml"
    target.write_text("old contents")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_output(target, "w") as f:
            f.write("half of the new")
            raise RuntimeError("boom")
    assert target.read_text() == "old contents"
    assert _litter(tmp_path) == []


def test_interrupt_inside_block_keeps_old_file(tmp_path):
    target = tmp_path / "ann.xml"
    target.write_text("old contents")
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target, "wb") as f:
            f.write(b"partial")
            raise KeyboardInterrupt
    assert target.read_text() == "old contents"
    assert _litter(tmp_path) == []


def test_failed_rename_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "model.pt"
    target.write_bytes(b"old weights")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new weights")
    assert target.read_bytes() == b"old weights"
    assert _litter(tmp_path) == []


def test_failed_fsync_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "model.pt"
    target.write_bytes(b"old weights")

    def refuse(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(atomic.os, "fsync", refuse)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write_bytes(target, b"new weights")
    assert target.read_bytes() == b"old weights"
    assert _litter(tmp_path) == []


def test_torch_save_into_binary_file(tmp_path):
    target = tmp_path / "ckpt.pt"
    with atomic_output(target, "wb") as f:
        torch.save({"w": torch.arange(4)}, f)
    assert torch.equal(torch.load(target, weights_only=True)["w"], torch.arange(4))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_permissions(tmp_path):
    fresh = tmp_path / "fresh.txt"
    atomic_write_text(fresh, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0o600
    kept = tmp_path / "kept.txt"
    kept.write_text("x")
    kept.chmod(0o640)
    atomic_write_text(kept, "y")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_rejects_other_modes(tmp_path):
    with pytest.raises(ValueError, match="modes"):
        with atomic_output(tmp_path / "x", "a"):
            pass
    with pytest.raises(ValueError, match="encoding"):
        with atomic_output(tmp_path / "x", "wb", encoding="utf-8"):
            pass
    assert list(tmp_path.iterdir()) == []

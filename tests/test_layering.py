"""The layering contracts of pyproject.toml ([tool.importlinter]) hold: checked by import-linter
on every run of the suite, so a new module is covered without editing a list here."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and "Contracts: 4 kept, 0 broken." in done.stdout


def test_the_viewer_never_names_the_command_line_modules():
    mentions = [str(p.relative_to(ROOT)) for p in (ROOT / "frcnn_viewer").rglob("*.py") if "frcnn_core.cli" in p.read_text(encoding="utf-8")]
    assert mentions == []

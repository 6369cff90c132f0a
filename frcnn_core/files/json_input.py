"""Reading a JSON file that a user gave us: every way it can fail is one line naming the file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def load_json(path: str | Path, kind: str, error: type[Exception] = ValueError, parse: Callable[[bytes], object] = json.loads) -> object:
    """The document in ``path`` (parsed by ``parse`` from the file's bytes).

    A missing or unreadable file, text that is not JSON and a document nested too deeply
    for Python (``[[[[…`` 100 000 deep) raise ``error`` with one line naming ``path``;
    ``kind`` says what the file should have been (e.g. ``"a COCO file"``)."""
    try:
        return parse(Path(path).read_bytes())
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise error(f"{path}: JSON nested too deeply to be {kind}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read: {exc}") from None

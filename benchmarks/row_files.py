"""The rows of a long benchmark kept in a JSON file as they come, and a table printed from it.

Training benchmarks run for hours on a CPU: ``--json FILE`` rewrites the file after each
run, so a killed benchmark keeps what it measured, and ``--table FILE`` prints the table
of a file (finished or not) without training anything.
"""

from __future__ import annotations

import argparse
import json


def add_row_file_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", help="also write the rows to this file (after each run)")
    parser.add_argument("--table", help="only print the table of the rows in this file (a run's --json, finished or not)")


def read_rows(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_rows(path: str | None, rows: list[dict]) -> None:
    """Write ``rows`` to ``path`` (nothing without one)."""
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)

"""Argument parsing and dispatch for ``frcnn``; each sub-command lives in its own module."""

from __future__ import annotations

import argparse
import logging
import sys

import torch

from ..annotations import AnnotationError
from ..data import DatasetError
from ..models.backbones import PretrainedWeightsMissing
from ..models.checkpoint import CheckpointError
from ..train import NonFiniteLossError
from . import anchors_cmd, detect_cmd, diagnose_cmd, eval_cmd, export_weights_cmd, label_errors_cmd, train_cmd


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frcnn", description="Train, run and inspect an observable Faster R-CNN.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log diagnostics")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (train_cmd, detect_cmd, eval_cmd, diagnose_cmd, label_errors_cmd, anchors_cmd, export_weights_cmd):
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args) or 0
    except NonFiniteLossError as exc:
        print(f"frcnn: training stopped: {exc}", file=sys.stderr)
        return 3
    except (DatasetError, CheckpointError, AnnotationError, ValueError, FileNotFoundError, PretrainedWeightsMissing) as exc:
        print(f"frcnn: error: {exc}", file=sys.stderr)
        return 1
    except torch.cuda.OutOfMemoryError as exc:
        print(f"frcnn: out of GPU memory ({str(exc).splitlines()[0]}); try a smaller --batch-size or --image-size", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("frcnn: interrupted", file=sys.stderr)
        return 130

"""Parsers for option values shared by several sub-commands."""

from __future__ import annotations

import argparse


def float_list(text: str) -> tuple[float, ...]:
    """``"8,16,32"`` -> ``(8.0, 16.0, 32.0)``."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return values


def image_size(text: str) -> tuple[int, int]:
    """``"800x600"`` (width x height) or ``"800"`` -> ``(height, width)``."""
    parts = text.lower().split("x")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT or N, got {text!r}") from None
    if len(numbers) == 1:
        numbers *= 2
    if len(numbers) != 2 or min(numbers) < 16:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT with sides >= 16, got {text!r}")
    return numbers[1], numbers[0]


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def generated_size(spec: str, num_images: int | None) -> dict:
    """``num_images`` for the generated sets, nothing for datasets on disk."""
    if num_images is None:
        return {}
    if spec not in ("shapes", "composite"):
        raise ValueError("--num-images applies only to the generated sets 'shapes' and 'composite'")
    return {"num_images": num_images}

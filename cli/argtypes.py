"""Argument types that refuse nonsense at the command line (rc 2, one line), before any model is loaded.

`--hop 0.0001` asked for 140,002 windows on a 14 s file and `--epochs 0` or `--batch-size 1` trained nothing and
still registered a model; each is now an argparse error naming the option and the allowed range.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {low}" + (f"..{high}" if high else " or more"))
        return value
    parse.__name__ = "whole number"
    return parse


def seconds(low: float, high: float) -> Callable[[str], float]:
    """A finite number of seconds in [low, high]."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} s is out of range: use {low:g} to {high:g} s")
        return value
    parse.__name__ = "seconds"
    return parse

"""Argument types that refuse nonsense at the command line (rc 2, one line), before any model is loaded.

`--hop 0.0001` asked for 140,002 windows on a 14 s file and `--epochs 0` or `--batch-size 1` trained nothing and
still registered a model; each is now an argparse error naming the option and the allowed range.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path


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


def number(low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """A finite number in (low, high]: a rate, say, which must be above its floor."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not low < value <= high:
            raise argparse.ArgumentTypeError(f"{text}{unit} is out of range: use more than {low:g} up to {high:g}{unit}")
        return value
    parse.__name__ = "number"
    return parse


def device(text: str) -> str:
    """auto, cpu, cuda or cuda:N: anything else (`tpu:7`) is refused before a model is loaded."""
    if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit() and len(text) < 9):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not a device: use auto, cpu, cuda or cuda:N")


device.__name__ = "device"


def version(text: str) -> str:
    """A model version: its id (a whole number that fits the store's id) or its name."""
    text = text.strip()
    if text.isdigit() and not 1 <= int(text) <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{text} is not a model version id (1..{2**31 - 1})")
    if not text or any(ord(ch) < 32 for ch in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a model version id or name")
    return text


version.__name__ = "version"


def plain_name(text: str) -> str:
    """A corpus, rater or job name: not blank, no control characters, at most 200 characters."""
    stripped = text.strip()
    if not stripped:
        raise argparse.ArgumentTypeError("a name cannot be empty or blank")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in stripped):
        raise argparse.ArgumentTypeError(f"{text!r} holds a control character")
    if len(stripped) > 200:
        raise argparse.ArgumentTypeError(f"a name of {len(stripped)} characters (at most 200)")
    return stripped


plain_name.__name__ = "name"


def name_list(text: str) -> str:
    """Comma-separated names (`--annotators a,b`), each a `plain_name`: `" , "` named two blank raters."""
    names = [plain_name(part) for part in text.split(",")]
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{text!r} names someone twice")
    return ",".join(names)


name_list.__name__ = "names"


def out_file(*suffixes: str) -> Callable[[str], str]:
    """A file to write: with one of `suffixes` (`t.xlsx` would get CSV text), and not an existing special file
    (`/dev/full`, a FIFO) or folder."""
    def parse(text: str) -> str:
        path = Path(text)
        if path.exists() and not path.is_file():
            raise argparse.ArgumentTypeError(f"{text!r} exists and is not a regular file")
        if suffixes and path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"{text!r}: the file must end in {' or '.join(suffixes)}")
        return text
    parse.__name__ = "output file"
    return parse


def work_kinds(text: str) -> str:
    """A comma list of the worker's kinds of work."""
    known = ("transcribe", "analyze", "diarize")
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in known]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(f"unknown work kinds {unknown or [text]}; use some of {', '.join(known)}")
    return ",".join(kinds)


work_kinds.__name__ = "kinds"

"""One way to write a time for people: h:mm:ss.fff past an hour, m:ss.fff below (every view, status line and
message uses it, so the editor, the review queue and the CLI read the same)."""

from __future__ import annotations


def format_time(seconds: float, decimals: int = 3) -> str:
    """h:mm:ss.mmm (hours only when needed): the notation ELAN, Praat and NOVA users read at a glance."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(float(seconds))
    scale = 10 ** decimals
    total = int(round(seconds * scale))
    whole, frac = divmod(total, scale)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    tail = f".{frac:0{decimals}d}" if decimals else ""
    return f"{sign}{h}:{m:02d}:{s:02d}{tail}" if h else f"{sign}{m}:{s:02d}{tail}"

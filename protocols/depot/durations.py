"""Durations as people write them in the depot file: `90s`, `10m`, `1h`, `1h30m`, `30d`, or a
plain number of seconds."""

from __future__ import annotations

import re

from protocols.pydantic_zh import show_value

_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?[smhd])+$")


def parse_duration(value: object) -> float:
    """Seconds in `value`; raises ValueError with a (Chinese) message fit for the operator."""
    if isinstance(value, bool):
        raise ValueError(f"{show_value(value)} 不是时长：请写如 90s、10m、1h 或 30d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _WHOLE.match(value.strip()):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(value.strip()))
    else:
        raise ValueError(
            f"{show_value(value)} 不是时长：请写数字加单位 s、m、h 或 d"
            "（如 90s、10m、1h、30d），或只写秒数"
        )
    if seconds <= 0:
        raise ValueError(f"{show_value(value)}：时长须大于零")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of `seconds` (`3600` → `1h`)."""
    for unit in ("d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"

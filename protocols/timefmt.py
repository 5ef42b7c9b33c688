"""Time on the wire: RFC 3339 in UTC with a `Z`, nothing else (contracts/mqtt.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Fractions beyond microseconds are accepted and truncated (datetime cannot hold them).
_TS_RE = re.compile(  # ASCII: \d must not match other scripts' digits
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z", re.ASCII
)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def to_utc(dt: datetime) -> datetime:
    """Normalise an aware datetime to UTC; a naive one is an error (its zone is unknown)."""
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime: a timezone-aware UTC time is required")
    return dt.astimezone(UTC)


def format_ts(dt: datetime) -> str:
    """`2026-11-22T08:00:07Z`; the fraction is written only when non-zero, without trailing zeros."""
    dt = to_utc(dt)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.year < 1000:
        # strftime does not zero-pad years below 1000 on every platform
        text = f"{dt.year:04d}" + text[text.index("-"):]
    if dt.microsecond:
        text += "." + f"{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_ts(text: str) -> datetime:
    """Parse `YYYY-MM-DDTHH:MM:SS[.fraction]Z` into an aware UTC datetime; anything else is a ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"expected an RFC 3339 UTC time string, got {type(text).__name__}")
    match = _TS_RE.fullmatch(text)
    if match is None:
        if re.search(r"([+-]\d{2}:?\d{2})$", text):
            raise ValueError(f"time {text!r} has a UTC offset: write it in UTC with a 'Z'")
        raise ValueError(f"time {text!r} is not RFC 3339 UTC like 2026-11-22T08:00:07Z")
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC
        )
    except ValueError as exc:
        raise ValueError(f"time {text!r} is not a valid date/time: {exc}") from None

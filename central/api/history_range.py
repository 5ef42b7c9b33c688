"""Validation of a history request: bucket, time range, and how long a range each bucket
may cover (so one call cannot ask for a year of raw readings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from central.api.errors import BadRequest

BUCKETS = ("raw", "1h", "1d")

# Longest range per bucket, in days; settings `history_max_days_<bucket>` override these.
DEFAULT_MAX_DAYS = {"raw": 7, "1h": 92, "1d": 1830}


@dataclass(frozen=True)
class HistoryRange:
    start: datetime
    end: datetime
    bucket: str


def max_days(settings, bucket: str) -> float:
    return getattr(settings, f"history_max_days_{bucket}", DEFAULT_MAX_DAYS[bucket])


def history_range(start: datetime | None, end: datetime | None, bucket: str, now: datetime,
                  settings=None) -> HistoryRange:
    """The range to serve; defaults: `to` = now, `from` = the bucket's longest range before
    `to` capped at one day for raw, 7 days for 1h, 92 days for 1d. Raises BadRequest."""
    if bucket not in BUCKETS:
        raise BadRequest(f"查询参数 bucket：只能是 {'、'.join(BUCKETS)}")
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise BadRequest(f"查询参数 {name}：须带时区（如 2026-11-22T08:00:00Z）")
    limit = timedelta(days=max_days(settings, bucket))
    end = end or now
    start = start or end - min(limit, {"raw": timedelta(days=1), "1h": timedelta(days=7),
                                       "1d": timedelta(days=92)}[bucket])
    if start >= end:
        raise BadRequest(f"查询参数 from（{start.isoformat()}）须早于 to（{end.isoformat()}）")
    if end - start > limit:
        raise BadRequest(
            f"查询参数 from/to：时间范围超过 {limit.days} 天，bucket={bucket} 最多给出 "
            f"{limit.days} 天；请用更粗的 bucket 或更短的范围"
        )
    return HistoryRange(start, end, bucket)

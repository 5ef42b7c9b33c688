"""Types of the dates and times clients send, bounded to the years the service can mean.

A date far outside the life of a depot is a typo or an attack: `9999-12-31` as an inspection
date silenced the treatment-deadline check for good, and `0001-01-01` overflows the date
arithmetic behind a range. Every date or time a route takes is one of these, or narrower.

In a query, write `start: Annotated[ServiceDate, Query(alias="from")]`: with the `Query(...)`
as the default value instead (`start: ServiceDate = Query(...)`), FastAPI drops the bound.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator

FIRST_YEAR, LAST_YEAR = 2000, 2100
# How far ahead of the server's clock a record of something done may be dated.
RECORD_AHEAD = timedelta(days=1)

_RANGE = f"须在 {FIRST_YEAR} 年至 {LAST_YEAR} 年之间"


def _in_years(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(_RANGE)
    return value


def _aware_in_years(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("须带时区（如 2026-11-22T08:00:00Z）")
    return _in_years(value)


def _not_ahead(value: date) -> date:
    _in_years(value)
    if value > datetime.now(UTC).date() + RECORD_AHEAD:
        raise ValueError("不能晚于今天（记录的是已经发生的事）")
    return value


# Any date the service may be asked about: 2000–2100.
ServiceDate = Annotated[date, AfterValidator(_in_years)]
# A moment 2000–2100, with its time zone (RFC 3339).
ServiceTime = Annotated[datetime, AfterValidator(_aware_in_years)]
# The date of something already done (an inspection, a treatment, a movement): 2000 up to
# tomorrow by the server's clock (a depot east of UTC is already a day ahead).
RecordDate = Annotated[date, AfterValidator(_not_ahead)]

"""Periods of the key figures and reports (`2026-10`, `2026-Q3`, `2026`) and scope codes
(a 6-digit region code or a depot code), parsed without touching the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """The period text is not a month, quarter or year between 2000 and 2100."""


@dataclass(frozen=True)
class Period:
    text: str
    kind: str            # month | quarter | year
    start: date          # first day
    end: date            # first day after

    @property
    def months(self) -> list[date]:
        out, d = [], self.start
        while d < self.end:
            out.append(d)
            d = _add_months(d, 1)
        return out

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年"


def _add_months(d: date, n: int) -> date:
    months = d.year * 12 + d.month - 1 + n
    return date(months // 12, months % 12 + 1, 1)


def parse_period(text: str) -> Period:
    text = (text or "").strip()
    for pattern, kind in ((_MONTH, "month"), (_QUARTER, "quarter"), (_YEAR, "year")):
        match = pattern.match(text)
        if not match:
            continue
        year = int(match.group(1))
        if not 2000 <= year <= 2100:
            break
        if kind == "month":
            start = date(year, int(match.group(2)), 1)
            return Period(text, kind, start, _add_months(start, 1))
        if kind == "quarter":
            start = date(year, (int(match.group(2)) - 1) * 3 + 1, 1)
            return Period(text, kind, start, _add_months(start, 3))
        return Period(text, kind, date(year, 1, 1), date(year + 1, 1, 1))
    raise PeriodError("period：应为月份 2026-10、季度 2026-Q3 或年份 2026（2000–2100）")


def ratio_pct(part: float | None, whole: float | None, places: int = 2) -> float | None:
    """part / whole in percent, None when there is nothing to divide by."""
    if part is None or not whole:
        return None
    return round(part / whole * 100, places)


def mean(values: list[float], places: int = 1) -> float | None:
    return round(sum(values) / len(values), places) if values else None

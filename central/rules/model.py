"""What the rules read (a granary's scan, a point's series) and what they say (findings).

Subjects name what an alarm is about, so that one open alarm per (rule, subject) is easy:
a granary `P01`, a cable `P01/C40`, a point `P01/C40/L3`, a depot `@depot`, a camera
`CAM-P01-1`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Literal, NamedTuple

Severity = Literal["warning", "alarm"]


class Point(NamedTuple):
    """One sensor of one scan. A NamedTuple: ingest builds hundreds per message, and a
    tuple is several times cheaper to create than a frozen dataclass."""

    cable: int
    layer: int
    temp_c: float | None
    fault: bool = False
    row: int | None = None
    col: int | None = None
    wall: bool = False  # next to a wall (outermost ring of cables)


@dataclass(frozen=True)
class GranaryScan:
    granary: str
    storage_mode: str
    ts: datetime
    points: list[Point]
    indoor_temp_c: float | None = None
    indoor_rh_pct: float | None = None
    outdoor_temp_c: float | None = None
    outdoor_rh_pct: float | None = None
    missing_cables: list[int] = field(default_factory=list)

    def valid(self) -> list[Point]:
        return self._valid

    @cached_property
    def _valid(self) -> list[Point]:
        # every rule asks; computed once per scan
        return [p for p in self.points if p.temp_c is not None and not p.fault]


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: str
    severity: Severity
    value: float | None
    threshold: float | None
    message: str
    granary: str | None = None


def point_subject(granary: str, cable: int, layer: int) -> str:
    return f"{granary}/C{cable}/L{layer}"


def cable_subject(granary: str, cable: int) -> str:
    return f"{granary}/C{cable}"

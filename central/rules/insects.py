"""Insect grades (虫粮等级) and treatment deadlines (domain.md §5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

GRADES = ("basically_free", "ordinary", "serious", "dangerous")


@dataclass(frozen=True)
class InsectGrade:
    grade: str
    deadline: date | None  # treat by this date, when one applies


def insect_grade(all_per_kg: float, major_per_kg: float, quarantine_found: bool, inspected_on: date,
                 grain_temp_c: float | None) -> InsectGrade:
    """The grade is the worse of the two counts; a quarantine pest makes it dangerous."""
    if all_per_kg < 0 or major_per_kg < 0:
        raise ValueError("pest counts cannot be negative")
    if quarantine_found:
        return InsectGrade("dangerous", inspected_on + timedelta(days=3))
    if all_per_kg > 30 or major_per_kg > 10:
        return InsectGrade("serious", inspected_on + timedelta(days=7))
    if all_per_kg > 5 or major_per_kg > 2:
        warm = grain_temp_c is not None and grain_temp_c >= 15
        return InsectGrade("ordinary", inspected_on + timedelta(days=15) if warm else None)
    return InsectGrade("basically_free", None)

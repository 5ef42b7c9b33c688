"""Advice shown beside a granary's latest readings, filled in by other parts (the alarm
rules plug their ventilation advice in here) without the API knowing their rules.

An advisor is `fn(latest: dict, conn) -> list[dict]`; `latest` is the `latest` answer being
built (with `depot` and `granary` added), `conn` an open database connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

Advisor = Callable[[dict, object], list]
_ADVISORS: list[Advisor] = []


def register_advisor(fn: Advisor) -> Advisor:
    """Add an advisor (idempotent; usable as a decorator)."""
    if fn not in _ADVISORS:
        _ADVISORS.append(fn)
    return fn


def unregister_advisor(fn: Advisor) -> None:
    if fn in _ADVISORS:
        _ADVISORS.remove(fn)


def advice_for(latest: dict, conn) -> list:
    """Every advisor's items; a failing advisor is logged and skipped, never fails the call."""
    items: list = []
    for fn in list(_ADVISORS):
        try:
            items.extend(fn(latest, conn) or [])
        except Exception:
            log.exception("advisor %s failed for %s/%s", getattr(fn, "__name__", fn),
                          latest.get("depot"), latest.get("granary"))
    return items

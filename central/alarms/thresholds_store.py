"""Threshold overrides per depot and per granary (table `alarm_thresholds`, granary '' = the
whole depot), resolved over the defaults of `central.rules.thresholds.Thresholds`. Every
change is recorded in `alarm_threshold_changes` with who, when, old and new."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from central.rules.thresholds import ThresholdError, Thresholds, resolve_thresholds

DEPOT_WIDE = ""
DEFAULTS = Thresholds()


def overrides(conn, depot: str, granary: str = DEPOT_WIDE) -> dict:
    row = conn.execute("SELECT settings FROM alarm_thresholds WHERE depot = %s AND granary = %s",
                       (depot, granary)).fetchone()
    return dict(row[0]) if row else {}


def depot_overrides(conn, depot: str) -> dict[str, dict]:
    """Every override of the depot: {'' : depot-wide, granary: its own}."""
    rows = conn.execute("SELECT granary, settings FROM alarm_thresholds WHERE depot = %s",
                        (depot,)).fetchall()
    return {g: dict(s) for g, s in rows}


class ThresholdBook:
    """The thresholds of one depot's granaries, from one query (ingest asks per message)."""

    def __init__(self, by_granary: Mapping[str, dict]) -> None:
        self._by = by_granary
        self._cache: dict[str | None, Thresholds] = {}

    @classmethod
    def load(cls, conn, depot: str) -> ThresholdBook:
        return cls(depot_overrides(conn, depot))

    def for_granary(self, granary: str | None) -> Thresholds:
        if granary not in self._cache:
            layers = [self._by.get(DEPOT_WIDE)]
            if granary:
                layers.append(self._by.get(granary))
            if not any(layers):
                self._cache[granary] = DEFAULTS  # the common case: no override at all
                return DEFAULTS
            try:
                self._cache[granary] = resolve_thresholds(*layers)
            except ThresholdError:
                # A stored override that no longer validates (a field renamed): defaults,
                # rather than no evaluation at all.
                self._cache[granary] = DEFAULTS
        return self._cache[granary]


def thresholds_for(conn, depot: str, granary: str | None = None) -> Thresholds:
    return ThresholdBook.load(conn, depot).for_granary(granary)


def set_overrides(conn, depot: str, granary: str, new: Mapping[str, Any], user: str) -> dict:
    """Replace the overrides of (depot, granary) with `new` after checking that the result
    is a valid Thresholds; raises ThresholdError naming the bad setting. Returns the new
    overrides."""
    new = dict(new)
    layers = [new] if granary == DEPOT_WIDE else [overrides(conn, depot), new]
    resolve_thresholds(*layers)  # validates: unknown keys and bad values raise here
    old = overrides(conn, depot, granary)
    conn.execute(
        """INSERT INTO alarm_thresholds (depot, granary, settings, updated_at, updated_by)
           VALUES (%s, %s, %s, now(), %s)
           ON CONFLICT (depot, granary) DO UPDATE SET settings = EXCLUDED.settings,
             updated_at = now(), updated_by = EXCLUDED.updated_by""",
        (depot, granary, Jsonb(new), user))
    conn.execute("INSERT INTO alarm_threshold_changes (depot, granary, by_user, old, new) "
                 "VALUES (%s, %s, %s, %s, %s)", (depot, granary, user, Jsonb(old), Jsonb(new)))
    return new


def changes(conn, depot: str, granary: str = DEPOT_WIDE, limit: int = 50) -> list[dict]:
    rows = conn.execute(
        "SELECT by_user, at, old, new FROM alarm_threshold_changes WHERE depot = %s "
        "AND granary = %s ORDER BY id DESC LIMIT %s", (depot, granary, limit)).fetchall()
    return [{"by": b, "at": at, "old": old, "new": new} for b, at, old, new in rows]

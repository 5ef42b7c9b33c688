"""Threshold overrides per depot and per granary (table `alarm_thresholds`, granary '' = the
whole depot), resolved over the defaults of `central.rules.thresholds.Thresholds`. Every
change is recorded in `alarm_threshold_changes` with who, when, old and new.

A province's floor (`region_thresholds`) is kept in the stored overrides themselves: writes
looser than it are refused, and a floor made stricter rewrites the looser overrides of its
depots, so every reader of `alarm_thresholds` (ingest, scans, jobs) obeys it unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from central.rules.thresholds import (
    ThresholdError,
    Thresholds,
    flatten,
    floor_breaches,
    loosened,
    resolve_thresholds,
)

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


def _layers(conn, depot: str, granary: str, new: Mapping[str, Any]) -> dict[str, dict]:
    """The depot's overrides with (depot, granary) replaced by `new`."""
    by = depot_overrides(conn, depot)
    by[granary] = dict(new)
    return by


def _effective(by: Mapping[str, dict], granary: str) -> Thresholds:
    layers = [by.get(DEPOT_WIDE)] + ([by.get(granary)] if granary != DEPOT_WIDE else [])
    return resolve_thresholds(*layers)


def loosens(conn, depot: str, granary: str, new: Mapping[str, Any]) -> list[str]:
    """The settings replacing the overrides of (depot, granary) with `new` would loosen
    there (a depot-wide change: on the depot's own values)."""
    before = _effective(depot_overrides(conn, depot), granary)
    return loosened(before, _effective(_layers(conn, depot, granary, new), granary))


def province_of(conn, depot: str) -> str | None:
    row = conn.execute("SELECT province FROM depots WHERE code = %s", (depot,)).fetchone()
    return row[0] if row and row[0] else None


def region_floor(conn, region: str) -> dict:
    row = conn.execute("SELECT settings FROM region_thresholds WHERE region = %s",
                       (region,)).fetchone()
    return dict(row[0]) if row else {}


def below_floor(conn, depot: str, granary: str, new: Mapping[str, Any]) -> tuple[str | None, list]:
    """(province, [(setting, floor value)]) of every layer the change would leave looser
    than the province's floor: the changed one and, for a depot-wide change, each granary
    that takes a value from it."""
    province = province_of(conn, depot)
    floor = region_floor(conn, province) if province else {}
    if not floor:
        return province, []
    by = _layers(conn, depot, granary, new)
    keys = [granary] if granary != DEPOT_WIDE else list(by)
    found: dict[str, Any] = {}
    for key in keys:
        for path, value in floor_breaches(floor, _effective(by, key)):
            found.setdefault(path, value)
    return province, list(found.items())


def _with(settings: dict, path: str, value: Any) -> dict:
    out = dict(settings)
    head, _, rest = path.partition(".")
    out[head] = _with(dict(out.get(head) or {}), rest, value) if rest else value
    return out


def set_floor(conn, region: str, new: Mapping[str, Any], user: str) -> dict:
    """Replace a province's floor, record it, and tighten every override of its depots that
    the new floor leaves looser than it (recorded as changes by `user`)."""
    new = dict(new)
    resolve_thresholds(new)
    old = region_floor(conn, region)
    conn.execute(
        """INSERT INTO region_thresholds (region, settings, updated_at, updated_by)
           VALUES (%s, %s, now(), %s)
           ON CONFLICT (region) DO UPDATE SET settings = EXCLUDED.settings,
             updated_at = now(), updated_by = EXCLUDED.updated_by""",
        (region, Jsonb(new), user))
    conn.execute("INSERT INTO region_threshold_changes (region, by_user, old, new) "
                 "VALUES (%s, %s, %s, %s)", (region, user, Jsonb(old), Jsonb(new)))
    depots = [d for (d,) in conn.execute(
        "SELECT code FROM depots WHERE province = %s ORDER BY code", (region,)).fetchall()]
    for depot in depots:
        _follow(conn, depot, new, user)
    return new


def follow_floor(conn, depot: str, user: str) -> None:
    """Bring a depot's overrides up to its province's floor (a depot registered after the
    floor was set starts from the defaults, which may be looser)."""
    province = province_of(conn, depot)
    floor = region_floor(conn, province) if province else {}
    if floor:
        _follow(conn, depot, floor, user)


def follow_floor_on_layout(conn, depot: str, _layout) -> None:
    """Ingest hook for layouts: a depot that appears, or moves province, after its province's
    floor was set follows that floor in the same transaction as its layout."""
    follow_floor(conn, depot, "layout")


def _follow(conn, depot: str, floor: Mapping[str, Any], user: str) -> None:
    by = depot_overrides(conn, depot)
    for key in [DEPOT_WIDE, *sorted(k for k in by if k != DEPOT_WIDE)]:
        fixed = dict(by.get(key) or {})
        for path, value in floor_breaches(floor, _effective({**by, key: fixed}, key)):
            fixed = _with(fixed, path, value)
        if fixed != (by.get(key) or {}):
            by[key] = set_overrides(conn, depot, key, fixed, user)


def region_changes(conn, region: str, limit: int = 50) -> list[dict]:
    rows = conn.execute(
        "SELECT by_user, at, old, new FROM region_threshold_changes WHERE region = %s "
        "ORDER BY id DESC LIMIT %s", (region, limit)).fetchall()
    return [{"by": b, "at": at, "old": old, "new": new} for b, at, old, new in rows]


def floor_loosens(conn, region: str, new: Mapping[str, Any]) -> list[str]:
    """The floor settings a new floor drops or relaxes."""
    old = region_floor(conn, region)
    if not old:
        return []
    paths, kept = list(flatten(old)), flatten(new)
    relaxed = loosened(resolve_thresholds(old), resolve_thresholds(new), only=paths)
    return list(dict.fromkeys(relaxed + [p for p in paths if p not in kept]))

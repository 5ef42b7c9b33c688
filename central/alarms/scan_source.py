"""Build the `GranaryScan` the scan rules read from one ingested telemetry message.

The message's own cables give the points (they are exactly the rows just committed). A
granary's cable that the layout lists but the message does not carry (the edge may split one
scan over several messages) is taken from the database when it has a reading within
`cable_silent_min` before the scan; otherwise it counts as gone (`missing_cables`). The wall
is the outermost ring of the layout's cables by row/column; storage mode from the layout.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from psycopg.types.json import Jsonb

from central.alarms.thresholds_store import ThresholdBook
from central.rules.model import GranaryScan, Point
from central.rules.thresholds import Thresholds
from protocols.mqtt.models import Telemetry

LayoutCable = tuple[int, int | None, int | None, int]  # cable, row, col, layers


def wall_cables(cables: list[LayoutCable]) -> set[int]:
    """Cables on the outermost ring of the grid (first/last row or column)."""
    placed = [(c, r, k) for c, r, k, _ in cables if r is not None and k is not None]
    if not placed:
        return set()
    rows = [r for _, r, _ in placed]
    cols = [k for _, _, k in placed]
    r0, r1, c0, c1 = min(rows), max(rows), min(cols), max(cols)
    return {c for c, r, k in placed if r in (r0, r1) or k in (c0, c1)}


_tuple_new = tuple.__new__  # builds a Point without its Python-level __new__ (hot path)


def points_of(cable: int, temps: list[float | None], faults: list[int] | set[int],
              row: int | None, col: int | None, wall: bool) -> list[Point]:
    bad = set(faults) if faults else ()
    return [_tuple_new(Point, (cable, i, t, i in bad, row, col, wall))
            for i, t in enumerate(temps, 1)]


@dataclass
class DepotContext:
    """What evaluating one message needs besides the message, from ONE query: thresholds,
    storage modes and cables of its granaries, and the depot's open alarms."""

    book: ThresholdBook
    modes: dict[str, str]
    cables: dict[str, list[LayoutCable]]
    open: dict[tuple[str | None, str], set[str]]   # (granary, rule) -> subjects

    def open_in(self, granary: str | None, rules) -> dict[str, set[str]]:
        return {r: set(self.open.get((granary, r), ())) for r in rules}


_CONTEXTS = """
SELECT d.depot,
       (SELECT coalesce(json_object_agg(t.granary, t.settings), '{}') FROM alarm_thresholds t
        WHERE t.depot = d.depot),
       (SELECT coalesce(json_object_agg(g.granary, g.storage_mode), '{}') FROM granaries g
        WHERE g.depot = d.depot AND g.granary IN (SELECT jsonb_array_elements_text(d.gs))),
       (SELECT coalesce(json_agg(json_build_array(c.granary, c.cable, c."row", c.col, c.layers)
                                 ORDER BY c.granary, c.cable), '[]')
        FROM cables c
        WHERE c.depot = d.depot AND c.granary IN (SELECT jsonb_array_elements_text(d.gs))),
       (SELECT coalesce(json_agg(json_build_array(a.granary, a.rule, a.subject)), '[]')
        FROM alarms a WHERE a.depot = d.depot AND a.state <> 'cleared')
FROM jsonb_each(%s::jsonb) AS d(depot, gs)
"""


def load_contexts(conn, granaries_by_depot: dict[str, list[str]]) -> dict[str, DepotContext]:
    """The context of every depot of a batch in one query."""
    if not granaries_by_depot:
        return {}
    out = {}
    for depot, overrides, modes, cables, alarms in conn.execute(
            _CONTEXTS, (Jsonb(granaries_by_depot),)).fetchall():
        by_granary: dict[str, list[LayoutCable]] = defaultdict(list)
        for g, c, r, k, n in cables:
            by_granary[g].append((c, r, k, n))
        opened: dict[tuple[str | None, str], set[str]] = defaultdict(set)
        for g, rule, subject in alarms:
            opened[(g, rule)].add(subject)
        out[depot] = DepotContext(ThresholdBook(overrides), modes, dict(by_granary), dict(opened))
    return out


def load_context(conn, depot: str, granaries: list[str]) -> DepotContext:
    return load_contexts(conn, {depot: granaries})[depot]


def _stored_cables(conn, depot: str, granary: str, cables: list[int], since: datetime,
                   until: datetime) -> dict[int, tuple[list, list[int]]]:
    """The last scan of each cable within [since, until]: temps by layer and fault layers."""
    rows = conn.execute(
        """SELECT c.cable, r.layer, r.temp_c, r.fault
           FROM unnest(%(cables)s::int[]) AS c(cable)
           JOIN LATERAL (SELECT g.ts FROM grain_readings g
                         WHERE g.depot = %(d)s AND g.granary = %(g)s AND g.cable = c.cable
                           AND g.layer = 1 AND g.ts BETWEEN %(since)s AND %(until)s
                         ORDER BY g.ts DESC LIMIT 1) last ON TRUE
           JOIN grain_readings r ON r.depot = %(d)s AND r.granary = %(g)s
                                AND r.cable = c.cable AND r.ts = last.ts
           ORDER BY c.cable, r.layer""",
        {"cables": cables, "d": depot, "g": granary, "since": since, "until": until}).fetchall()
    out: dict[int, tuple[list, list[int]]] = {}
    for cable, layer, temp, fault in rows:
        temps, faults = out.setdefault(cable, ([], []))
        while len(temps) < layer:
            temps.append(None)
        temps[layer - 1] = None if temp is None else round(temp, 2)  # stored as float4
        if fault:
            faults.append(layer)
    return out


def _stored_air(conn, depot: str, granary: str, place: str, since: datetime, until: datetime):
    row = conn.execute(
        "SELECT temp_c, rh_pct FROM air_readings WHERE depot = %s AND granary = %s AND place = %s"
        " AND ts BETWEEN %s AND %s ORDER BY ts DESC LIMIT 1",
        (depot, granary, place, since, until)).fetchone()
    if row is None:
        return None, None
    return tuple(None if v is None else round(v, 2) for v in row)


def message_granaries(msg: Telemetry) -> list[str]:
    return sorted({s.granary for s in msg.grain})


CableScan = tuple  # (cable, row, col, wall, temps_c, faults)


@dataclass
class ScanInput:
    """One granary's scan as the rules will see it, before any Point is built: the quiet
    check (central/alarms/quiet.py) reads the raw lists, and `scan` (the rules' GranaryScan)
    is built only when something may fire."""

    granary: str
    storage_mode: str
    ts: datetime
    cables: list[CableScan]
    indoor: tuple[float | None, float | None]
    outdoor: tuple[float | None, float | None]
    missing: list[int]
    th: Thresholds

    @cached_property
    def scan(self) -> GranaryScan:
        points: list[Point] = []
        for cable, row, col, wall, temps, faults in self.cables:
            points += points_of(cable, temps, faults, row, col, wall)
        return GranaryScan(self.granary, self.storage_mode, self.ts, points, self.indoor[0],
                           self.indoor[1], self.outdoor[0], self.outdoor[1], self.missing)


def build_scans(conn, depot: str, msg: Telemetry, ctx: DepotContext) -> list[ScanInput]:
    """One ScanInput per granary with grain readings in the message."""
    by_granary: dict[str, list] = defaultdict(list)
    for scan in msg.grain:
        by_granary[scan.granary].append(scan)
    if not by_granary:
        return []
    granaries = sorted(by_granary)
    book, modes, layout = ctx.book, ctx.modes, ctx.cables
    outdoor = next(((a.temp_c, a.rh_pct) for a in msg.air if a.place == "outdoor"), None)
    indoor = {a.granary: (a.temp_c, a.rh_pct) for a in msg.air if a.place == "indoor"}
    out = []
    for granary in granaries:
        th = book.for_granary(granary)
        scans: dict = {}
        for s in by_granary[granary]:  # the newest scan of each cable
            if s.cable not in scans or scans[s.cable].ts <= s.ts:
                scans[s.cable] = s
        ts = max(s.ts for s in scans.values())
        since = ts - timedelta(minutes=th.cable_silent_min)
        cables = layout.get(granary) or [(c, None, None, len(s.temps_c)) for c, s in scans.items()]
        wall = wall_cables(cables)
        absent = [c for c, *_ in cables if c not in scans]
        stored = _stored_cables(conn, depot, granary, absent, since, ts) if absent else {}
        entries: list[CableScan] = []
        missing = []
        for cable, row, col, _layers in cables:
            if cable in scans:
                s = scans[cable]
                entries.append((cable, row, col, cable in wall, s.temps_c, s.faults))
            elif cable in stored:
                temps, faults = stored[cable]
                entries.append((cable, row, col, cable in wall, temps, faults))
            else:
                missing.append(cable)
        known = {c for c, *_ in cables}
        for cable, s in scans.items():  # cables the layout does not list (yet)
            if cable not in known:
                entries.append((cable, None, None, False, s.temps_c, s.faults))
        air_in = indoor.get(granary) or _stored_air(conn, depot, granary, "indoor", since, ts)
        air_out = outdoor or _stored_air(conn, depot, "", "outdoor", since, ts)
        out.append(ScanInput(granary, modes.get(granary) or "normal", ts, entries, air_in,
                             air_out, missing, th))
    return out

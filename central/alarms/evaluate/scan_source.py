"""Build the `GranaryScan` the scan rules read from one ingested telemetry message.

The message's own cables give the points (they are exactly the rows just committed). A
granary's cable that the layout lists but the message does not carry (the edge may split one
scan over several messages) is taken from the database when it has a reading within
`cable_silent_min` before the scan; otherwise it counts as gone (`missing_cables`). The wall
is the outermost ring of the layout's cables by row/column; storage mode from the layout
(both kept in memory between batches: layout_cache.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from central.alarms.evaluate.layout_cache import CACHE, GranaryLayout, LayoutCache
from central.alarms.evaluate.quiet import ScanStats, scan_stats
from central.alarms.state.thresholds_store import ThresholdBook
from central.rules.model import GranaryScan, Point
from central.rules.thresholds import Thresholds
from protocols.mqtt.models import Telemetry

_tuple_new = tuple.__new__  # builds a Point without its Python-level __new__ (hot path)


def points_of(cable: int, temps: list[float | None], faults: list[int] | set[int],
              row: int | None, col: int | None, wall: bool) -> list[Point]:
    bad = set(faults) if faults else ()
    return [_tuple_new(Point, (cable, i, t, i in bad, row, col, wall))
            for i, t in enumerate(temps, 1)]


@dataclass
class DepotContext:
    """What evaluating a depot's messages needs besides the messages: thresholds, the
    layouts of its granaries (from memory while unchanged), and its open alarms."""

    book: ThresholdBook
    revision: int                                  # the depot's layout_rev
    layouts: dict[str, GranaryLayout | None]
    open: dict[tuple[str | None, str], set[str]]   # (granary, rule) -> subjects

    def layout_of(self, granary: str) -> tuple[int, GranaryLayout | None]:
        return self.revision, self.layouts.get(granary)

    def open_in(self, granary: str | None, rules) -> dict[str, set[str]]:
        return {r: set(self.open.get((granary, r), ())) for r in rules}


_CONTEXTS = """
SELECT d.depot, coalesce(dp.layout_rev, 0),
       (SELECT coalesce(json_object_agg(t.granary, t.settings), '{}') FROM alarm_thresholds t
        WHERE t.depot = d.depot),
       (SELECT coalesce(json_agg(json_build_array(a.granary, a.rule, a.subject)), '[]')
        FROM alarms a WHERE a.depot = d.depot AND a.state <> 'cleared')
FROM unnest(%s::text[]) AS d(depot) LEFT JOIN depots dp ON dp.code = d.depot
"""


def load_contexts(conn, granaries_by_depot: dict[str, list[str]],
                  cache: LayoutCache = CACHE) -> dict[str, DepotContext]:
    """The context of every depot of a batch: one query, plus one for the layouts that are
    not in memory at the depot's current revision."""
    if not granaries_by_depot:
        return {}
    rows = conn.execute(_CONTEXTS, (sorted(granaries_by_depot),)).fetchall()
    layouts = cache.layouts(conn, granaries_by_depot, {depot: rev for depot, rev, *_ in rows})
    out = {}
    for depot, rev, overrides, alarms in rows:
        opened: dict[tuple[str | None, str], set[str]] = defaultdict(set)
        for g, rule, subject in alarms:
            opened[(g, rule)].add(subject)
        out[depot] = DepotContext(ThresholdBook(overrides), rev, layouts[depot], dict(opened))
    return out


def _stored_cables(conn, depot: str, granary: str, cables: list[int], since: datetime,
                   until: datetime) -> dict[int, tuple[list, list[int]]]:
    """The last scan of each cable within [since, until]: temps by layer and fault layers."""
    rows = conn.execute(
        """SELECT c.cable, r.layer, r.temp_x100, r.fault
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
        temps[layer - 1] = None if temp is None else temp / 100  # stored in hundredths
        if fault:
            faults.append(layer)
    return out


def stored_air_many(conn, place: str, wanted: list[tuple[str, str, datetime, datetime]]
                    ) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    """The latest (temp, RH) of `place` for each (depot, granary, since, until), in one
    query; a pair with no reading in its window is left out."""
    if not wanted:
        return {}
    rows = conn.execute(
        """SELECT u.d, u.g, a.temp_c, a.rh_pct
           FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])
                AS u(d, g, since, until)
           JOIN LATERAL (SELECT temp_c, rh_pct FROM air_readings r
                         WHERE r.depot = u.d AND r.granary = u.g AND r.place = %s
                           AND r.ts BETWEEN u.since AND u.until
                         ORDER BY r.ts DESC LIMIT 1) a ON TRUE""",
        ([w[0] for w in wanted], [w[1] for w in wanted], [w[2] for w in wanted],
         [w[3] for w in wanted], place)).fetchall()
    return {(d, g): tuple(None if v is None else round(v, 2) for v in (t, rh))
            for d, g, t, rh in rows}


def _stored_air(conn, depot: str, granary: str, place: str, since: datetime, until: datetime):
    return stored_air_many(conn, place, [(depot, granary, since, until)]).get(
        (depot, granary), (None, None))


def message_granaries(msg: Telemetry) -> list[str]:
    return sorted({s.granary for s in msg.grain})


CableScan = tuple  # (cable, row, col, wall, temps_c, faults)


@dataclass
class ScanInput:
    """One granary's scan as the rules will see it, before any Point is built: the quiet
    check (central/alarms/evaluate/quiet.py) reads the raw lists, and `scan` (the rules' GranaryScan)
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


def _ts(scan) -> datetime:
    return scan.ts


def _newest_by_granary(msg: Telemetry) -> dict[str, tuple[datetime, dict]]:
    """granary -> (scan time, cable -> the newest scan of that cable) of one message."""
    by_granary: dict[str, list] = {}
    for scan in msg.grain:
        group = by_granary.get(scan.granary)
        if group is None:
            by_granary[scan.granary] = [scan]
        else:
            group.append(scan)
    out = {}
    for granary, group in by_granary.items():
        group.sort(key=_ts)  # stable: of two scans of a cable at one time the later wins
        out[granary] = (group[-1].ts, {s.cable: s for s in group})
    return out


def _indoor_air(msg: Telemetry) -> dict[str | None, tuple[float | None, float | None]]:
    return {a.granary: (a.temp_c, a.rh_pct) for a in msg.air if a.place == "indoor"}


@dataclass(frozen=True)
class MessageScan:
    """One granary's scan as far as its message alone tells, without the database: its
    time, and the quiet check's figures when the message holds every cable the layout
    lists (`stats` None: the scan is completed from the table when it is evaluated). `rev`
    is the layout revision it was built against (None: no layout was at hand)."""

    ts: datetime
    rev: int | None
    stats: ScanStats | None
    indoor: tuple[float | None, float | None] | None


LayoutOf = Callable[[str], "tuple[int, GranaryLayout | None] | None"]


def message_scans(msg: Telemetry, layout_of: LayoutOf) -> dict[str, MessageScan]:
    """The MessageScan of each granary of a telemetry message; `layout_of(granary)` gives
    (revision, layout) or None. Pure: ingest runs it as each message is decoded."""
    indoor = _indoor_air(msg)
    out = {}
    for granary, (ts, scans) in _newest_by_granary(msg).items():
        known = layout_of(granary)
        if known is None:
            out[granary] = MessageScan(ts, None, None, indoor.get(granary))
            continue
        rev, layout = known
        if layout is None or not layout.cables:
            entries = _message_entries(scans)
        else:
            entries, absent = _entries(layout, scans, {})
            if absent:
                out[granary] = MessageScan(ts, rev, None, indoor.get(granary))
                continue
        out[granary] = MessageScan(ts, rev, scan_stats(entries), indoor.get(granary))
    return out


def build_scans(conn, depot: str, msg: Telemetry, ctx: DepotContext,
                only: set[str] | None = None) -> list[ScanInput]:
    """One ScanInput per granary with grain readings in the message (or those in `only`):
    what the message holds, the database only for a cable the message lacks or air it does
    not carry."""
    newest = _newest_by_granary(msg)
    if not newest:
        return []
    outdoor = next(((a.temp_c, a.rh_pct) for a in msg.air if a.place == "outdoor"), None)
    indoor = _indoor_air(msg)
    out = []
    for granary in sorted(newest):
        if only is not None and granary not in only:
            continue
        ts, scans = newest[granary]
        th = ctx.book.for_granary(granary)
        since = ts - timedelta(minutes=th.cable_silent_min)
        layout = ctx.layouts.get(granary)
        missing: list[int] = []
        if layout is None or not layout.cables:  # no layout yet: the message's cables
            entries = _message_entries(scans)
        else:
            absent = [c for c in layout.cables if c not in scans]
            stored = _stored_cables(conn, depot, granary, absent, since, ts) if absent else {}
            entries, missing = _entries(layout, scans, stored)
        air_in = indoor.get(granary) or _stored_air(conn, depot, granary, "indoor", since, ts)
        air_out = outdoor or _stored_air(conn, depot, "", "outdoor", since, ts)
        out.append(ScanInput(granary, layout.storage_mode if layout else "normal", ts, entries,
                             air_in, air_out, missing, th))
    return out


def _message_entries(scans: dict) -> list[CableScan]:
    return [(c, None, None, False, s.temps_c, s.faults) for c, s in scans.items()]


def _entries(layout: GranaryLayout, scans: dict, stored: dict) -> tuple[list[CableScan], list[int]]:
    """The layout's cables from the message, else from `stored` (the table: a scan split
    over several messages), else missing; then any cable the message has and the layout
    does not list (yet)."""
    entries: list[CableScan] = []
    missing: list[int] = []
    for cable, row, col, wall in zip(layout.cables, layout.rows, layout.cols, layout.wall,
                                     strict=True):
        s = scans.get(cable)
        if s is not None:
            entries.append((cable, row, col, wall, s.temps_c, s.faults))
        elif cable in stored:
            temps, faults = stored[cable]
            entries.append((cable, row, col, wall, temps, faults))
        else:
            missing.append(cable)
    if len(scans) > len(layout.cables) - len(missing) - len(stored):
        known = set(layout.cables)
        entries += [(c, None, None, False, s.temps_c, s.faults)
                    for c, s in scans.items() if c not in known]
    return entries, missing

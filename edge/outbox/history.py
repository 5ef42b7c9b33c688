"""Local scan history in the edge database, for `grainlink edge status` and on-site viewing
without the WAN. Bounded by age (housekeeping prunes it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from edge.outbox.schema import Database
from protocols.mqtt.models import AirReading, GrainScan

_OUTDOOR = ""  # primary-key stand-in for the outdoor pair's null granary


@dataclass
class LatestScan:
    """The most recent reading of every cable of a granary (cables may differ in time)."""

    granary: str
    ts: datetime  # the newest cable scan
    cables: dict[int, list[float | None]]
    faults: dict[int, list[int]]
    scanned_at: dict[int, datetime] = field(default_factory=dict)
    indoor: AirReading | None = None

    def values(self) -> list[float]:
        return [t for temps in self.cables.values() for t in temps if t is not None]

    def summary(self) -> dict[str, float | int | None]:
        """min/max/mean over valid points, the number of points and of faulty sensors."""
        vals = self.values()
        return {
            "points": sum(len(t) for t in self.cables.values()),
            "valid": len(vals),
            "faults": sum(len(f) for f in self.faults.values()),
            "min": min(vals) if vals else None,
            "max": max(vals) if vals else None,
            "mean": round(sum(vals) / len(vals), 2) if vals else None,
        }


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def record(db: Database, grain: list[GrainScan], air: list[AirReading]) -> None:
    """Store a scan (inside the caller's transaction). A repeated (cable, ts) replaces the row."""
    db.conn.executemany(
        "INSERT OR REPLACE INTO history_grain (granary, cable, ts, temps_c, faults) "
        "VALUES (?, ?, ?, ?, ?)",
        [(g.granary, g.cable, _ts(g.ts), json.dumps(g.temps_c), json.dumps(g.faults))
         for g in grain],
    )
    db.conn.executemany(
        "INSERT OR REPLACE INTO history_air (place, granary, ts, temp_c, rh_pct) "
        "VALUES (?, ?, ?, ?, ?)",
        [(a.place, a.granary or _OUTDOOR, _ts(a.ts), a.temp_c, a.rh_pct) for a in air],
    )


def prune(db: Database, before_ts: float) -> int:
    """Delete history older than `before_ts`; returns the rows removed."""
    n = db.execute("DELETE FROM history_grain WHERE ts < ?", [before_ts]).rowcount
    return n + db.execute("DELETE FROM history_air WHERE ts < ?", [before_ts]).rowcount


def _air(row) -> AirReading:
    place, granary, ts, temp_c, rh_pct = row
    return AirReading(ts=_dt(ts), granary=granary or None, place=place,
                      temp_c=temp_c, rh_pct=rh_pct)


def latest(db: Database, granary: str) -> LatestScan | None:
    # SQLite returns the other columns from the row holding max(ts) in an aggregate query.
    rows = db.execute(
        "SELECT cable, max(ts), temps_c, faults FROM history_grain WHERE granary = ? "
        "GROUP BY cable ORDER BY cable", [granary],
    ).fetchall()
    air = db.execute(
        "SELECT place, granary, ts, temp_c, rh_pct FROM history_air "
        "WHERE place = 'indoor' AND granary = ? ORDER BY ts DESC LIMIT 1", [granary],
    ).fetchone()
    if not rows and air is None:
        return None
    newest = max((r[1] for r in rows), default=air[2] if air else 0.0)
    return LatestScan(
        granary=granary,
        ts=_dt(newest),
        cables={r[0]: json.loads(r[2]) for r in rows},
        faults={r[0]: json.loads(r[3]) for r in rows},
        scanned_at={r[0]: _dt(r[1]) for r in rows},
        indoor=_air(air) if air else None,
    )


def since(
    db: Database, granary: str | None, since_dt: datetime
) -> tuple[list[GrainScan], list[AirReading]]:
    start = _ts(since_dt)
    where, args = "ts >= ?", [start]
    if granary is not None:
        where, args = "granary = ? AND ts >= ?", [granary, start]
    grain = [
        GrainScan(ts=_dt(ts), granary=g, cable=cable, temps_c=json.loads(temps),
                  faults=json.loads(faults))
        for g, cable, ts, temps, faults in db.execute(
            f"SELECT granary, cable, ts, temps_c, faults FROM history_grain WHERE {where} "
            "ORDER BY ts, granary, cable", args,
        )
    ]
    air_where = where if granary is None else "(granary = ? OR place = 'outdoor') AND ts >= ?"
    air = [
        _air(row) for row in db.execute(
            f"SELECT place, granary, ts, temp_c, rh_pct FROM history_air WHERE {air_where} "
            "ORDER BY ts, place, granary", args,
        )
    ]
    return grain, air

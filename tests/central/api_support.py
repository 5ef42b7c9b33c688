"""Helpers for the API tests: a migrated scratch database, depots and readings inserted
directly, users with tokens. Depot codes carry a per-run random tag so the API tests never
collide with other tests sharing the session database."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from central.db.migrate import migrate
from central.db.pool import connect
from central.ingest.prepare import hundredths
from central.settings import Settings
from central.users import add_user

_migrated: set[str] = set()


def migrated_settings(database_url: str) -> Settings:
    settings = Settings(database_url=database_url)
    if database_url not in _migrated:
        migrate(database_url, settings)
        _migrated.add(database_url)
    return settings


def tag() -> str:
    return uuid.uuid4().hex[:6].upper()


def insert_depot(conn, code: str, region: dict | None, granaries: dict[str, list[tuple]],
                 state: str = "online", last_seen: datetime | None = None) -> None:
    """A depot with its layout; granaries maps code -> [(cable, row, col, layers)]."""
    region = region or {}
    layout = {
        "schema": "grainlink.layout/1", "depot": code, "name": f"depot {code}",
        "region": region, "generated_at": "2026-11-22T07:59:00Z",
        "granaries": [
            {"granary": g, "name": g, "type": "flat",
             "cables": [{"cable": c, "row": r, "col": k, "layers": n} for c, r, k, n in cables]}
            for g, cables in granaries.items()
        ],
        "cameras": [],
    }
    conn.execute(
        """INSERT INTO depots (code, name, province, city, county, layout, state, last_seen)
           VALUES (%s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()))""",
        (code, f"depot {code}", region.get("province"), region.get("city"), region.get("county"),
         json.dumps(layout), state, last_seen),
    )
    for g, cables in granaries.items():
        conn.execute("INSERT INTO granaries (depot, granary, name) VALUES (%s, %s, %s)",
                     (code, g, g))
        for c, r, k, n in cables:
            conn.execute(
                'INSERT INTO cables (depot, granary, cable, "row", col, layers)'
                " VALUES (%s, %s, %s, %s, %s, %s)", (code, g, c, r, k, n))


def insert_scan(conn, depot: str, granary: str, cable: int, ts: datetime,
                temps: list[float | None], faults: tuple[int, ...] = ()) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO grain_readings (depot, granary, cable, layer, ts, temp_x100, fault)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            # Like ingest: no row where a cable has no sensor (None and not a fault); °C
            # stored as hundredths (migration 0060).
            [(depot, granary, cable, i + 1, ts, hundredths(t), (i + 1) in faults)
             for i, t in enumerate(temps) if t is not None or (i + 1) in faults],
        )


def insert_air(conn, depot: str, granary: str, place: str, ts: datetime,
               temp_c: float | None, rh_pct: float | None) -> None:
    conn.execute(
        "INSERT INTO air_readings (depot, granary, place, ts, temp_c, rh_pct)"
        " VALUES (%s, %s, %s, %s, %s, %s)", (depot, granary, place, ts, temp_c, rh_pct))


def new_user(database_url: str, role: str, scope: str, can_write: bool = True) -> str:
    with connect(database_url, autocommit=True) as conn:
        return add_user(conn, f"t-{role}-{tag()}", role, scope, can_write)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}

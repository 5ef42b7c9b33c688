"""Two cities' depots with something behind every kind of id the API takes (granary,
readings, alarm, inspection, thresholds, lot, movement, batch, plan, approval), for the attacks
of tests/security/test_api_*.py: a city user of one city against the other's ids.

Everything of city B carries a marker text (`leak_marker`); an answer to city A that holds it
is a leak. Setup goes through the API as an admin where it can, so it follows the routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from central.db.pool import connect
from central.wiring import build_app
from tests.central.api_support import (
    bearer,
    insert_air,
    insert_depot,
    insert_scan,
    migrated_settings,
    new_user,
    tag,
)

CITY_A = {"province": "430000", "city": "430100", "county": "430102"}
CITY_B = {"province": "430000", "city": "430200", "county": "430203"}


@dataclass
class World:
    client: TestClient
    t: str
    a: str                      # depot of city A (the attacker's own)
    b: str                      # depot of city B (the target)
    leak_marker: str
    tokens: dict[str, dict] = field(default_factory=dict)   # name -> headers
    ids: dict[str, dict[str, str]] = field(default_factory=dict)  # "A"/"B" -> param -> value

    def headers(self, name: str) -> dict:
        return self.tokens[name]


def _alarm(conn, depot: str, text: str) -> str:
    now = datetime.now(UTC)
    return str(conn.execute(
        "INSERT INTO alarms (depot, granary, rule, subject, severity, value, threshold, message,"
        " opened_at, updated_at) VALUES (%s, 'P01', 'grain_temp_high', 'P01/C1/L1', 'alarm',"
        " 31.5, 30, %s, %s, %s) RETURNING id", (depot, text, now, now)).fetchone()[0])


def _post(client: TestClient, path: str, body: dict, headers: dict, method: str = "POST"):
    r = client.request(method, path, json=body, headers=headers)
    assert r.status_code < 300, f"setup {method} {path}: {r.status_code} {r.text}"
    return r.json()


def _fill(w: World, side: str, admin: dict) -> None:
    """Ids of one side, made through the API (admin) where a route makes them."""
    depot = w.a if side == "A" else w.b
    mark = w.leak_marker if side == "B" else "OWN"
    c = w.client
    ids = w.ids[side]
    insp = _post(c, f"/api/v1/depots/{depot}/granaries/P01/inspections",
                 {"date": "2026-11-01", "pests_per_kg": 3, "major_per_kg": 1,
                  "species": [mark]}, admin)
    ids["inspection_id"] = str(insp["id"])
    _post(c, f"/api/v1/depots/{depot}/thresholds", {"hotspot_warning_delta_c": 2.5}, admin, "PUT")
    lot = f"L{side}-{w.t}"
    _post(c, "/api/v1/lots", {"depot": depot, "granary": "P01", "lot": lot,
                              "category": "raw_grain", "variety": f"wheat{mark}",
                              "harvest_year": 2025, "card_established": "2025-10"}, admin)
    ids["lot"] = lot
    move = _post(c, f"/api/v1/lots/{lot}/movements",
                 {"direction": "in", "date": "2025-10-10", "quantity_t": 100,
                  "moisture_pct": 12.5, "impurity_pct": 0.8, "voucher": f"V{mark}"}, admin)
    ids["movement_id"] = str(move.get("id", 1))
    batch = _post(c, "/api/v1/batches", {"depot": depot, "direction": "in",
                                         "category": "raw_grain", "variety": f"wheat{mark}",
                                         "arrived_at": "2026-11-20T08:00:00Z"}, admin)
    ids["code"] = batch["code"]
    _post(c, "/api/v1/plans", {"scope_kind": "depot", "scope": depot, "variety": f"wheat{mark}",
                               "quantity_t": 500}, admin, "PUT")
    # A transfer needs a second person's approval: it leaves a pending approval behind.
    r = c.post(f"/api/v1/lots/{lot}/transfer", json={"granary": "P02", "reason": mark},
               headers=admin)
    ids["approval_id"] = str((r.json() or {}).get("approval", 1)) if r.status_code == 202 else "1"


def build_world(database_url: str) -> tuple[World, TestClient]:
    settings = migrated_settings(database_url)
    t = tag()
    w = World(client=None, t=t, a=f"SECA{t}", b=f"SECB{t}", leak_marker=f"LEAKB{t}")
    now = datetime.now(UTC).replace(microsecond=0)
    with connect(database_url, autocommit=True) as conn:
        for code, region in ((w.a, CITY_A), (w.b, CITY_B)):
            insert_depot(conn, code, region, {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
            conn.execute("UPDATE granaries SET capacity_t = 6000 WHERE depot = %s", (code,))
            for hours in range(3):
                insert_scan(conn, code, "P01", 1, now - timedelta(hours=hours),
                            [15.0, 16.0, 17.0, 18.0])
            insert_air(conn, code, "P01", "indoor", now, 18.0, 60.0)
        conn.execute("UPDATE depots SET name = %s WHERE code = %s", (f"库{w.leak_marker}", w.b))
        conn.execute("UPDATE granaries SET name = %s WHERE depot = %s",
                     (f"仓{w.leak_marker}", w.b))
        w.ids = {"A": {"depot": w.a, "granary": "P01"}, "B": {"depot": w.b, "granary": "P01"}}
        w.ids["A"]["alarm_id"] = _alarm(conn, w.a, "own alarm")
        w.ids["B"]["alarm_id"] = _alarm(conn, w.b, f"message {w.leak_marker}")
    w.tokens = {
        "admin": bearer(new_user(database_url, "admin", "000000")),
        "admin2": bearer(new_user(database_url, "admin", "000000")),
        "city_a": bearer(new_user(database_url, "city", "430100")),
        "viewer_a": bearer(new_user(database_url, "city", "430100", can_write=False)),
        "depot_a": bearer(new_user(database_url, "depot", w.a)),
        "county_other": bearer(new_user(database_url, "county", "430103")),
        "province_other": bearer(new_user(database_url, "province", "440000")),
    }
    client = TestClient(build_app(settings))
    w.client = client
    return w, client


def open_world(database_url: str):
    """A started world (use as a context: the app's pool closes at the end)."""
    w, client = build_world(database_url)
    with client:
        for side in ("A", "B"):
            _fill(w, side, w.tokens["admin"])
        yield w

"""A small province on the session's database: two depots of two cities, users with job
roles, and the API built as `grainlink central serve` builds it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from central.db.pool import connect
from central.users import add_user
from central.wiring import build_app
from tests.central.api_support import bearer, insert_depot, migrated_settings, tag


def new_user(database_url: str, role: str, scope: str, can_write: bool = True) -> str:
    with connect(database_url, autocommit=True) as conn:
        return add_user(conn, f"r-{role.replace(',', '-')}-{tag()}", role, scope, can_write)


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    t = tag()
    a, b = f"RSV{t}-A", f"RSV{t}-B"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, a, {"province": "430000", "city": "430100", "county": "430102"},
                     {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)], "P03": [(1, 1, 1, 4)],
                      "P04": [(1, 1, 1, 4)]})
        insert_depot(conn, b, {"province": "430000", "city": "430200", "county": "430203"},
                     {"P01": [(1, 1, 1, 4)]})
        conn.execute("UPDATE granaries SET capacity_t = 6000 WHERE depot = %s", (a,))
        conn.execute("UPDATE granaries SET capacity_t = 1000 WHERE depot = %s AND granary = 'P02'", (a,))
    with TestClient(build_app(settings)) as client:
        yield SimpleNamespace(
            client=client, a=a, b=b, t=t, url=database_url,
            keeper=bearer(new_user(database_url, "keeper,inspector", a)),
            manager=bearer(new_user(database_url, "manager", a)),
            old_depot=bearer(new_user(database_url, "depot", a)),      # a v1 token: keeper + manager
            sup=bearer(new_user(database_url, "city", "430100")),       # v1 city token: supervisor
            sup2=bearer(new_user(database_url, "supervisor", "430100")),
            sup_b=bearer(new_user(database_url, "supervisor", "430200")),
            province=bearer(new_user(database_url, "supervisor", "430000")),
            viewer=bearer(new_user(database_url, "province", "430000", can_write=False)),
        )


class Api:
    """Short calls for the tests: each returns the response."""

    def __init__(self, w):
        self.w = w

    def post(self, path, body=None, who="keeper"):
        return self.w.client.post(f"/api/v1{path}", json=body if body is not None else {},
                                  headers=getattr(self.w, who))

    def put(self, path, body, who="keeper"):
        return self.w.client.put(f"/api/v1{path}", json=body, headers=getattr(self.w, who))

    def get(self, path, who="keeper", **params):
        return self.w.client.get(f"/api/v1{path}", params=params, headers=getattr(self.w, who))

    def lot(self, name, granary="P01", variety="wheat", card="2025-11", category="raw_grain", **extra):
        # the tests share a few granaries: each lot gets a recorded cell of its own, so one
        # lot per place (四落实) holds; pass cell=None to put a lot in the granary itself
        extra.setdefault("cell", name)
        extra = {k: v for k, v in extra.items() if v is not None}
        code = f"{name}-{self.w.t}"
        r = self.post("/lots", {"depot": self.w.a, "granary": granary, "lot": code, "category": category,
                                "variety": variety, "harvest_year": 2025, "card_established": card, **extra})
        assert r.status_code == 201, r.text
        return code

    def move(self, lot, direction, q, moisture=12.5, impurity=1.0, day="2025-11-10"):
        return self.post(f"/lots/{lot}/movements", {
            "direction": direction, "date": day, "quantity_t": q, "moisture_pct": moisture,
            "impurity_pct": impurity, "voucher": f"V-{direction}-{q}"})

    def batch(self, variety="wheat", direction="in", arrived="2025-11-10T01:00:00Z", **extra):
        r = self.post("/batches", {"depot": self.w.a, "direction": direction, "category": "raw_grain",
                                   "variety": variety, "arrived_at": arrived, "harvest_year": 2025, **extra})
        assert r.status_code == 201, r.text
        return r.json()["code"]

    def test(self, code, moisture, impurity, kind="physical", grade="2", **extra):
        r = self.post(f"/batches/{code}/tests", {"kind": kind, "moisture_pct": moisture,
                                                 "impurity_pct": impurity, "test_weight_g_l": 780,
                                                 "grade": grade, **extra})
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture
def api(world):
    return Api(world)

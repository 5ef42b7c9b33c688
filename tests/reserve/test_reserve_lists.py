"""Server-side sort and page of the reserve lists (issue 15): `GET /lots`, `/batches`,
`/approvals` and `/checks` take `sort`, `limit` and `offset`, answer the same JSON list as
before without them, refuse a bad sort or an out-of-range limit with a 422 naming it, and
count `X-Total-Count` within the caller's scope (region-wide requests included)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from central.api.reserve_lists import APPROVAL_SORTS, BATCH_SORTS, CHECK_SORTS, LOT_SORTS
from central.db.pool import connect
from central.wiring import build_app
from tests.central.api_support import bearer, insert_depot, migrated_settings, new_user, tag

# A province of its own, so the totals below are this module's rows only.
CITY_X = {"province": "840000", "city": "840100", "county": "840102"}
CITY_Y = {"province": "840000", "city": "840200", "county": "840201"}
LOTS = {"x1": 4, "x2": 3, "y1": 2}      # lots per depot
BATCHES = {"x1": 3, "x2": 2, "y1": 4}


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    t = tag()
    depots = {"x1": f"LX{t}1", "x2": f"LX{t}2", "y1": f"LY{t}1"}
    with connect(database_url, autocommit=True) as conn:
        for key, code in depots.items():
            insert_depot(conn, code, CITY_X if key.startswith("x") else CITY_Y,
                         {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
    keepers = {k: bearer(new_user(database_url, "depot", code)) for k, code in depots.items()}
    users = {"province": bearer(new_user(database_url, "province", "840000")),
             "city_x": bearer(new_user(database_url, "city", "840100")),
             "city_y": bearer(new_user(database_url, "city", "840200"))}
    with TestClient(build_app(settings)) as client:
        def post(path, body, who, status):
            r = client.request("PUT" if path == "/plans" else "POST", f"/api/v1{path}",
                               json=body, headers=who)
            assert r.status_code == status, r.text
            return r.json()
        for key, n in LOTS.items():
            for i in range(n):
                post("/lots", {"depot": depots[key], "granary": "P01", "lot": f"L{t}{key}{i}",
                               "category": "raw_grain", "variety": ["wheat", "corn"][i % 2],
                               "card_established": "2026-01"}, keepers[key], 201)
        for key, n in BATCHES.items():
            for i in range(n):
                post("/batches", {"depot": depots[key], "direction": "in", "category": "raw_grain",
                                  "variety": "wheat", "arrived_at": f"2026-03-0{i + 1}T08:00:00+08:00",
                                  "vehicle": f"湘A{t}{key}{i}"}, keepers[key], 201)
        # approvals: a transfer per depot (x1 twice), plan changes for each city and the province
        for key in ("x1", "x1", "x2", "y1"):
            lot = f"L{t}{key}0"
            post(f"/lots/{lot}/transfer", {"granary": "P02", "reason": "倒仓"}, keepers[key], 202)
        for who, scope in (("city_x", "840100"), ("city_y", "840200"), ("province", "840000")):
            post("/plans", {"scope_kind": "region", "scope": scope, "variety": "wheat",
                            "quantity_t": 1000}, users[who], 202)
        for key in ("x1", "x2", "y1"):
            post(f"/depots/{depots[key]}/checks", {"kind": "supervisory", "inspected_on": "2026-03-01",
                                                    "findings": "通风口积尘", "rectification_due": "2026-04-01"},
                 users["province"], 201)
        yield client, t, depots, users


def get(client, who, path, **params):
    r = client.get(f"/api/v1{path}", params=params, headers=who)
    assert r.status_code == 200, r.text
    return r.json(), int(r.headers["X-Total-Count"])


def test_lots_without_parameters_are_the_old_list_in_the_old_order(world):
    client, t, depots, users = world
    rows, total = get(client, users["province"], "/lots")
    assert total == len(rows) == sum(LOTS.values())
    assert [(r["depot"], r["granary"], r["lot"]) for r in rows] == sorted(
        (r["depot"], r["granary"], r["lot"]) for r in rows)


def test_lots_page_sort_filter_and_city_scope(world):
    client, t, depots, users = world
    rows, total = get(client, users["province"], "/lots", sort="-lot", limit=3, offset=2)
    everything = sorted((r["lot"] for r in get(client, users["province"], "/lots")[0]), reverse=True)
    assert total == 9 and [r["lot"] for r in rows] == everything[2:5]
    rows, total = get(client, users["city_x"], "/lots", limit=2)
    assert total == LOTS["x1"] + LOTS["x2"] and len(rows) == 2
    assert {r["depot"] for r in get(client, users["city_x"], "/lots")[0]} == {depots["x1"], depots["x2"]}
    rows, total = get(client, users["city_x"], "/lots", variety="corn", sort="depot")
    assert total == 3 and all(r["variety"] == "corn" for r in rows)   # x1: 1, 3; x2: 1
    rows, total = get(client, users["city_y"], "/lots", q=f"{t}y1", limit=1, offset=5)
    assert rows == [] and total == LOTS["y1"]                          # past the end: still counted


def test_batches_offset_sort_and_scope(world):
    client, t, depots, users = world
    rows, total = get(client, users["province"], "/batches", depot=depots["y1"])
    assert total == 4 and [r["arrived_at"] for r in rows] == sorted(
        (r["arrived_at"] for r in rows), reverse=True)                 # old default: newest first
    page, total = get(client, users["province"], "/batches", depot=depots["y1"], sort="arrived_at",
                      limit=2, offset=1)
    assert total == 4 and [r["code"] for r in page] == [r["code"] for r in reversed(rows)][1:3]
    rows, total = get(client, users["city_x"], "/batches", limit=1, sort="-code")
    assert total == BATCHES["x1"] + BATCHES["x2"] and len(rows) == 1
    rows, total = get(client, users["city_y"], "/batches", q=f"湘A{t}y1")
    assert total == 4 and {r["depot"] for r in rows} == {depots["y1"]}


def test_approval_totals_include_the_regions_the_scope_holds(world):
    client, t, depots, users = world
    mine = lambda rows: [r for r in rows if t in str(r["payload"].get("lot", "")) or  # noqa: E731
                         str(r.get("region") or "").startswith("84")]
    rows, total = get(client, users["city_x"], "/approvals", state="pending")
    # three transfers of city X's depots and city X's own plan; not city Y's, not the province's
    assert total == len(rows) == len(mine(rows)) == 4
    assert sorted(r["region"] for r in rows if r["depot"] is None) == ["840100"]
    rows, total = get(client, users["province"], "/approvals", state="pending", kind="plan_change",
                      sort="requested_at", limit=2)
    assert total == 3 and [r["region"] for r in rows] == ["840100", "840200"]
    rows, total = get(client, users["city_y"], "/approvals", sort="-id", offset=1)
    assert total == 2 and len(rows) == 1 and rows[0]["kind"] == "transfer"


def test_checks_page_and_scope(world):
    client, t, depots, users = world
    rows, total = get(client, users["city_x"], "/checks", open=True, sort="depot", limit=1, offset=1)
    assert total == 2 and [r["depot"] for r in rows] == [depots["x2"]]
    rows, total = get(client, users["province"], "/checks", depot=depots["y1"])
    assert total == len(rows) == 1


@pytest.mark.parametrize(("path", "sorts"), [("/lots", LOT_SORTS), ("/batches", BATCH_SORTS),
                                             ("/approvals", APPROVAL_SORTS), ("/checks", CHECK_SORTS)])
def test_every_whitelisted_sort_works_and_others_are_422(world, path, sorts):
    client, t, depots, users = world
    for name in sorts:
        for sort in (name, f"-{name}"):
            get(client, users["city_x"], path, sort=sort, limit=3)
    r = client.get(f"/api/v1{path}", params={"sort": "password"}, headers=users["city_x"])
    assert r.status_code == 422 and "sort" in r.text and "password" in r.text
    r = client.get(f"/api/v1{path}", params={"sort": "id;drop table lots"}, headers=users["city_x"])
    assert r.status_code == 422 and "sort" in r.text and "drop" not in r.text


@pytest.mark.parametrize(("path", "limit"), [("/lots", 10001), ("/batches", 5001),
                                             ("/approvals", 501), ("/checks", 501),
                                             ("/lots", 0), ("/approvals", -1)])
def test_out_of_range_limit_and_offset_are_422_naming_them(world, path, limit):
    client, t, depots, users = world
    r = client.get(f"/api/v1{path}", params={"limit": limit}, headers=users["province"])
    assert r.status_code == 422 and "limit" in r.text
    r = client.get(f"/api/v1{path}", params={"offset": -1}, headers=users["province"])
    assert r.status_code == 422 and "offset" in r.text

"""Server-side sort, filter and page of the big lists (issue 15): `GET /depots` and
`GET /alarms` take limit/offset/sort/q and state filters, answer the same JSON list as before
without them, and give the total in `X-Total-Count`, counted within the caller's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from central.alarms.state import store
from central.api.listing import MAX_LIMIT, like_pattern, named_scope, parse_sort
from central.db.pool import connect
from central.region_codes import code_prefix
from central.rules.model import Finding
from central.wiring import build_app
from tests.central.api_support import bearer, insert_depot, migrated_settings, new_user, tag

# A province of its own, so the region totals below are this module's depots only.
CITY_A = {"province": "820000", "city": "820100", "county": "820102"}
CITY_B = {"province": "820000", "city": "820200", "county": "820201"}


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    t = tag()
    now = datetime.now(UTC)
    codes = {"a": [f"LSA{t}{i}" for i in range(5)], "b": [f"LSB{t}{i}" for i in range(3)]}
    with connect(database_url, autocommit=True) as conn:
        for i, code in enumerate(codes["a"]):
            # one depot long silent: stored online, reported offline
            seen = now - timedelta(days=2) if i == 4 else now
            insert_depot(conn, code, CITY_A, {f"P{g:02d}": [] for g in range(1, i + 2)},
                         last_seen=seen)
        for code in codes["b"]:
            insert_depot(conn, code, CITY_B, {"P01": []})
        # active alarms: a0 ×3, a1 ×1, b0 ×2; one acknowledged and one cleared besides
        alarms = {}
        for code, n in ((codes["a"][0], 3), (codes["a"][1], 1), (codes["b"][0], 2)):
            for k in range(n):
                sev = "alarm" if k == 0 else "warning"
                _, row = store.raise_or_update(conn, code, "P01", Finding(
                    "hotspot", f"P01/C{k + 1}/L1", sev, 6.0 + k, 5.0, "hot", "P01"),
                    now - timedelta(minutes=10 * k))
                alarms.setdefault(code, []).append(row["id"])
        _, acked = store.raise_or_update(conn, codes["a"][2], "P01", Finding(
            "grain_temp_mean_high", "P01", "warning", 21.0, 20.0, "warm", "P01"), now)
        store.acknowledge(conn, acked["id"], "someone", None)
    tokens = {"province": new_user(database_url, "province", "820000"),
              "city_a": new_user(database_url, "city", "820100"),
              "admin": new_user(database_url, "admin", "000000")}
    with TestClient(build_app(settings)) as client:
        yield client, t, codes, tokens


def get(client, token, path, **params):
    r = client.get(f"/api/v1{path}", params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json(), int(r.headers["X-Total-Count"])


# --- pure parts ------------------------------------------------------------------------------

def test_sort_is_a_whitelist_and_names_what_it_refuses():
    cols = {"name": "s.name", "active_alarms": "s.active_alarms"}
    order = parse_sort("-active_alarms", cols, "name", "s.depot ASC")
    assert order.sql == "s.active_alarms DESC NULLS LAST, s.depot ASC" and order.descending
    assert parse_sort(None, cols, "name", "t").sql.startswith("s.name ASC")
    with pytest.raises(ValueError, match="bogus"):
        parse_sort("bogus", cols, "name", "t")
    with pytest.raises(ValueError) as raised:  # SQL in the value: refused and not echoed
        parse_sort("name;drop table depots", cols, "name", "t")
    assert "drop" not in str(raised.value) and "sort" in str(raised.value)


def test_text_filter_and_region_helpers():
    assert like_pattern(" 50%_off ") == r"%50\%\_off%"
    assert [code_prefix(c) for c in ("430000", "430100", "430102")] == ["43", "4301", "430102"]
    assert named_scope("left(r, %s) = %s", [2, "43"]) == (
        "left(r, %(scope0)s) = %(scope1)s", {"scope0": 2, "scope1": "43"})


# --- depots ----------------------------------------------------------------------------------

def test_without_parameters_the_list_is_what_it_was(world):
    client, t, codes, tokens = world
    rows, total = get(client, tokens["province"], "/depots")
    assert total == len(rows) == 8
    assert [r["depot"] for r in rows] == sorted(codes["a"] + codes["b"])
    assert set(rows[0]) == {"depot", "name", "region", "state", "last_seen", "granaries",
                            "active_alarms"}
    assert {r["depot"]: r["state"] for r in rows}[codes["a"][4]] == "offline"


def test_depots_page_sort_and_total(world):
    client, t, codes, tokens = world
    rows, total = get(client, tokens["province"], "/depots", sort="-active_alarms", limit=2)
    assert total == 8
    assert [(r["depot"], r["active_alarms"]) for r in rows] == [(codes["a"][0], 3), (codes["b"][0], 2)]
    rows, _ = get(client, tokens["province"], "/depots", sort="-granaries", limit=2, offset=1)
    assert [r["granaries"] for r in rows] == [4, 3]
    pages = [get(client, tokens["province"], "/depots", limit=3, offset=o)[0] for o in (0, 3, 6)]
    assert [r["depot"] for p in pages for r in p] == sorted(codes["a"] + codes["b"])
    rows, total = get(client, tokens["province"], "/depots", limit=3, offset=100)
    assert rows == [] and total == 8  # past the end: still the total


def test_depots_filters(world):
    client, t, codes, tokens = world
    p = tokens["province"]
    assert get(client, p, "/depots", q=f"lsb{t}".lower())[1] == 3  # code, any case
    assert [r["depot"] for r in get(client, p, "/depots", state="offline")[0]] == [codes["a"][4]]
    assert get(client, p, "/depots", state="online")[1] == 7
    assert get(client, p, "/depots", region="820200")[1] == 3
    assert sorted(r["depot"] for r in get(client, p, "/depots", alarmed="true")[0]) == sorted(
        [codes["a"][0], codes["a"][1], codes["b"][0]])
    assert get(client, p, "/depots", q="%")[1] == 0  # a literal %, not a wildcard


def test_a_city_users_total_counts_only_their_city(world):
    client, t, codes, tokens = world
    rows, total = get(client, tokens["city_a"], "/depots", limit=2, q=t)
    assert total == 5 and len(rows) == 2
    assert get(client, tokens["city_a"], "/depots", region="820200")[1] == 0  # not theirs
    admin_total = get(client, tokens["admin"], "/depots", q=t)[1]
    assert admin_total == 8


@pytest.mark.parametrize("params, field", [
    ({"sort": "password"}, "password"), ({"sort": "-"}, "sort"),
    ({"limit": MAX_LIMIT + 1}, "limit"), ({"limit": 0}, "limit"), ({"offset": -1}, "offset"),
    ({"state": "asleep"}, "state"), ({"region": "43"}, "region"),
])
def test_bad_depot_parameters_are_422_naming_them(world, params, field):
    client, _t, _codes, tokens = world
    r = client.get("/api/v1/depots", params=params, headers=bearer(tokens["province"]))
    assert r.status_code == 422
    assert field in r.text


# --- alarms ----------------------------------------------------------------------------------

def test_alarms_page_sort_filter_and_total(world):
    client, t, codes, tokens = world
    p = tokens["province"]
    rows, total = get(client, p, "/alarms", state="open", q=t)
    assert total == len(rows) == 7  # what it was: every open one, newest change first
    assert [r["updated_at"] for r in rows] == sorted((r["updated_at"] for r in rows), reverse=True)
    rows, total = get(client, p, "/alarms", state="active", q=t, sort="-severity", limit=3)
    assert total == 6 and [r["severity"] for r in rows] == ["alarm"] * 3
    rows, total = get(client, p, "/alarms", state="open", q=t, sort="severity", limit=2, offset=1)
    assert total == 7 and [r["severity"] for r in rows] == ["warning"] * 2
    assert get(client, p, "/alarms", state="acknowledged", q=t)[1] == 1
    assert get(client, p, "/alarms", state="open", q=t, severity="alarm")[1] == 3
    assert get(client, p, "/alarms", state="open", depot=codes["b"][0])[1] == 2
    ids = [r["id"] for r in get(client, p, "/alarms", state="open", q=t, sort="id")[0]]
    assert ids == sorted(ids)


def test_alarm_totals_follow_the_callers_scope(world):
    client, t, codes, tokens = world
    rows, total = get(client, tokens["city_a"], "/alarms", state="open", q=t, limit=1)
    assert total == 5 and len(rows) == 1
    assert get(client, tokens["admin"], "/alarms", state="open", q=t)[1] == 7


@pytest.mark.parametrize("params, field", [
    ({"sort": "message"}, "message"), ({"limit": 10001}, "limit"), ({"offset": -5}, "offset"),
    ({"severity": "doom"}, "severity"),
])
def test_bad_alarm_parameters_are_422_naming_them(world, params, field):
    client, _t, _codes, tokens = world
    r = client.get("/api/v1/alarms", params=params, headers=bearer(tokens["province"]))
    assert r.status_code == 422 and field in r.text


# --- the overview's figures ------------------------------------------------------------------

def test_overview_counts_in_the_database_within_scope_and_region(world):
    client, _t, _codes, tokens = world
    r = client.get("/api/v1/overview", headers=bearer(tokens["province"]))
    assert r.status_code == 200, r.text
    body = r.json()
    # the province's depots are this module's only (see CITY_A/CITY_B): one level below it
    assert body["depots"] == 8
    assert body["by_state"] == {"online": 7, "offline": 1, "unknown": 0}
    assert body["open_alarms"] == {"alarm": 3, "warning": 4}
    # regions count open alarms as `open_alarms` does: city A's acknowledged one included
    assert {x["region"]: (x["depots"], x["offline"], x["alarms"]) for x in body["regions"]} == {
        "820100": (5, 1, 5), "820200": (3, 0, 2)}
    assert sum(x["alarms"] for x in body["regions"]) == sum(body["open_alarms"].values())
    city = client.get("/api/v1/overview", headers=bearer(tokens["city_a"])).json()
    assert city["depots"] == 5 and city["open_alarms"] == {"alarm": 2, "warning": 3}
    assert [x["region"] for x in city["regions"]] == ["820102"]  # its counties
    inside = client.get("/api/v1/overview", params={"region": "820200"},
                        headers=bearer(tokens["province"])).json()
    assert inside["depots"] == 3 and [x["region"] for x in inside["regions"]] == ["820201"]
    bad = client.get("/api/v1/overview", params={"region": "82"}, headers=bearer(tokens["province"]))
    assert bad.status_code == 422

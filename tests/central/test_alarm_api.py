"""The alarms API (contracts/api.md): scoped list and filters, ack, actions; 401/403/404/409/422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from central.alarms.state import store
from central.db.pool import connect
from central.rules.model import Finding
from central.wiring import build_app
from tests.central.api_support import bearer, insert_depot, migrated_settings, new_user, tag

A_REGION = {"province": "430000", "city": "430100", "county": "430102"}
B_REGION = {"province": "440000", "city": "440100", "county": "440103"}
FIELDS = {"id", "depot", "granary", "rule", "subject", "severity", "state", "value", "threshold",
          "message", "opened_at", "updated_at", "acknowledged_at", "acknowledged_by", "cleared_at"}


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    t = tag()
    a, b = f"ALA{t}", f"ALB{t}"
    now = datetime.now(UTC)
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, a, A_REGION, {"P01": [(1, 1, 1, 4)]})
        insert_depot(conn, b, B_REGION, {"P01": [(1, 1, 1, 4)]})
        ids = {}
        ids["a_hot"] = store.raise_or_update(conn, a, "P01", Finding(
            "hotspot", "P01/C1/L2", "alarm", 5.5, 5.0, "hot", "P01"), now)[1]["id"]
        ids["a_mean"] = store.raise_or_update(conn, a, "P01", Finding(
            "grain_temp_mean_high", "P01", "alarm", 21.0, 20.0, "warm", "P01"), now)[1]["id"]
        ids["b_hot"] = store.raise_or_update(conn, b, "P01", Finding(
            "hotspot", "P01/C1/L1", "warning", 3.5, 3.0, "hot", "P01"), now)[1]["id"]
        old = store.raise_or_update(conn, a, "P01", Finding(
            "sensor_fault", "P01/C1/L4", "warning", None, None, "fault", "P01"),
            now - timedelta(days=2))[1]["id"]
        store.condition_false(conn, a, "sensor_fault", "P01/C1/L4", now - timedelta(days=2), 0)
        ids["a_cleared"] = old
    app = build_app(settings)
    tokens = {
        "admin": new_user(database_url, "admin", "000000"),
        "prov_a": new_user(database_url, "province", "430000"),
        "viewer_a": new_user(database_url, "province", "430000", can_write=False),
        "depot_b": new_user(database_url, "depot", b),
    }
    with TestClient(app) as client:
        yield client, {"a": a, "b": b}, ids, tokens


def get(client, token, **params):
    r = client.get("/api/v1/alarms", params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_list_is_scoped_to_the_callers_depots(world):
    client, depots, ids, tokens = world
    mine = set(ids.values())
    seen_a = {x["id"] for x in get(client, tokens["prov_a"])} & mine
    assert seen_a == {ids["a_hot"], ids["a_mean"], ids["a_cleared"]}
    seen_b = {x["id"] for x in get(client, tokens["depot_b"])} & mine
    assert seen_b == {ids["b_hot"]}
    assert {x["id"] for x in get(client, tokens["admin"])} & mine == mine
    one = next(x for x in get(client, tokens["prov_a"]) if x["id"] == ids["a_hot"])
    assert set(one) >= FIELDS
    assert one["opened_at"].endswith("Z") and one["severity"] == "alarm"
    # asking for another region's depot by name gives nothing, not an error
    assert get(client, tokens["prov_a"], depot=depots["b"]) == []


def test_filters_state_rule_depot_since(world):
    client, depots, ids, tokens = world
    t = tokens["admin"]
    open_ids = {x["id"] for x in get(client, t, state="open", depot=depots["a"])}
    assert open_ids == {ids["a_hot"], ids["a_mean"]}
    assert {x["id"] for x in get(client, t, state="cleared", depot=depots["a"])} == {ids["a_cleared"]}
    assert {x["id"] for x in get(client, t, rule="hotspot", depot=depots["a"])} == {ids["a_hot"]}
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids["a_cleared"] not in {x["id"] for x in get(client, t, since=since, depot=depots["a"])}
    bad = client.get("/api/v1/alarms", params={"state": "burning"}, headers=bearer(t))
    assert bad.status_code == 422


def test_auth_errors(world):
    client, _depots, ids, tokens = world
    assert client.get("/api/v1/alarms").status_code == 401
    assert client.get("/api/v1/alarms", headers=bearer("glk_nope")).status_code == 401
    r = client.post(f"/api/v1/alarms/{ids['a_mean']}/ack", json={"note": "x"},
                    headers=bearer(tokens["viewer_a"]))
    assert r.status_code == 403
    # out of scope looks like absent
    r = client.post(f"/api/v1/alarms/{ids['b_hot']}/ack", json={"note": "x"},
                    headers=bearer(tokens["prov_a"]))
    assert r.status_code == 404
    r = client.post("/api/v1/alarms/999999999/ack", json={}, headers=bearer(tokens["admin"]))
    assert r.status_code == 404
    assert client.get(f"/api/v1/alarms/{ids['b_hot']}", headers=bearer(tokens["prov_a"])).status_code == 404


def test_ack_and_actions(world):
    client, _depots, ids, tokens = world
    h = bearer(tokens["prov_a"])
    r = client.post(f"/api/v1/alarms/{ids['a_hot']}/ack", json={"note": "checking cable 1"}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"].startswith("t-province-")
    assert body["acknowledged_at"].endswith("Z")
    url = f"/api/v1/alarms/{ids['a_hot']}/actions"
    r = client.post(url, json={"kind": "plan", "text": "turn the grain"}, headers=h)
    assert r.status_code == 200, r.text
    # four eyes: who wrote the plan may not approve it, on the API as on the page
    mine = client.post(url, json={"kind": "approve", "text": "approved"}, headers=h)
    assert mine.status_code == 403 and "不能由本人审批" in mine.json()["detail"]
    assert [a["kind"] for a in client.get(f"/api/v1/alarms/{ids['a_hot']}", headers=h)
            .json()["actions"]] == ["plan"]  # nothing recorded
    for kind, text, who in (("approve", "approved", tokens["admin"]), ("execute", "done", h),
                            ("result", "Δ down to 1 °C", h)):
        r = client.post(url, json={"kind": kind, "text": text},
                        headers=bearer(who) if isinstance(who, str) else who)
        assert r.status_code == 200, r.text
    acts = r.json()["actions"]
    assert [a["kind"] for a in acts] == ["plan", "approve", "execute", "result"]
    assert acts[-1]["text"] == "Δ down to 1 °C" and acts[0]["by"] == body["acknowledged_by"]
    assert acts[1]["by"] != acts[0]["by"]
    assert acts[0]["at"].endswith("Z")
    bad = client.post(f"/api/v1/alarms/{ids['a_hot']}/actions", json={"kind": "pray", "text": "x"},
                      headers=h)
    assert bad.status_code == 422
    empty = client.post(f"/api/v1/alarms/{ids['a_hot']}/actions", json={"kind": "plan", "text": ""},
                        headers=h)
    assert empty.status_code == 422
    cleared = client.post(f"/api/v1/alarms/{ids['a_cleared']}/ack", json={}, headers=h)
    assert cleared.status_code == 409
    detail = client.get(f"/api/v1/alarms/{ids['a_hot']}", headers=h).json()
    assert [x["change"] for x in detail["history"]][:2] == ["opened", "acknowledged"]

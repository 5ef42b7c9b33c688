"""Thresholds as settings: defaults, depot and granary overrides through the API (write users
only, every change recorded), and the evaluation using them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from central.alarms.evaluate.ingest_hook import evaluate_telemetry
from central.db.pool import connect
from central.wiring import build_app
from protocols.mqtt.models import Telemetry
from tests.central.api_support import bearer, insert_depot, migrated_settings, new_user, tag

REGION = {"province": "430000", "city": "430100", "county": "430102"}


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    depot, other = f"TH{tag()}", f"TO{tag()}"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, depot, REGION, {"P01": [(c, 1, c, 4) for c in (1, 2, 3)]})
        insert_depot(conn, other, {"province": "440000", "city": "440100", "county": "440103"},
                     {"P01": [(1, 1, 1, 4)]})
        conn.execute("UPDATE granaries SET storage_mode = 'quasi_low' WHERE depot = %s", (depot,))
    tokens = {"writer": new_user(database_url, "city", "430100"),
              "approver": new_user(database_url, "city", "430100"),
              "viewer": new_user(database_url, "city", "430100", can_write=False)}
    with TestClient(build_app(settings)) as client:
        yield client, depot, other, tokens, database_url


def test_defaults_then_overrides_with_history(world):
    client, depot, _other, tokens, _url = world
    w = bearer(tokens["writer"])
    r = client.get(f"/api/v1/depots/{depot}/thresholds", headers=w)
    assert r.status_code == 200
    eff = r.json()["effective"]
    assert eff["hotspot_warning_delta_c"] == 3.0 and eff["indoor_rh_max_pct"] == 75.0
    assert eff["grain_temp_max_c"] == {"low": 20.0, "quasi_low": 25.0, "normal": 30.0}
    assert r.json()["overrides"] == {}

    r = client.put(f"/api/v1/depots/{depot}/thresholds", json={"hotspot_warning_delta_c": 2.5}, headers=w)
    assert r.status_code == 200, r.text
    r = client.put(f"/api/v1/depots/{depot}/granaries/P01/thresholds",
                   json={"grain_temp_max_c": {"quasi_low": 22}, "storage_zone": 7}, headers=w)
    # zone 7's 2 °C condensation margin is smaller than the 3 °C one: a loosening, four eyes
    assert r.status_code == 202 and r.json()["state"] == "pending", r.text
    r = client.post(f"/api/v1/approvals/{r.json()['approval']}/approve", json={},
                    headers=bearer(tokens["approver"]))
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text
    r = client.get(f"/api/v1/depots/{depot}/granaries/P01/thresholds", headers=w)
    body = r.json()
    assert body["effective"]["hotspot_warning_delta_c"] == 2.5  # from the depot
    assert body["effective"]["grain_temp_max_c"]["quasi_low"] == 22.0
    assert body["effective"]["grain_temp_max_c"]["low"] == 20.0  # merged key by key
    assert body["changes"][0]["old"] == {} and body["changes"][0]["new"]["storage_zone"] == 7
    assert body["changes"][0]["by"].startswith("t-city-") and body["changes"][0]["at"].endswith("Z")


def test_bad_values_name_the_setting(world):
    client, depot, _other, tokens, _url = world
    w = bearer(tokens["writer"])
    r = client.put(f"/api/v1/depots/{depot}/thresholds", json={"hotspot_delta": 1}, headers=w)
    assert r.status_code == 422 and "hotspot_delta" in r.json()["detail"]
    r = client.put(f"/api/v1/depots/{depot}/thresholds", json={"indoor_rh_max_pct": 150}, headers=w)
    assert r.status_code == 422 and "indoor_rh_max_pct" in r.json()["detail"]
    r = client.put(f"/api/v1/depots/{depot}/thresholds", json={"safety_class": "risky"}, headers=w)
    assert r.status_code == 422 and "safety_class" in r.json()["detail"]


def test_permissions(world):
    client, depot, other, tokens, _url = world
    assert client.get(f"/api/v1/depots/{depot}/thresholds").status_code == 401
    r = client.put(f"/api/v1/depots/{depot}/thresholds", json={}, headers=bearer(tokens["viewer"]))
    assert r.status_code == 403
    assert client.get(f"/api/v1/depots/{depot}/thresholds", headers=bearer(tokens["viewer"])).status_code == 200
    r = client.put(f"/api/v1/depots/{other}/thresholds", json={}, headers=bearer(tokens["writer"]))
    assert r.status_code == 404
    r = client.get(f"/api/v1/depots/{depot}/granaries/NOPE/thresholds", headers=bearer(tokens["writer"]))
    assert r.status_code == 404


def test_evaluation_uses_the_granary_thresholds(world):
    _client, depot, _other, _tokens, url = world
    ts = "2026-11-22T08:00:00Z"
    msg = Telemetry.model_validate({
        "schema": "grainlink.telemetry/1", "depot": depot, "batch": 1, "sent_at": ts, "air": [],
        "grain": [{"ts": ts, "granary": "P01", "cable": c, "temps_c": temps, "faults": []}
                  for c, temps in ((1, [15.0, 15.0, 15.0, 15.0]), (2, [17.6, 15.0, 15.0, 15.0]),
                                   (3, [15.0, 15.0, 15.0, 22.5]))]})
    with connect(url) as conn, conn.transaction():
        evaluate_telemetry(conn, depot, msg, datetime.now(UTC))
        rows = conn.execute("SELECT rule, subject, severity, threshold FROM alarms WHERE depot = %s "
                            "ORDER BY rule, subject", (depot,)).fetchall()
    # 22.5 °C > the granary's 22 °C quasi-low limit; 2.6 °C over its layer ≥ the depot's 2.5
    assert rows == [("grain_temp_high", "P01", "alarm", 22.0),
                    ("hotspot", "P01/C2/L1", "warning", 2.5),
                    ("hotspot", "P01/C3/L4", "alarm", 5.0)]

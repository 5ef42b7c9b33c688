"""Insect inspections through the API (grade, deadline), a missed deadline raising
insect_treatment_overdue, treatment clearing it; and the advice in the `latest` answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from central.alarms.scheduled import jobs
from central.alarms.state import thresholds_store
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

REGION = {"province": "430000", "city": "430100", "county": "430102"}


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    depot = f"IN{tag()}"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, depot, REGION, {g: [(1, 1, 1, 4), (2, 1, 2, 4)] for g in ("P01", "P02", "P03")})
        conn.execute("UPDATE granaries SET grain = 'wheat' WHERE depot = %s", (depot,))
        thresholds_store.set_overrides(conn, depot, "", {"clear_hysteresis_min": 0}, "test")
    tokens = {"writer": new_user(database_url, "depot", depot),
              "viewer": new_user(database_url, "depot", depot, can_write=False)}
    with TestClient(build_app(settings)) as client:
        yield client, depot, tokens, database_url


def post(client, depot, granary, token, **body):
    return client.post(f"/api/v1/depots/{depot}/granaries/{granary}/inspections", json=body,
                       headers=bearer(token))


@pytest.mark.parametrize(("counts", "quarantine", "temp", "grade", "days"), [
    ((5, 2), False, 20.0, "basically_free", None),
    ((6, 2), False, 20.0, "ordinary", 15),
    ((5, 3), False, 15.0, "ordinary", 15),
    ((6, 2), False, 14.9, "ordinary", None),       # cool grain: no deadline
    ((30, 10), False, 20.0, "ordinary", 15),
    ((31, 0), False, 20.0, "serious", 7),
    ((11, 11), False, 20.0, "serious", 7),
    ((0, 0), True, 10.0, "dangerous", 3),
])
def test_grade_and_deadline(world, counts, quarantine, temp, grade, days):
    client, depot, tokens, _url = world
    r = post(client, depot, "P01", tokens["writer"], date="2026-11-01", pests_per_kg=counts[0],
             major_per_kg=counts[1], quarantine_found=quarantine, species=["Sitophilus oryzae"],
             grain_temp_c=temp)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["grade"] == grade and body["species"] == ["Sitophilus oryzae"]
    expected = None if days is None else (date(2026, 11, 1) + timedelta(days=days)).isoformat()
    assert body["deadline"] == expected


def test_bad_inspections(world):
    client, depot, tokens, _url = world
    assert post(client, depot, "P01", tokens["viewer"], date="2026-11-01", pests_per_kg=1,
                major_per_kg=0).status_code == 403
    r = post(client, depot, "P01", tokens["writer"], date="2026-11-01", pests_per_kg=-1, major_per_kg=0)
    assert r.status_code == 422 and "pests_per_kg" in r.text
    r = post(client, depot, "P01", tokens["writer"], date="2026-11-01", pests_per_kg=1, major_per_kg=2)
    assert r.status_code == 422 and "major_per_kg" in r.text
    assert post(client, depot, "NOPE", tokens["writer"], date="2026-11-01", pests_per_kg=1,
                major_per_kg=0).status_code == 404


def test_missed_deadline_raises_overdue_until_treated(world):
    client, depot, tokens, url = world
    today = datetime.now(UTC).date()
    r = post(client, depot, "P02", tokens["writer"], date=(today - timedelta(days=8)).isoformat(),
             pests_per_kg=40, major_per_kg=12, grain_temp_c=18)
    assert r.json()["deadline"] == (today - timedelta(days=1)).isoformat()
    ok = post(client, depot, "P03", tokens["writer"], date=(today - timedelta(days=6)).isoformat(),
              pests_per_kg=40, major_per_kg=12, grain_temp_c=18)  # due tomorrow
    assert ok.status_code == 201
    with connect(url, autocommit=True) as conn:
        jobs.time_rules_job(conn, only={depot})
        rows = conn.execute("SELECT rule, subject, state FROM alarms WHERE depot = %s"
                                " AND granary <> 'P01'", (depot,)).fetchall()  # P01: see above
        assert rows == [("insect_treatment_overdue", "P02", "active")]
        t = client.post(f"/api/v1/depots/{depot}/granaries/P02/inspections/{r.json()['id']}/treated",
                        json={"date": today.isoformat()}, headers=bearer(tokens["writer"]))
        assert t.status_code == 200 and t.json()["treated_on"] == today.isoformat()
        jobs.time_rules_job(conn, only={depot})
        rows = conn.execute("SELECT rule, subject, state FROM alarms WHERE depot = %s "
                            "AND granary <> 'P01'", (depot,)).fetchall()
        assert rows == [("insect_treatment_overdue", "P02", "cleared")]


def test_latest_carries_ventilation_advice_and_emc(world):
    client, depot, tokens, url = world
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    with connect(url, autocommit=True) as conn:
        insert_scan(conn, depot, "P01", 1, at, [22.0, 21.0, 20.0, 19.0])
        insert_scan(conn, depot, "P01", 2, at, [22.0, 21.0, 20.0, 19.0])
        insert_air(conn, depot, "P01", "indoor", at, 20.0, 65.0)
        insert_air(conn, depot, "", "outdoor", at, 10.0, 50.0)  # dew point ~0 °C
    r = client.get(f"/api/v1/depots/{depot}/granaries/P01/latest", headers=bearer(tokens["viewer"]))
    assert r.status_code == 200, r.text
    advice = {a["kind"]: a for a in r.json()["advice"]}
    assert advice["cooling_ventilation"]["action"] == "start"  # mean 20.5 - 10 ≥ 8
    emc = advice["equilibrium_moisture"]
    assert emc["grain"] == "wheat" and emc["emc_db_pct"] == pytest.approx(16.3, abs=0.05)
    assert emc["emc_wb_pct"] == pytest.approx(16.3 / 116.3 * 100, abs=0.05)

"""Threshold changes under four eyes (domain.md §10): tightening applies at once, loosening
waits for a different supervisor, and nothing is looser than the province's floor. Against
the session's PostgreSQL, in a province of its own so its floor binds no other test's depot."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from central.alarms.state import thresholds_store
from central.db.pool import connect
from central.rules.thresholds import (
    LABELS,
    LOOSER_WHEN,
    NEUTRAL,
    Thresholds,
    floor_breaches,
    loosened,
    resolve_thresholds,
)
from central.wiring import build_app, ingest_hooks
from protocols.mqtt import topics
from tests.central.api_support import bearer, insert_depot, migrated_settings, tag
from tests.reserve.conftest import new_user

PROVINCE = "540000"


# -- the pure rule -------------------------------------------------------------------------

def _th(**kw) -> Thresholds:
    return resolve_thresholds(kw)  # merged over the defaults, as stored overrides are


def test_every_setting_has_a_direction():
    classified = set(LOOSER_WHEN) | NEUTRAL | {"safety_class", "storage_zone"}
    assert classified == set(Thresholds.model_fields)
    assert set(LOOSER_WHEN) | {"safety_class", "storage_zone"} <= set(LABELS)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ({}, {"grain_temp_max_c": {"low": 21}}, ["grain_temp_max_c.low"]),
    ({}, {"grain_temp_max_c": {"low": 19}}, []),
    ({}, {"hotspot_alarm_delta_c": 6}, ["hotspot_alarm_delta_c"]),
    ({}, {"indoor_rh_hold_min": 240}, ["indoor_rh_hold_min"]),
    ({}, {"condensation_margin_c": 2}, ["condensation_margin_c"]),
    ({}, {"condensation_margin_c": 4}, []),
    ({}, {"clear_hysteresis_min": 10}, ["clear_hysteresis_min"]),
    ({}, {"grain_valid_min_c": -50, "grain_valid_max_c": 80}, ["grain_valid_min_c"]),
    ({}, {"check_interval_days": {"warm": {"safe": 12}}}, ["check_interval_days.warm.safe"]),
    ({}, {"new_grain_months": 1}, ["new_grain_months"]),
    ({"safety_class": "semi_safe"}, {"safety_class": "safe"}, ["safety_class"]),
    ({"safety_class": "safe"}, {"safety_class": "dangerous"}, []),
    ({}, {"storage_zone": 7}, ["storage_zone"]),        # its 2 °C margin is below the 3 °C one
    ({}, {"vent_start_delta_c": 12}, []),               # advice, not an alarm
])
def test_loosened_per_setting(old, new, expected):
    assert loosened(_th(**old), _th(**new)) == expected


def test_floor_binds_only_what_the_province_set():
    floor = {"grain_temp_max_c": {"low": 18}, "hotspot_alarm_delta_c": 4}
    th = _th(grain_temp_max_c={"low": 19, "normal": 35}, hotspot_alarm_delta_c=4, indoor_rh_max_pct=90)
    assert floor_breaches(floor, th) == [("grain_temp_max_c.low", 18)]
    assert floor_breaches({}, th) == []


# -- the API ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def w(database_url):
    settings = migrated_settings(database_url)
    t = tag()
    a, b = f"THA{t}", f"THB{t}"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, a, {"province": PROVINCE, "city": "540100", "county": "540102"},
                     {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
        insert_depot(conn, b, {"province": PROVINCE, "city": "540200", "county": "540202"},
                     {"P01": [(1, 1, 1, 4)]})
    users = {"sup": ("supervisor", "540100"), "sup2": ("supervisor", "540100"),
             "sup_b": ("supervisor", "540200"), "prov": ("supervisor", PROVINCE),
             "prov2": ("supervisor", PROVINCE), "keeper": ("keeper", a), "manager": ("manager", a)}
    names = {k: new_user(database_url, role, scope) for k, (role, scope) in users.items()}
    with TestClient(build_app(settings)) as client:
        yield SimpleNamespace(client=client, a=a, b=b, url=database_url,
                              **{k: bearer(v) for k, v in names.items()})
    with connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM region_thresholds WHERE region = %s", (PROVINCE,))


def _put(w, path, body, who):
    return w.client.put(f"/api/v1{path}", json=body, headers=getattr(w, who))


def _get(w, path, who="sup"):
    r = w.client.get(f"/api/v1{path}", headers=getattr(w, who))
    assert r.status_code == 200, r.text
    return r.json()


def _decide(w, approval, who, verb="approve"):
    return w.client.post(f"/api/v1/approvals/{approval}/{verb}", json={}, headers=getattr(w, who))


def _approvals_of(w, depot) -> int:
    with connect(w.url) as conn:
        return conn.execute("SELECT count(*) FROM approvals WHERE depot = %s", (depot,)).fetchone()[0]


def test_tighten_applies_at_once(w):
    r = _put(w, f"/depots/{w.a}/thresholds", {"hotspot_warning_delta_c": 2.5}, "keeper")
    assert r.status_code == 200, r.text
    assert r.json()["effective"]["hotspot_warning_delta_c"] == 2.5
    assert r.json()["changes"][0]["new"] == {"hotspot_warning_delta_c": 2.5}


def test_loosen_waits_for_a_second_supervisor(w):
    path = f"/depots/{w.a}/granaries/P02/thresholds"
    r = _put(w, path, {"hotspot_alarm_delta_c": 7}, "sup")
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "pending"
    approval = r.json()["approval"]
    assert _get(w, path)["effective"]["hotspot_alarm_delta_c"] == 5.0   # not yet

    assert _decide(w, approval, "sup").status_code == 403               # the requester
    r = _decide(w, approval, "manager")                                 # not entitled
    assert r.status_code == 403 and "supervisor" in r.json()["detail"]
    assert _decide(w, approval, "sup_b").status_code == 404             # another city
    r = _decide(w, approval, "sup2")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved"
    body = _get(w, path)
    assert body["effective"]["hotspot_alarm_delta_c"] == 7.0
    assert body["changes"][0]["by"].startswith("r-supervisor-")
    assert _decide(w, approval, "prov").status_code == 409              # decided once


def test_rejected_loosening_changes_nothing(w):
    r = _put(w, f"/depots/{w.b}/thresholds", {"indoor_rh_max_pct": 85}, "sup_b")
    assert r.status_code == 202, r.text
    assert _decide(w, r.json()["approval"], "prov", "reject").json()["state"] == "rejected"
    assert _get(w, f"/depots/{w.b}/thresholds", "sup_b")["effective"]["indoor_rh_max_pct"] == 75.0


def test_province_floor(w):
    # a loosening asked before the floor: the floor is checked again when it is approved
    early = _put(w, f"/depots/{w.a}/granaries/P01/thresholds", {"grain_temp_max_c": {"low": 24}}, "sup")
    assert early.status_code == 202, early.text

    r = _put(w, f"/regions/{PROVINCE}/thresholds", {"grain_temp_max_c": {"low": 18}}, "prov")
    assert r.status_code == 200, r.text                                 # a new floor only binds
    assert r.json()["settings"] == {"grain_temp_max_c": {"low": 18}}
    # the depots of the province follow it at once
    assert _get(w, f"/depots/{w.b}/thresholds", "sup_b")["effective"]["grain_temp_max_c"]["low"] == 18.0
    body = _get(w, f"/depots/{w.a}/granaries/P01/thresholds")
    assert body["effective"]["grain_temp_max_c"]["low"] == 18.0
    assert body["floor"] == {"province": PROVINCE, "settings": {"grain_temp_max_c": {"low": 18}}}

    late = f"THC{tag()}"                                                # registered after the floor
    with connect(w.url, autocommit=True) as conn:
        insert_depot(conn, late, {"province": PROVINCE, "city": "540100", "county": "540102"},
                     {"P01": [(1, 1, 1, 4)]})
        assert thresholds_store.thresholds_for(conn, late).grain_temp_max_c["low"] == 20.0
        # what ingest runs with the depot's layout, as central/wiring.py hands it over
        for hook in ingest_hooks(migrated_settings(w.url)).for_kind(topics.LAYOUT):
            hook(conn, late, None)
        assert thresholds_store.thresholds_for(conn, late).grain_temp_max_c["low"] == 18.0

    before = _approvals_of(w, w.a)
    r = _put(w, f"/depots/{w.a}/thresholds", {"grain_temp_max_c": {"low": 19}}, "sup")
    assert r.status_code == 422
    assert "grain_temp_max_c.low" in r.json()["detail"] and "18" in r.json()["detail"]
    assert "最高粮温上限·低温" in r.json()["detail"] and "不得高于省级底线 18 °C" in r.json()["detail"]
    assert _approvals_of(w, w.a) == before                              # refused before approval
    r = _put(w, f"/depots/{w.a}/granaries/P01/thresholds", {"grain_temp_max_c": {"low": 17}}, "keeper")
    assert r.status_code == 200, r.text

    r = _decide(w, early.json()["approval"], "sup2")
    assert r.status_code == 409 and "grain_temp_max_c.low" in r.json()["detail"]
    assert _get(w, f"/depots/{w.a}/granaries/P01/thresholds")["effective"]["grain_temp_max_c"]["low"] == 17.0


def test_loosening_the_floor_needs_four_eyes(w):
    both = {"grain_temp_max_c": {"low": 18}, "hotspot_alarm_delta_c": 6}
    r = _put(w, f"/regions/{PROVINCE}/thresholds", both, "prov")
    assert r.status_code == 200, r.text                                 # one more floor setting
    r = _put(w, f"/regions/{PROVINCE}/thresholds", {"hotspot_alarm_delta_c": 6}, "prov")
    assert r.status_code == 202, r.text                                 # drops the 18 °C floor
    approval = r.json()["approval"]
    assert _get(w, f"/regions/{PROVINCE}/thresholds", "prov")["settings"] == both
    assert _decide(w, approval, "prov").status_code == 403
    assert _decide(w, approval, "sup2").status_code == 404              # a city sees no province request
    assert _decide(w, approval, "prov2").status_code == 200
    body = _get(w, f"/regions/{PROVINCE}/thresholds", "prov")
    assert body["settings"] == {"hotspot_alarm_delta_c": 6}
    assert body["changes"][0]["old"] == both
    # the floor gone, the depot may loosen again (under four eyes)
    assert _put(w, f"/depots/{w.a}/thresholds", {"grain_temp_max_c": {"low": 19}}, "sup").status_code == 202


def test_out_of_scope_and_bad_input(w):
    assert _put(w, f"/depots/{w.a}/thresholds", {"hotspot_warning_delta_c": 2}, "sup_b").status_code == 404
    assert _put(w, f"/regions/{PROVINCE}/thresholds", {}, "sup").status_code == 404    # a city
    assert _put(w, "/regions/430000/thresholds", {}, "prov").status_code == 404
    assert _put(w, f"/regions/{PROVINCE}/thresholds", {}, "keeper").status_code == 404
    r = _put(w, "/regions/540100/thresholds", {}, "prov")
    assert r.status_code == 422 and "province" in r.json()["detail"]
    r = _put(w, f"/regions/{PROVINCE}/thresholds", {"hotspot_alarm_delta_c": 99}, "prov")
    assert r.status_code == 422 and "hotspot_alarm_delta_c" in r.json()["detail"]
    r = _put(w, f"/depots/{w.a}/thresholds", {"hotspot_alarm_delta_c": "hot"}, "sup")
    assert r.status_code == 422 and "hotspot_alarm_delta_c" in r.json()["detail"]

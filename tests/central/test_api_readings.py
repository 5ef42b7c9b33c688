"""`latest` and `history` against rows in a real PostgreSQL, and the API's error answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import mean

import pytest
from fastapi.testclient import TestClient

from central.api.schemas import DepotSummary, GranaryHistory, GranaryLatest
from central.db.pool import connect
from central.db.storage import refresh_aggregates
from central.wiring import ADVISORS, build_app
from tests.central.api_support import (
    bearer,
    insert_air,
    insert_depot,
    insert_scan,
    migrated_settings,
    new_user,
    tag,
)

T1 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
T0 = T1 - timedelta(hours=1)
H0 = datetime(2026, 11, 17, 0, 0, tzinfo=UTC)  # history: 3 days of half-hourly scans
HOURS = 72
SHANGHAI = timedelta(hours=8)


def _history_temp(cable: int, layer: int, ts: datetime) -> float:
    minutes = (ts - H0).total_seconds() / 60
    return round(10 + cable + 5 * layer + minutes / 100, 2)


def _history_stamps() -> list[datetime]:
    return [H0 + timedelta(minutes=30 * i) for i in range(HOURS * 2)]


@pytest.fixture(scope="module")
def api(database_url):
    settings = migrated_settings(database_url)
    depot = f"READ{tag()}"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, depot, {"province": "430000", "city": "430100", "county": "430102"},
                     {"P01": [(1, 1, 1, 4), (2, 1, 2, 4), (3, 2, 1, 3), (4, 2, 2, 2)],
                      "P02": [(1, 1, 1, 2), (2, 1, 2, 2)]})
        insert_scan(conn, depot, "P01", 1, T0, [99.0, 99.0, 99.0, 99.0])
        insert_scan(conn, depot, "P01", 1, T1, [10.0, 11.0, 12.0, 13.0])
        insert_scan(conn, depot, "P01", 2, T1, [14.0, None, 16.0, 17.0], faults=(2,))
        insert_scan(conn, depot, "P01", 3, T1 - timedelta(minutes=2), [20.0, 21.0, None])
        insert_scan(conn, depot, "P01", 4, T0, [None, 30.0])  # no sensor at layer 1
        insert_scan(conn, depot, "P01", 4, T1, [None, 18.0])
        # Readings of a granary the layout has not registered (yet).
        insert_scan(conn, depot, "P09", 5, T1, [11.0, 12.0, 13.0])
        insert_scan(conn, depot, "P09", 2, T0, [9.0, None, 8.0], faults=(2,))
        insert_air(conn, depot, "P01", "indoor", T0, 30.0, 90.0)
        insert_air(conn, depot, "P01", "indoor", T1, 25.0, 60.0)
        insert_air(conn, depot, "", "outdoor", T1, 19.2, 91.0)
        for ts in _history_stamps():
            for cable in (1, 2):
                insert_scan(conn, depot, "P02", cable, ts,
                            [_history_temp(cable, layer, ts) for layer in (1, 2)])
            insert_air(conn, depot, "P02", "indoor", ts, 15.0 + (ts.minute / 30), 60.0)
        insert_scan(conn, depot, "P02", 1, H0 + timedelta(minutes=1), [None, None], faults=(1, 2))
        assert "grain_layer_hourly" in refresh_aggregates(conn)
    app = build_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, depot, bearer(new_user(database_url, "admin", "000000")), app


def test_latest_cables_layers_and_granary_stats(api):
    client, depot, headers, _app = api
    r = client.get(f"/api/v1/depots/{depot}/granaries/P01/latest", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    GranaryLatest.model_validate(body)  # the answer has the documented shape
    assert body["ts"] == "2026-11-20T09:00:00Z"
    assert body["cables"] == [
        {"cable": 1, "row": 1, "col": 1, "ts": "2026-11-20T09:00:00Z",
         "temps_c": [10.0, 11.0, 12.0, 13.0], "faults": [],
         "stats": {"min": 10.0, "max": 13.0, "mean": 11.5}},
        {"cable": 2, "row": 1, "col": 2, "ts": "2026-11-20T09:00:00Z",
         "temps_c": [14.0, None, 16.0, 17.0], "faults": [2],
         "stats": {"min": 14.0, "max": 17.0, "mean": 15.67}},
        {"cable": 3, "row": 2, "col": 1, "ts": "2026-11-20T08:58:00Z",
         "temps_c": [20.0, 21.0, None], "faults": [],
         "stats": {"min": 20.0, "max": 21.0, "mean": 20.5}},
        {"cable": 4, "row": 2, "col": 2, "ts": "2026-11-20T09:00:00Z",
         "temps_c": [None, 18.0], "faults": [],
         "stats": {"min": 18.0, "max": 18.0, "mean": 18.0}},
    ]
    assert body["layers"] == [
        {"layer": 1, "min": 10.0, "max": 20.0, "mean": 14.67},
        {"layer": 2, "min": 11.0, "max": 21.0, "mean": 16.67},
        {"layer": 3, "min": 12.0, "max": 16.0, "mean": 14.0},
        {"layer": 4, "min": 13.0, "max": 17.0, "mean": 15.0},
    ]
    assert body["granary_stats"] == {"min": 10.0, "max": 21.0, "mean": 15.2}
    # Dew points of domain.md §4: Td(25 °C, 60 %) = 16.7, Td(19.2 °C, 91 %) = 17.7.
    assert body["indoor"] == {"temp_c": 25.0, "rh_pct": 60.0, "dew_point_c": 16.7,
                              "ts": "2026-11-20T09:00:00Z"}
    assert body["outdoor"]["dew_point_c"] == 17.7
    assert isinstance(body["advice"], list)  # filled by registered advisors (alarm rules)


def test_latest_of_a_granary_known_only_from_its_readings(api):
    client, depot, headers, _app = api
    body = client.get(f"/api/v1/depots/{depot}/granaries/P09/latest", headers=headers).json()
    assert [(c["cable"], c["row"], c["temps_c"], c["faults"]) for c in body["cables"]] == [
        (2, None, [9.0, None, 8.0], [2]), (5, None, [11.0, 12.0, 13.0], [])]
    raw = client.get(f"/api/v1/depots/{depot}/granaries/P09/history", headers=headers,
                     params={"bucket": "raw", "from": _iso(T0), "to": _iso(T1 + timedelta(1))})
    assert [p["n"] for p in raw.json()["granary_stats"]] == [2, 3]


def test_latest_advice_comes_from_the_advisors_the_app_is_given(api):
    client, depot, headers, _app = api

    def mean_advisor(latest, conn):
        assert conn.execute("SELECT 1").fetchone() == (1,)
        return [{"kind": "test", "grain_mean": latest["granary_stats"]["mean"]}]

    def broken_advisor(latest, conn):
        raise RuntimeError("an advisor bug must not break the endpoint")

    path = f"/api/v1/depots/{depot}/granaries/P01/latest"
    before = client.get(path, headers=headers).json()["advice"]
    assert before  # the production advisors answer for P01
    app = build_app(_app.state.settings, advisors=(*ADVISORS, broken_advisor, mean_advisor))
    with TestClient(app, raise_server_exceptions=False) as own:
        r = own.get(path, headers=headers)
    assert r.status_code == 200
    assert r.json()["advice"] == [*before, {"kind": "test", "grain_mean": 15.2}]


def _expected(bucket_of) -> dict:
    """bucket -> layer -> values, and bucket -> all values, from the generated data."""
    per_layer: dict = {}
    for ts in _history_stamps():
        for cable in (1, 2):
            for layer in (1, 2):
                per_layer.setdefault(bucket_of(ts), {}).setdefault(layer, []).append(
                    _history_temp(cable, layer, ts))
    return per_layer


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("bucket", ["raw", "1h", "1d"])
def test_history_buckets(api, bucket):
    client, depot, headers, _app = api
    start, end = H0, H0 + timedelta(hours=HOURS)
    if bucket == "raw":
        bucket_of = lambda ts: ts  # noqa: E731
    elif bucket == "1h":
        bucket_of = lambda ts: ts.replace(minute=0)  # noqa: E731
    else:  # days start at Asia/Shanghai midnight = 16:00 UTC
        def bucket_of(ts):
            local = ts + SHANGHAI
            return local.replace(hour=0, minute=0) - SHANGHAI
        start = bucket_of(H0)
    expected = _expected(bucket_of)
    r = client.get(f"/api/v1/depots/{depot}/granaries/P02/history", headers=headers,
                   params={"from": _iso(start), "to": _iso(end), "bucket": bucket})
    assert r.status_code == 200, r.text
    body = r.json()
    GranaryHistory.model_validate(body)
    assert body["bucket"] == bucket
    whole = body["granary_stats"]
    assert [p["ts"] for p in whole] == [_iso(b) for b in sorted(expected)]
    for point, b in zip(whole, sorted(expected), strict=True):
        values = expected[b][1] + expected[b][2]
        assert point["min"] == pytest.approx(min(values), abs=0.01)
        assert point["max"] == pytest.approx(max(values), abs=0.01)
        assert point["mean"] == pytest.approx(mean(values), abs=0.01)
        assert point["n"] == len(values)
    assert [s["layer"] for s in body["layers"]] == [1, 2]
    for series in body["layers"]:
        layer = series["layer"]
        for point, b in zip(series["points"], sorted(expected), strict=True):
            assert point["ts"] == _iso(b)
            assert point["mean"] == pytest.approx(mean(expected[b][layer]), abs=0.01)
            assert point["min"] == pytest.approx(min(expected[b][layer]), abs=0.01)
    indoor = body["indoor"]
    assert len(indoor) == len(expected)
    if bucket != "raw":
        assert {p["temp_min"] for p in indoor} == {15.0}
        assert {p["temp_max"] for p in indoor} == {16.0}
        assert {p["rh_mean"] for p in indoor} == {60.0}


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({"from": "2026-11-18T00:00:00Z", "to": "2026-11-17T00:00:00Z"}, 400, "须早于 to"),
        ({"from": "2026-11-17T00:00:00Z", "to": "2026-11-17T00:00:00Z"}, 400, "须早于 to"),
        ({"from": "2026-11-01T00:00:00Z", "to": "2026-11-09T00:00:00Z", "bucket": "raw"}, 400,
         "超过 7 天"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-11-09T00:00:00Z", "bucket": "1h"}, 400,
         "超过 92 天"),
        ({"from": "2026-11-17T00:00:00", "to": "2026-11-18T00:00:00Z"}, 422, "from：须带时区"),
        ({"bucket": "5m"}, 422, "查询参数 bucket：只能是"),
        ({"from": "yesterday"}, 422, "查询参数 from：应为带时区的时间"),
        ({"from": "0001-01-01T00:00:00Z"}, 422, "from：须在 2000 年至 2100 年之间"),
        ({"to": "9999-12-31T23:59:59Z"}, 422, "to：须在 2000 年至 2100 年之间"),
        ({"to": "0001-01-01"}, 422, "to："),
    ],
)
def test_history_rejects_bad_ranges_with_json(api, params, status, needle):
    client, depot, headers, _app = api
    r = client.get(f"/api/v1/depots/{depot}/granaries/P02/history", headers=headers,
                   params=params)
    assert r.status_code == status
    assert needle in str(r.json()["detail"])


def test_history_defaults_to_the_last_week_hourly(api):
    client, depot, headers, _app = api
    r = client.get(f"/api/v1/depots/{depot}/granaries/P02/history", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["bucket"] == "1h"
    span = datetime.fromisoformat(body["to"]) - datetime.fromisoformat(body["from"])
    assert span == timedelta(days=7)


def test_depot_detail_is_layout_plus_state(api):
    client, depot, headers, _app = api
    body = client.get(f"/api/v1/depots/{depot}", headers=headers).json()
    assert body["schema"] == "grainlink.layout/1"
    assert [g["granary"] for g in body["granaries"]] == ["P01", "P02"]
    assert body["state"] == "online" and body["last_seen"]
    listed = {d["depot"]: DepotSummary.model_validate(d).model_dump()
              for d in client.get("/api/v1/depots", headers=headers).json()}
    assert listed[depot]["granaries"] == 2
    assert listed[depot]["active_alarms"] == 0
    assert listed[depot]["region"] == "430102"


def test_depot_detail_names_the_depot_time_zone(api, database_url):
    client, depot, headers, _app = api
    assert client.get(f"/api/v1/depots/{depot}", headers=headers).json()["timezone"] == "Asia/Shanghai"
    with connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE depots SET timezone = 'Asia/Urumqi' WHERE code = %s", (depot,))
        try:
            assert client.get(f"/api/v1/depots/{depot}", headers=headers).json()["timezone"] == "Asia/Urumqi"
        finally:
            conn.execute("UPDATE depots SET timezone = 'Asia/Shanghai' WHERE code = %s", (depot,))


def test_batch_gaps_of_a_depot(api, database_url):
    client, depot, headers, _app = api
    with connect(database_url, autocommit=True) as conn:
        for batch in (1, 2, 4, 7):
            conn.execute("INSERT INTO batches (depot, batch) VALUES (%s, %s)", (depot, batch))
    r = client.get(f"/api/v1/depots/{depot}/gaps", headers=headers)
    assert r.status_code == 200
    assert r.json() == [{"first_missing": 3, "last_missing": 3, "missing": 1},
                        {"first_missing": 5, "last_missing": 6, "missing": 2}]


def test_errors_are_json_never_a_stack_trace(api):
    client, depot, headers, app = api

    @app.get("/api/v1/test-boom")
    def boom():
        raise RuntimeError("secret internals")

    r = client.get("/api/v1/test-boom", headers=headers)
    assert r.status_code == 500
    assert r.json() == {"detail": "服务器内部错误"}
    assert "secret" not in r.text and "Traceback" not in r.text
    r = client.get("/api/v1/no-such-thing", headers=headers)
    assert r.status_code == 404 and "detail" in r.json()
    r = client.post("/api/v1/depots", headers=headers)
    assert r.status_code == 405 and "detail" in r.json()


def test_healthz_metrics_openapi_and_dashboard_place(api):
    client, _depot, _headers, _app = api
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'grainlink_api_requests_total{method="GET",status="200"}' in metrics.text
    spec = client.get("/openapi.json").json()
    assert "/api/v1/depots/{depot}/granaries/{granary}/history" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert "grainlink" in client.get("/").text


def test_healthz_reports_a_missing_database_as_503(database_url):
    settings = migrated_settings(database_url).model_copy(
        update={"database_url": "postgresql://127.0.0.1:1/nothing"})
    with TestClient(build_app(settings)) as client:
        r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["detail"].startswith("数据库不可用")

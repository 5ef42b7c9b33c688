"""Reports: the granary's morning record per day (08:00–10:00 depot time), CSV and HTML,
the lot's ledger; only for users in scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from central.alarms.state.store import add_action, raise_or_update
from central.db.pool import connect
from central.rules.model import Finding
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


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    depot = f"REP{tag()}"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, depot, {"province": "430000", "city": "430100", "county": "430102"},
                     {"P01": [(1, 1, 1, 2), (2, 1, 2, 2)]})
        # Asia/Shanghai is UTC+8: 08:30 local = 00:30Z; 15:00 local = 07:00Z
        for day, (a, b) in {21: ((10.0, 12.0), (11.0, 14.0)), 22: ((10.5, 12.5), (11.5, 14.5))}.items():
            morning = datetime(2026, 11, day, 0, 30, tzinfo=UTC)
            insert_scan(conn, depot, "P01", 1, morning, list(a))
            insert_scan(conn, depot, "P01", 2, morning, list(b))
            insert_scan(conn, depot, "P01", 1, datetime(2026, 11, day, 7, 0, tzinfo=UTC), [30.0, 30.0])
            insert_air(conn, depot, "P01", "indoor", morning, 17.9, 63.5)
            insert_air(conn, depot, "", "outdoor", morning, 11.2, 71.0)
        # 07:00Z is 15:00 at the depot: the report prints the depot's clock
        opened = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
        _, alarm = raise_or_update(conn, depot, "P01", Finding(
            "hotspot", "P01/C1/L2", "alarm", 30.0, 12.0, "1 号电缆第 2 层 30.0 ℃", "P01"), opened)
        add_action(conn, alarm["id"], "plan", "翻倒粮面", "keeper", datetime(2026, 11, 21, 8, 30, tzinfo=UTC))
    with TestClient(build_app(settings)) as client:
        yield client, depot, bearer(new_user(database_url, "city", "430100")), \
            bearer(new_user(database_url, "city", "430200"))


def test_the_morning_record_of_each_day(world):
    client, depot, mine, _ = world
    r = client.get(f"/api/v1/depots/{depot}/granaries/P01/report?from=2026-11-21&days=3", headers=mine)
    assert r.status_code == 200, r.text
    days = r.json()["days_rows"]
    assert [d["day"] for d in days] == ["2026-11-21", "2026-11-22", "2026-11-23"]
    first = days[0]
    assert (first["grain_min"], first["grain_max"]) == (10.0, 14.0)  # the 30 °C afternoon scan is not the record
    assert first["layers"] == [{"layer": 1, "min": 10.0, "max": 11.0, "mean": 10.5},
                               {"layer": 2, "min": 12.0, "max": 14.0, "mean": 13.0}]
    assert (first["indoor_temp_c"], first["indoor_rh_pct"], first["outdoor_temp_c"]) == (17.9, 63.5, 11.2)
    assert days[2]["grain_mean"] is None  # no scan that morning


def test_csv_and_printable_html(world):
    client, depot, mine, _ = world
    base = f"/api/v1/depots/{depot}/granaries/P01/report?from=2026-11-21&days=2"
    text = client.get(base + "&format=csv", headers=mine).text
    lines = text.strip().splitlines()
    assert lines[0].startswith("日期,层,最低粮温 ℃")
    assert "2026-11-22,2,12.5,14.5,13.5,17.9,63.5,11.2,71.0" in lines
    page = client.get(base + "&format=html", headers=mine).text
    assert "粮情报告" in page and "三温两湿" in page
    # the alarm table names rule, severity, state and step in Chinese, at the depot's time
    assert "<td>2026-11-21 15:00</td><td>局部发热</td><td>P01/C1/L2</td><td>报警</td><td>未处理</td>" in page
    assert "2026-11-21 16:30 处置方案 keeper：翻倒粮面" in page
    assert "hotspot" not in page and "07:00" not in page


def test_reports_follow_the_scope(world):
    client, depot, _, other_city = world
    path = f"/api/v1/depots/{depot}/granaries/P01/report?from=2026-11-21"
    assert client.get(path, headers=other_city).status_code == 404
    assert client.get(path).status_code == 401
    assert client.get(path.replace("P01", "P09"), headers=world[2]).status_code == 404


def test_lot_report_holds_the_ledger(world):
    client, depot, mine, other_city = world
    lot = f"L-{tag()}"
    client.post("/api/v1/lots", headers=mine, json={"depot": depot, "granary": "P01", "lot": lot,
                "category": "raw_grain", "variety": "wheat", "card_established": "2026-01"})
    client.post(f"/api/v1/lots/{lot}/movements", headers=mine, json={
        "direction": "in", "date": "2026-01-05", "quantity_t": 100, "moisture_pct": 13,
        "impurity_pct": 1, "voucher": "RK-001", "batch_code": "B-7"})
    text = client.get(f"/api/v1/lots/{lot}/report?format=csv", headers=mine).text
    assert text.startswith("时间,经办人,事项,内容")
    assert "建卡" in text and "品种=小麦" in text and "凭证号=RK-001" in text and "批次=B-7" in text
    assert "方向=入库" in text and "数量（吨）=100" in text
    assert "台账" in client.get(f"/api/v1/lots/{lot}/report?format=html", headers=mine).text
    assert client.get(f"/api/v1/lots/{lot}/report", headers=other_city).status_code == 404

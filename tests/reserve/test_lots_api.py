"""Lots through the API on a real database: the contract's endpoints, the 409 rules, scope,
the worked example settled end to end with its storage-accident alarm, stock alerts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from central.db.pool import connect
from central.lots.alerts import stock_rules_job
from central.wiring import build_app
from tests.central.api_support import bearer, insert_depot, migrated_settings, new_user, tag


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    t = tag()
    codes = {"A": f"LOTS{t}-A", "B": f"LOTS{t}-B"}
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, codes["A"], {"province": "430000", "city": "430100", "county": "430102"},
                     {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
        insert_depot(conn, codes["B"], {"province": "430000", "city": "430200", "county": "430203"},
                     {"P01": [(1, 1, 1, 4)]})
        conn.execute("UPDATE granaries SET capacity_t = 6000 WHERE depot = %s", (codes["A"],))
    with TestClient(build_app(settings)) as client:
        yield {
            "client": client, "codes": codes, "url": database_url, "t": t,
            "city_a": bearer(new_user(database_url, "city", "430100")),
            "city_a2": bearer(new_user(database_url, "city", "430100")),
            "city_b": bearer(new_user(database_url, "city", "430200")),
            "viewer": bearer(new_user(database_url, "province", "430000", can_write=False)),
        }


def new_lot(w, name, depot="A", granary="P01", card="2024-01", category="raw_grain", **extra):
    extra.setdefault("cell", name)        # one lot per place: each test lot has a cell of its own
    body = {"depot": w["codes"][depot], "granary": granary, "lot": f"{name}-{w['t']}",
            "category": category, "variety": "wheat", "harvest_year": 2023,
            "card_established": card, **extra}
    r = w["client"].post("/api/v1/lots", json=body, headers=w["city_a"] if depot == "A" else w["city_b"])
    assert r.status_code == 201, r.text
    return body["lot"]


def move(w, lot, direction, q, moisture, impurity, day="2024-01-10", headers=None):
    return w["client"].post(f"/api/v1/lots/{lot}/movements", headers=headers or w["city_a"], json={
        "direction": direction, "date": day, "quantity_t": q, "moisture_pct": moisture,
        "impurity_pct": impurity, "voucher": f"V-{direction}-{q}"})




@pytest.fixture
def w(world):
    return world


def test_worked_example_end_to_end(w):
    lot = new_lot(w, "EX")
    assert move(w, lot, "in", 3000, 14.0, 1.0).status_code == 201
    assert move(w, lot, "in", 2000, 12.75, 1.0).status_code == 201
    assert move(w, lot, "out", 4000, 12.8, 0.8, "2025-08-01").status_code == 201
    assert move(w, lot, "out", 939.5, 12.8, 0.8, "2025-08-20").status_code == 201
    r = w["client"].post(f"/api/v1/lots/{lot}/settle", json={"cleared_on": "2025-08-20"}, headers=w["city_a"])
    assert r.status_code == 200, r.text
    s = r.json()
    assert s == {
        "lot": lot, "months_stored": 20, "quantity_in_t": 5000.0, "quantity_out_t": 4939.5,
        "moisture_reduction_t": 40.138, "impurity_reduction_t": 10.0, "natural_loss_t": 10.363,
        "natural_loss_rate_pct": 0.2073, "norm_rate_pct": 0.2, "allowed_loss_t": 10.0,
        "over_loss_t": 0.363, "storage_accident": True,
    }
    alarms = w["client"].get(f"/api/v1/alarms?depot={w['codes']['A']}&rule=storage_accident",
                             headers=w["city_a"]).json()
    assert [a["subject"] for a in alarms] == [f"lot:{lot}"]
    assert alarms[0]["granary"] == "P01" and alarms[0]["severity"] == "alarm"
    assert alarms[0]["message"] == (f"货位{lot}自然损耗 10.363 吨（0.2073 %），超过损耗定额 0.2 %，"
                                    "超耗 0.363 吨，按储存事故上报")
    # settled twice → 409; movements after settlement → 409
    again = w["client"].post(f"/api/v1/lots/{lot}/settle", json={"cleared_on": "2025-08-21"}, headers=w["city_a"])
    assert again.status_code == 409
    assert move(w, lot, "in", 1, 12, 1).status_code == 409
    view = w["client"].get(f"/api/v1/lots/{lot}", headers=w["city_a"]).json()
    assert view["balance_t"] == 0 and view["settlement"]["over_loss_t"] == 0.363
    assert len(view["movements"]) == 4


def test_no_over_loss_twin_raises_no_alarm(w):
    lot = new_lot(w, "TWIN")
    move(w, lot, "in", 5000, 13.5, 1.0)
    move(w, lot, "out", 4940, 12.8, 0.8, "2025-08-20")
    s = w["client"].post(f"/api/v1/lots/{lot}/settle", json={"cleared_on": "2025-08-20"},
                         headers=w["city_a"]).json()
    assert s["natural_loss_t"] == 9.863 and s["storage_accident"] is False
    alarms = w["client"].get(f"/api/v1/alarms?rule=storage_accident&depot={w['codes']['A']}",
                             headers=w["city_a"]).json()
    assert f"lot:{lot}" not in [a["subject"] for a in alarms]


def test_balance_never_below_zero_and_settling_with_stock_left_is_409(w):
    lot = new_lot(w, "BAL")
    move(w, lot, "in", 100, 13, 1)
    settle = f"/api/v1/lots/{lot}/settle"
    r = w["client"].post(settle, json={"cleared_on": "2025-01-01"}, headers=w["city_a"])
    assert r.status_code == 409 and "尚无出库记录" in r.json()["detail"]
    r = move(w, lot, "out", 100.001, 13, 1)
    assert r.status_code == 409 and "100.000 t" in r.json()["detail"]
    move(w, lot, "out", 60, 13, 1)
    r = w["client"].post(settle, json={"cleared_on": "2025-01-01"}, headers=w["city_a"])
    assert r.status_code == 409 and "账面仍有库存 40.000 吨" in r.json()["detail"]
    move(w, lot, "out", 39.9, 13, 1)
    r = w["client"].post(settle, json={"cleared_on": "2025-01-01"}, headers=w["city_a"])
    assert r.status_code == 200 and r.json()["natural_loss_t"] == 0.1


def test_corrections_are_new_entries_and_the_ledger_is_append_only(w):
    lot = new_lot(w, "COR")
    first = move(w, lot, "in", 100, 13, 1).json()
    r = w["client"].post(f"/api/v1/lots/{lot}/movements/{first['id']}/correct", headers=w["city_a"], json={
        "date": "2024-01-10", "quantity_t": 90, "moisture_pct": 13, "impurity_pct": 1,
        "voucher": "V-in-100", "reason": "weighbridge slip misread"})
    assert r.status_code == 202 and r.json()["state"] == "pending"
    approval = r.json()["approval"]
    # the requester cannot approve it; a second supervisor of the city can
    own = w["client"].post(f"/api/v1/approvals/{approval}/approve", json={}, headers=w["city_a"])
    assert own.status_code == 403
    assert w["client"].get(f"/api/v1/lots/{lot}", headers=w["city_a"]).json()["balance_t"] == 100
    done = w["client"].post(f"/api/v1/approvals/{approval}/approve", json={"note": "核对磅单"},
                            headers=w["city_a2"])
    assert done.status_code == 200 and done.json()["state"] == "approved"
    assert done.json()["result"]["correction_of"] == first["id"]
    view = w["client"].get(f"/api/v1/lots/{lot}", headers=w["city_a"]).json()
    assert view["balance_t"] == 90
    assert [m["superseded"] for m in view["movements"]] == [True, False]
    ledger = w["client"].get(f"/api/v1/lots/{lot}/ledger", headers=w["city_a"]).json()
    assert [e["action"] for e in ledger] == ["created", "movement", "correction"]
    assert ledger[-1]["detail"]["reason"] == "weighbridge slip misread"
    books = w["client"].get(f"/api/v1/lots/{lot}/ledgers", headers=w["city_a"]).json()
    assert books["custody_t"] == books["statistics_t"] == books["accounting_t"] == 90 and books["agrees"]
    with connect(w["url"]) as conn, pytest.raises(Exception, match="append-only"):
        conn.execute("UPDATE lot_ledger SET action = 'x' WHERE lot = %s", (lot,))


def test_a_lot_keeps_its_granary_unless_an_approved_change_moves_it(w):
    lot = new_lot(w, "MOVE")
    r = w["client"].post(f"/api/v1/lots/{lot}/transfer", json={"granary": "P02", "reason": "倒仓"},
                         headers=w["city_a"])
    assert r.status_code == 202, r.text
    assert w["client"].get(f"/api/v1/lots/{lot}", headers=w["city_a"]).json()["granary"] == "P01"
    approval = r.json()["approval"]
    r = w["client"].post(f"/api/v1/approvals/{approval}/approve", headers=w["city_a2"])
    assert r.status_code == 200, r.text
    assert w["client"].get(f"/api/v1/lots/{lot}", headers=w["city_a"]).json()["granary"] == "P02"
    ledger = w["client"].get(f"/api/v1/lots/{lot}/ledger", headers=w["city_a"]).json()
    assert ledger[-1]["detail"] == {"from": "P01", "to": "P02", "approval_ref": f"approval:{approval}"}


def test_scope_a_city_user_cannot_read_or_settle_another_citys_lot(w):
    lot = new_lot(w, "SCOPE", depot="B")
    for method, path, body in [("get", f"/api/v1/lots/{lot}", None),
                               ("post", f"/api/v1/lots/{lot}/settle", {"cleared_on": "2025-01-01"}),
                               ("post", f"/api/v1/lots/{lot}/movements", {
                                   "direction": "in", "date": "2025-01-01", "quantity_t": 1,
                                   "moisture_pct": 1, "impurity_pct": 1, "voucher": "x"})]:
        r = getattr(w["client"], method)(path, json=body, headers=w["city_a"]) if body else \
            getattr(w["client"], method)(path, headers=w["city_a"])
        assert r.status_code == 404, (path, r.text)
    assert w["client"].get(f"/api/v1/lots/{lot}", headers=w["city_b"]).status_code == 200
    # a read-only viewer of the province reads but cannot write
    assert w["client"].get(f"/api/v1/lots/{lot}", headers=w["viewer"]).status_code == 200
    assert w["client"].post(f"/api/v1/lots/{lot}/settle", json={"cleared_on": "2025-01-01"},
                            headers=w["viewer"]).status_code == 403
    assert w["client"].get(f"/api/v1/lots/{lot}").status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"category": "rice"}, "category"),
    ({"card_established": "2024-13"}, "card_established"),
    ({"lot": "bad lot!"}, "lot"),
])
def test_bad_lot_bodies_name_the_field(w, body, field):
    base = {"depot": w["codes"]["A"], "granary": "P01", "lot": f"X-{tag()}", "category": "raw_grain",
            "variety": "wheat", "card_established": "2024-01"}
    r = w["client"].post("/api/v1/lots", json=base | body, headers=w["city_a"])
    assert r.status_code == 422 and field in r.text


def test_unknown_granary_and_duplicate_lot(w):
    lot = new_lot(w, "DUP")
    base = {"depot": w["codes"]["A"], "granary": "P01", "lot": lot, "category": "raw_grain",
            "variety": "wheat", "card_established": "2024-01"}
    assert w["client"].post("/api/v1/lots", json=base, headers=w["city_a"]).status_code == 409
    r = w["client"].post("/api/v1/lots", json=base | {"lot": f"N-{tag()}", "granary": "P99"}, headers=w["city_a"])
    assert r.status_code == 422 and "P99" in r.json()["detail"]


def test_stock_alerts_plan_shelf_life_and_capacity(w):
    a = w["codes"]["A"]
    lot = new_lot(w, "STOCK", granary="P02", production_date="2026-01-01", shelf_life_days=330)
    r = move(w, lot, "in", 6500, 13, 1, "2026-01-05")
    assert r.status_code == 409 and r.json()["detail"].startswith("over_capacity")
    move(w, lot, "in", 5500, 13, 1, "2026-01-05")
    with connect(w["url"], autocommit=True) as conn:   # the granary's design capacity revised down
        conn.execute("UPDATE granaries SET capacity_t = 5000 WHERE depot = %s AND granary = 'P02'", (a,))
    r = w["client"].put("/api/v1/plans", json={"scope_kind": "depot", "scope": a, "variety": "rice",
                                               "quantity_t": 1000}, headers=w["city_a"])
    assert r.status_code == 202
    assert w["client"].post(f"/api/v1/approvals/{r.json()['approval']}/approve",
                            headers=w["city_a2"]).status_code == 200
    with connect(w["url"], autocommit=True) as conn:
        stock_rules_job(conn, now=datetime(2026, 11, 22, tzinfo=UTC))
    alarms = w["client"].get(f"/api/v1/alarms?depot={a}&state=open", headers=w["city_a"]).json()
    found = {(x["rule"], x["subject"]) for x in alarms}
    assert ("stock_below_plan", "plan:rice") in found
    assert ("shelf_life", f"lot:{lot}") in found          # expires 2026-11-27: within 30 days
    assert ("granary_over_capacity", "P02") in found       # 5500 t in a 5000 t granary
    messages = {x["rule"]: x["message"] for x in alarms}
    assert messages["stock_below_plan"] == "大米库存 0.00 吨，低于储备计划 1000.00 吨"
    assert messages["shelf_life"].endswith("保质期至 2026-11-27，还剩 5 天")
    assert messages["granary_over_capacity"] == "仓房P02现存 5500.00 吨，超过设计仓容 5000 吨"
    table = w["client"].get("/api/v1/plans/stock", headers=w["city_a"]).json()
    assert {"scope": a, "scope_kind": "depot", "variety": "rice", "plan_t": 1000.0, "stock_t": 0.0,
            "shortfall_t": 1000.0, "below_plan": True} in table
    csv_text = w["client"].get("/api/v1/plans/stock?format=csv", headers=w["city_a"]).text
    assert csv_text.startswith("范围,类型,品种,计划 (t)") and f"{a},库点,大米,1000.0,0,1000.0,是" in csv_text
    assert "储备计划" in w["client"].get("/api/v1/plans/stock?format=html", headers=w["city_a"]).text
    # another city's user sees none of it
    assert a not in w["client"].get("/api/v1/plans/stock?format=csv", headers=w["city_b"]).text



def test_the_lot_archive_holds_everything(w):
    lot = new_lot(w, "ARCH")
    move(w, lot, "in", 100, 13, 1)
    archive = w["client"].get(f"/api/v1/lots/{lot}/archive", headers=w["city_a"]).json()
    assert archive["lot"] == lot and len(archive["movements"]) == 1
    assert sorted(e["ledger"] for e in archive["ledgers"]) == ["accounting", "custody", "statistics"]
    assert archive["counts"] == [] and archive["batches"] == [] and archive["approvals"] == []
    assert w["client"].get(f"/api/v1/lots/{lot}/archive", headers=w["city_b"]).status_code == 404

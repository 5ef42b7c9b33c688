"""Counts, stock, ledgers, plans, figures and reports through the API: the §9 worked example
counted end to end, the ±3 % rule raising `stock_discrepancy`, plans keyed by kind and scope
(issue 16 item 4), reports in every format with formula-escaped cells."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from central.db.pool import connect
from central.inspections.store import overdue_job

PILE = {"method": "measure", "shape": "flat", "length_m": 60, "width_m": 24, "test_weight_g_l": 750,
        "correction_factor": 1.02, "moisture_pct": 12.0, "impurity_pct": 0.9, "date": "2026-08-15"}


def test_worked_count_agrees_then_disagrees_with_an_alarm(api, world):
    lot = api.lot("CNT", granary="P01")
    assert api.move(lot, "in", 3000, 12.5, 1.0, "2025-11-10").status_code == 201
    assert api.move(lot, "in", 2000, 12.5, 1.0, "2025-11-20").status_code == 201
    r = api.post(f"/lots/{lot}/counts", PILE | {"height_m": 4.5})
    assert r.status_code == 201, r.text
    c = r.json()
    assert {k: c[k] for k in ("counted_t", "book_t", "moisture_reduction_t", "impurity_reduction_t",
                              "natural_loss_t", "adjusted_book_t", "difference_pct", "agrees")} == {
        "counted_t": 4957.2, "book_t": 5000.0, "moisture_reduction_t": 28.409,
        "impurity_reduction_t": 5.017, "natural_loss_t": 7.5, "adjusted_book_t": 4959.074,
        "difference_pct": -0.04, "agrees": True}
    r = api.post(f"/lots/{lot}/counts", PILE | {"height_m": 4.3})
    assert r.status_code == 201
    assert (r.json()["counted_t"], r.json()["difference_pct"], r.json()["agrees"]) == (4736.88, -4.48, False)
    assert r.json()["supersedes"] == c["id"]
    alarms = api.get("/alarms", who="sup", depot=world.a, rule="stock_discrepancy").json()
    assert [a["subject"] for a in alarms] == [f"lot:{lot}"] and alarms[0]["value"] == -4.48
    assert "账实不符" in alarms[0]["message"]
    stock = api.get(f"/depots/{world.a}/stock").json()
    p01 = next(g for g in stock["granaries"] if g["granary"] == "P01")
    assert p01["last_count"]["agrees"] is False and p01["capacity_t"] == 6000
    assert lot in [x["lot"] for x in p01["lots"]]
    # counts are never edited: both stay, the later supersedes
    assert len(api.get(f"/lots/{lot}/counts").json()) == 2


def test_bad_counts_are_refused_by_name(api):
    lot = api.lot("CNTBAD", granary="P03", variety="maize")
    api.move(lot, "in", 100, 13.0, 0.5)
    for change, field, status in [
        ({"height_m": 4.5, "date": "2099-01-01"}, "date", 422),
        ({"height_m": 4.5, "date": "2025-10-31"}, "date", 422),        # before the card
        ({"height_m": -1}, "height_m", 422),
        ({"height_m": "NaN"}, "height_m", 422),
        ({}, "height_m", 422),
        ({"method": "bags", "bags": 10}, "bag_kg", 422),
    ]:
        r = api.post(f"/lots/{lot}/counts", PILE | change)
        assert r.status_code == status and field in r.json()["detail"], (change, r.text)
    api.move(lot, "out", 99.95, 13.0, 0.5, "2026-01-10")
    assert api.post(f"/lots/{lot}/settle", {"cleared_on": "2026-01-10"}).status_code == 200
    r = api.post(f"/lots/{lot}/counts", PILE | {"height_m": 4.5})
    assert r.status_code == 409


def test_packaged_lot_counted_by_bags_must_agree_exactly(api):
    lot = api.lot("BAG", granary="P03", variety="大米", category="finished_grain", card="2026-01",
                  production_date="2026-01-05", shelf_life_days=365, packaged=True)
    api.move(lot, "in", 50, 14.0, 0.1, "2026-01-06")
    bags = {"method": "bags", "bag_kg": 25, "date": "2026-03-01"}
    assert api.post(f"/lots/{lot}/counts", bags | {"bags": 2000}).json()["agrees"] is True
    assert api.post(f"/lots/{lot}/counts", bags | {"bags": 1999}).json()["agrees"] is False


def test_lists_stock_and_ledgers_agree(api, world):
    lot = api.lot("LST", granary="P03", variety="soybean", card="2026-02")
    api.move(lot, "in", 80, 12.0, 0.5, "2026-02-03")
    rows = api.get("/lots", depot=world.a, variety="soybean").json()
    assert {"lot": lot, "depot": world.a, "granary": "P03", "category": "raw_grain", "variety": "soybean",
            "grade": None, "harvest_year": 2025, "balance_t": 80.0, "state": "open"}.items() <= \
        next(r for r in rows if r["lot"] == lot).items()
    assert api.get("/lots", who="sup_b", depot=world.a).json() == []
    assert api.get(f"/depots/{world.a}/stock", who="sup_b").status_code == 404
    regions = api.get("/stock/regions", who="province").json()
    assert any(r["region"] == "430102" and r["variety"] == "soybean" for r in regions["rows"])
    rec = api.get("/stock/reconciliation", who="sup", depot=world.a).json()
    assert rec["lots_checked"] > 0 and rec["differences"] == 0


def test_plans_are_keyed_by_kind_and_scope_and_keep_history(api, world):
    # a city user cannot reach another city's region plan, neither as a region nor as a "depot"
    assert api.put("/plans", {"scope_kind": "region", "scope": "430200", "variety": "wheat",
                              "quantity_t": 1}, who="sup").status_code == 404
    assert api.put("/plans", {"scope_kind": "depot", "scope": "430200", "variety": "wheat",
                              "quantity_t": 1}, who="sup").status_code == 404
    r = api.put("/plans", {"scope_kind": "region", "scope": "430100", "variety": "wheat",
                           "quantity_t": 9000}, who="province")
    assert r.status_code == 202
    assert api.post(f"/approvals/{r.json()['approval']}/approve", who="keeper").status_code == 404
    assert api.post(f"/approvals/{r.json()['approval']}/approve", who="sup").status_code == 200
    r = api.put("/plans", {"scope_kind": "depot", "scope": world.a, "variety": "wheat",
                           "quantity_t": 100}, who="sup")
    pending = api.get("/approvals", who="sup2", state="pending").json()
    assert r.json()["approval"] in [p["id"] for p in pending]
    assert r.json()["approval"] not in [p["id"] for p in api.get("/approvals", who="sup_b").json()]
    assert api.post(f"/approvals/{r.json()['approval']}/reject", {"note": "数量有误"},
                    who="sup2").json()["state"] == "rejected"
    r = api.put("/plans", {"scope_kind": "region", "scope": "430100", "variety": "wheat",
                           "quantity_t": 9500}, who="sup")
    api.post(f"/approvals/{r.json()['approval']}/approve", who="province")
    table = api.get("/plans/stock", who="sup").json()
    # (other tests of the session may plan other varieties for the same city)
    region = [p for p in table if p["scope_kind"] == "region" and p["scope"] == "430100"
              and p["variety"] == "wheat"]
    assert [p["plan_t"] for p in region] == [9500.0]
    assert all(p["scope_kind"] == "depot" for p in table if p["scope"] == world.a)
    history = api.get("/plans/history", who="sup", scope_kind="region", scope="430100").json()
    history = [h for h in history if h["variety"] == "wheat"]
    assert [h["quantity_t"] for h in history] == [9000.0, 9500.0] and history[1]["approved_by"]


def test_figures_and_reports(api, world):
    lot = api.lot("FIG", granary="P03", variety="=HYPERLINK(\"x\")", category="edible_oil", card="2026-04")
    api.move(lot, "in", 200, 0.1, 0.05, "2026-04-02")
    api.move(lot, "out", 50, 0.1, 0.05, "2026-04-20")
    fig = api.get("/figures", who="sup", scope=world.a, period="2026-04").json()
    assert fig["throughput"] == {"in_t": 200.0, "out_t": 50.0, "loss_t": 0.0}
    assert fig["period_label"] == "2026年4月" and fig["depots"] == 1
    assert api.get("/figures", who="sup", scope="430100", period="2026-Q2").json()["throughput"]["in_t"] >= 200
    assert api.get("/figures", who="sup_b", scope=world.a, period="2026").status_code == 404
    assert api.get("/figures", who="sup", scope=world.a, period="2026-13").status_code == 422
    stock = api.get("/reports/stock", who="sup", scope=world.a, period="2026-05").json()
    row = next(r for r in stock["rows"] if r["variety"].startswith("=HYPERLINK"))
    assert (row["opening_t"], row["in_t"], row["closing_t"]) == (150.0, 0.0, 150.0)
    csv_text = api.get("/reports/stock", who="sup", scope=world.a, period="2026-04", format="csv").text
    assert "'=HYPERLINK" in csv_text and "期初库存" in csv_text
    xlsx = api.get("/reports/stock", who="sup", scope=world.a, period="2026-04", format="xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert "'=HYPERLINK(\"x\")" in cells and not any(str(v).startswith("=") for v in cells if v)
    page = api.get("/reports/figures", who="sup", scope="430100", period="2026", format="html").text
    assert "主要指标" in page and "自然损耗率" in page
    for name in ("settlements", "stocktakes"):
        assert api.get(f"/reports/{name}", who="province", scope="430000", period="2026").status_code == 200


def test_rectification_overdue_raises_an_alarm_until_closed(api, world):
    r = api.post(f"/depots/{world.a}/checks", {
        "kind": "supervisory", "granary": "P01", "inspected_on": "2026-03-01",
        "findings": "仓顶结露，未及时处理", "rectification_due": "2026-03-15"}, who="sup")
    assert r.status_code == 201, r.text
    check = r.json()["id"]
    assert api.post(f"/depots/{world.a}/checks", {
        "kind": "round", "granary": "P01", "inspected_on": "2026-03-02",
        "checks": {"colour": "正常", "smell": "正常", "insects": "未发现", "condensation": "有",
                   "hand_temps_c": [12.5, 13.0]}}).status_code == 201
    r = api.post(f"/depots/{world.a}/checks", {"kind": "supervisory", "inspected_on": "2026-03-01",
                                              "rectification_due": "2026-03-15"}, who="sup")
    assert r.status_code == 422 and "findings" in r.json()["detail"]
    with connect(world.url, autocommit=True) as conn:
        overdue_job(conn)
    alarms = api.get("/alarms", who="sup", depot=world.a, rule="rectification_overdue").json()
    assert [a["subject"] for a in alarms] == [f"inspection:{check}"]
    assert check in [c["id"] for c in api.get("/checks", who="province", open="true").json()]
    r = api.post(f"/depots/{world.a}/checks/{check}/close", {"closed_on": "2026-03-20", "note": "已整改"})
    assert r.status_code == 200 and r.json()["closed_on"] == "2026-03-20"
    assert api.post(f"/depots/{world.a}/checks/{check}/close", {"closed_on": "2026-03-21"}).status_code == 409
    assert check not in [c["id"] for c in api.get("/checks", who="province", open="true").json()]


def test_lot_moisture_sets_the_granarys_safety_class(api, world):
    from central.lots.grain_state import granary_grain_state
    from central.settings import Settings

    lot = api.lot("WET", granary="P02", variety="maize", card="2026-10")
    api.move(lot, "in", 100, 15.5, 0.5, "2026-10-05")     # maize safe 14.0: 1.5 points above
    with connect(world.url) as conn:
        state = granary_grain_state(conn, Settings())
    assert state[(world.a, "P02")][0] == "semi_safe"


def test_a_months_batch_figures_by_hand(api, world):
    lot = api.lot("BFIG", granary="P04", variety="japonica_paddy", card="2025-12")
    a = api.batch(variety="japonica_paddy", arrived="2025-12-03T01:00:00Z")
    api.test(a, 14.0, 0.5)
    r = api.post(f"/batches/{a}/accept", {"lot": lot, "quantity_t": 40, "date": "2025-12-03"})
    assert r.status_code == 200
    b = api.batch(variety="japonica_paddy", arrived="2025-12-04T01:00:00Z")
    api.test(b, 15.0, 0.5)
    api.post(f"/batches/{b}/pretreat", {"reason": "烘干"})
    api.post(f"/batches/{b}/pretreat", {"reason": "再烘干"})          # a second round is one batch
    c = api.batch(variety="japonica_paddy", arrived="2025-12-05T01:00:00Z")
    api.post(f"/batches/{c}/refuse", {"reason": "霉变"})
    fig = api.get("/figures", scope=world.a, period="2025-12").json()
    # accepted = 1 of 3 arrived; refused 1 of the 2 decided; one batch went to drying
    assert {k: fig["batches"][k] for k in ("arrived", "accepted", "refused", "pretreated", "refusal_rate_pct")} == {
        "arrived": 3, "accepted": 1, "refused": 1, "pretreated": 1, "refusal_rate_pct": 50.0}
    assert fig["batches"]["cycle_time_h"] > 0
    assert fig["throughput"]["in_t"] == 40.0


def test_figures_default_to_the_callers_scope(api, world):
    own = api.get("/figures", period="2026")                       # a depot keeper: the depot
    assert own.status_code == 200 and own.json()["scope"] == world.a and own.json()["depots"] == 1
    assert api.get("/figures", scope="430100", period="2026").status_code == 404
    city = api.get("/figures", who="sup", period="2026").json()
    assert city["scope"] == "430100" and city["depots"] >= 1
    assert api.get("/figures", who="viewer", scope="430000", period="2026-Q1").status_code == 200


def test_control_characters_never_break_a_spreadsheet(api, world):
    lot = api.lot("CTRL", granary="P04", variety="豆油\u0007二级", category="edible_oil", card="2026-06")
    api.move(lot, "in", 10, 0.1, 0.05, "2026-06-02")
    r = api.get("/reports/stock", who="sup", scope=world.a, period="2026-06", format="xlsx")
    assert r.status_code == 200
    cells = [c.value for row in load_workbook(io.BytesIO(r.content)).active.iter_rows() for c in row]
    assert "豆油\ufffd二级" in cells

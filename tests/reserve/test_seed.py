"""`grainlink central seed` on fresh databases with the demo's depot files: the mix issue 14
item 8 asks for, every reserve endpoint answering with data, the same business from the same
seed, and a second run that adds nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from central.db.migrate import migrate
from central.db.pool import connect
from central.settings import Settings
from central.users import add_user
from central.wiring import build_app
from grainlink.cli import main
from grainlink.demo import province
from tests.support import services

SNAPSHOT = """SELECT l.lot, l.settled_at IS NOT NULL, b.in_t, b.out_t, b.loss_t FROM lots l
              JOIN lot_book b ON b.lot = l.lot ORDER BY l.lot"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    state = tmp_path_factory.mktemp("demo")
    return [str(p) for p in province.write_province(state, "mqtt://127.0.0.1:1", [1502, 1503], 3600)]


def seeded_db(server, files, monkeypatch):
    ctx = services.scratch_database(server, prefix="grainlink_seed")
    url = ctx.__enter__()
    migrate(url, Settings(database_url=url))
    monkeypatch.setenv("GRAINLINK_DATABASE_URL", url)
    args = ["central", "seed", "--seed", "7", "--end-month", "2026-10"]
    for f in files:
        args += ["--depot-file", f]
    assert main(args) == 0
    return ctx, url


@pytest.fixture(scope="module")
def monkeymodule():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def seeded(database_server_url, files, monkeymodule):
    ctx, url = seeded_db(database_server_url, files, monkeymodule)
    yield url, files
    ctx.__exit__(None, None, None)


def test_the_mix_a_supervisor_recognises(seeded):
    url, _ = seeded
    with connect(url) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        assert one("SELECT count(DISTINCT variety) FROM lots") >= 3
        assert one("SELECT count(*) FROM intake_batches WHERE state = 'refused'") >= 2
        assert one("SELECT count(*) FROM batch_steps WHERE step = 'pretreatment'") >= 1
        assert one("SELECT count(*) FROM intake_batches WHERE direction = 'out' AND state = 'accepted'") >= 2
        assert one("SELECT count(*) FROM stock_counts WHERE NOT agrees") == 1
        assert one("SELECT count(*) FROM stock_counts WHERE agrees") >= 4
        assert one("SELECT count(*) FROM lots WHERE (settlement->>'storage_accident')::boolean") == 1
        assert one("SELECT count(*) FROM approvals WHERE state = 'pending'") >= 2
        assert one("SELECT count(*) FROM approvals WHERE state = 'approved'") >= 3
        assert one("""SELECT count(*) FROM reserve_inspections i WHERE rectification_due < now()
                      AND NOT EXISTS (SELECT 1 FROM inspection_closings c WHERE c.inspection_id = i.id)""") == 1
        rules = {r[0] for r in conn.execute("SELECT rule FROM alarms WHERE state <> 'cleared'")}
        assert {"stock_discrepancy", "storage_accident", "rectification_overdue", "stock_below_plan"} <= rules
        below = conn.execute("""SELECT count(*) FILTER (WHERE p.quantity_t > s.t), count(*) FILTER (WHERE p.quantity_t < s.t)
            FROM reserve_plans p JOIN (SELECT l.depot, l.variety, sum(b.in_t - b.out_t - b.loss_t) AS t
                 FROM lots l JOIN lot_book b ON b.lot = l.lot WHERE l.settled_at IS NULL GROUP BY 1, 2) s
              ON s.depot = p.scope AND s.variety = p.variety WHERE p.scope_kind = 'depot'""").fetchone()
        assert below[0] >= 1 and below[1] >= 1


def test_every_reserve_endpoint_answers_with_data(seeded):
    url, _ = seeded
    with connect(url, autocommit=True) as conn:
        token = add_user(conn, "seed-admin", "admin", "000000")
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(build_app(Settings(database_url=url))) as c:
        lots = c.get("/api/v1/lots", headers=h).json()
        assert len(lots) >= 12 and {x["state"] for x in lots} == {"open", "settled"}
        stock = c.get("/api/v1/depots/HN-DEMO-001/stock", headers=h).json()
        assert all(g["book_t"] > 0 and g["last_count"] for g in stock["granaries"])
        code = c.get("/api/v1/batches", headers=h).json()[0]["code"]
        assert c.get(f"/api/v1/batches/{code}", headers=h).json()["steps"]
        assert c.get("/api/v1/approvals?state=pending", headers=h).json()
        assert c.get("/api/v1/checks?open=true", headers=h).json()
        assert c.get("/api/v1/plans/stock", headers=h).json()
        assert c.get("/api/v1/stock/regions", headers=h).json()["rows"]
        assert c.get("/api/v1/stock/reconciliation", headers=h).json()["differences"] == 0
        intake = c.get("/api/v1/figures?scope=430000&period=2025-Q4", headers=h).json()
        assert intake["throughput"]["in_t"] > 0 and intake["natural_loss"]["storage_accidents"] == 1
        assert intake["batches"]["refused"] >= 2 and intake["batches"]["cycle_time_h"] > 0
        year = c.get("/api/v1/figures?scope=430000&period=2026", headers=h).json()
        assert year["stock_accuracy"]["lots_counted"] == 6 and year["stock_accuracy"]["rate_pct"] == 83.33
        assert year["throughput"]["out_t"] > 0 and year["energy"]["kwh_per_t"] > 0
        month = c.get("/api/v1/reports/stock?scope=430000&period=2026-10", headers=h).json()
        assert month["rows"][-1]["variety"] == "合计" and month["rows"][-1]["closing_t"] > 0
        for name, period in (("settlements", "2025-Q4"), ("stocktakes", "2026")):
            assert c.get(f"/api/v1/reports/{name}?scope=430000&period={period}&format=json",
                         headers=h).json()["rows"]


def test_same_seed_same_business_and_no_second_helping(seeded, database_server_url, monkeypatch):
    url, files = seeded
    with connect(url) as conn:
        first = conn.execute(SNAPSHOT).fetchall()
    args = ["central", "seed", "--seed", "7", "--end-month", "2026-10"]
    for f in files:
        args += ["--depot-file", f]
    monkeypatch.setenv("GRAINLINK_DATABASE_URL", url)
    assert main(args) == 0
    with connect(url) as conn:
        assert conn.execute(SNAPSHOT).fetchall() == first
    ctx, other = seeded_db(database_server_url, files, monkeypatch)
    try:
        with connect(other) as conn:
            assert conn.execute(SNAPSHOT).fetchall() == first
    finally:
        ctx.__exit__(None, None, None)

"""Reserve accounts at province scale: lot lists, depot stock, a province's monthly statistics
and a year's key figures through the API, and a province's month report as a file.

What it builds (in a scratch database on the PostgreSQL server, dropped afterwards), set-based
in SQL rather than through the API so it builds in minutes:
- `--depots` (3,000) depots of `--granaries` (20) granaries, in 13 cities of one province;
- per granary one lot a year for `--years` (5): four inbound batches (batch, steps, movement)
  in the first quarter, the earlier years cleared out in December and settled, the current
  year's lot rotated once; every movement posted to the three ledgers; one count per lot;
- per depot and month the granary-hours with a scan (`scan_month`, what the completeness job
  keeps: 95–98 % of the expected) and its region rollups, so the year's figures include data
  completeness;
- `lot_book` and `stock_month` filled from the ledger, `batch_month` and `settlement_month`
  from the batches and lots, one statement each (what the stores and the ledger trigger keep
  row by row; the trigger is off while loading, then on again).
Then it times sequential requests through the real app (FastAPI TestClient: routing, token
check, SQL, JSON) and prints p50/p95 per endpoint beside the goals.

    .venv/bin/python bench/reserve_accounts.py [--depots 3000 --granaries 20 --years 5]
        [--requests 100] [--keep]  then  [--reuse grainlink_bench_XXXXXXXX]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from central.db.migrate import migrate  # noqa: E402
from central.settings import Settings  # noqa: E402
from central.users import add_user  # noqa: E402
from central.wiring import build_app  # noqa: E402

GOAL_P95_MS = 200.0
GOAL_REPORT_S = 5.0
VARIETIES = ("wheat", "maize", "paddy")


def step(label: str, conn, sql: str, params=None) -> None:
    started = time.perf_counter()
    cur = conn.execute(sql, params)
    print(f"  {label}: {cur.rowcount if cur.rowcount >= 0 else '-'} rows, "
          f"{time.perf_counter() - started:.1f} s", flush=True)


def build(url: str, depots: int, granaries: int, years: int, now: datetime) -> None:
    migrate(url, Settings(database_url=url, timescale="off"))
    last = now.year
    first = last - years + 1
    # the current year's movements stop at last month: nothing is booked in the future
    month_now = max(now.month - 1, 1)
    p = {"n": depots, "g": granaries, "first": first, "last": last, "m": month_now}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '64MB'")
        conn.execute("SET synchronous_commit = off")
        conn.execute("ALTER TABLE reserve_ledger DISABLE TRIGGER reserve_ledger_aggregates")
        conn.execute("ALTER TABLE reserve_ledger DISABLE TRIGGER reserve_ledger_append_only")
        step("depots", conn, """
            INSERT INTO depots (code, name, province, city, county, state, last_seen)
            SELECT 'RB-' || lpad(d::text, 4, '0'), '储备库 ' || d, '430000',
                   '43' || lpad((1 + d %% 13)::text, 2, '0') || '00',
                   '43' || lpad((1 + d %% 13)::text, 2, '0') || lpad((1 + d %% 9)::text, 2, '0'),
                   CASE WHEN d %% 50 = 0 THEN 'offline' ELSE 'online' END, now()
            FROM generate_series(1, %(n)s) d""", p)
        step("granaries", conn, """
            INSERT INTO granaries (depot, granary, name, type, grain, length_m, width_m, capacity_t)
            SELECT d.code, 'P' || lpad(g::text, 2, '0'), g || '号仓', 'flat',
                   (ARRAY['wheat','maize','paddy'])[1 + g %% 3], 60, 24, 6000
            FROM depots d, generate_series(1, %(g)s) g""", p)
        step("lot cards", conn, """
            INSERT INTO lot_cards (lot, depot, card_granary, category, variety, grade, harvest_year,
                                   card_established, created_by)
            SELECT g.depot || '-' || g.granary || '-' || y, g.depot, g.granary, 'raw_grain', g.grain,
                   '二等', y - 1, make_date(y, 1, 1), 'bench'
            FROM granaries g, generate_series(%(first)s::int, %(last)s::int) y""", p)
        step("lot settlements", conn, """
            INSERT INTO lot_settlements (lot, depot, cleared_on, settlement, settled_at, by_user)
            SELECT c.lot, c.depot, make_date(y, 12, 20), jsonb_build_object(
                       'lot', c.lot, 'cleared_on', make_date(y, 12, 20)::text,
                       'months_stored', 12, 'quantity_in_t', 4800.0, 'quantity_out_t', 4790.4,
                       'moisture_reduction_t', 0, 'impurity_reduction_t', 0, 'natural_loss_t', 9.6,
                       'natural_loss_rate_pct', 0.2, 'norm_rate_pct', 0.2, 'allowed_loss_t', 9.6,
                       'over_loss_t', 0, 'storage_accident', false),
                   make_date(y, 12, 28)::timestamptz, 'bench'
            FROM lot_cards c, LATERAL (SELECT extract(year FROM c.card_established)::int AS y) yy
            WHERE y < %(last)s::int""", p)
        step("intake batches", conn, """
            INSERT INTO intake_batch_records (code, depot, direction, category, variety, harvest_year,
                                              arrived_at, created_by)
            SELECT 'RK' || to_char(make_date(y, k, 10), 'YYYYMMDD') || '-' || l.lot || '-' || k, l.depot,
                   'in', 'raw_grain', l.variety, y - 1, make_date(y, k, 10) + time '01:00', 'bench'
            FROM lots l, LATERAL (SELECT extract(year FROM l.card_established)::int AS y) yy,
                 generate_series(1, 4) k
            WHERE make_date(y, k, 10) < now()""", p)
        step("batch decisions", conn, """
            INSERT INTO batch_decisions (code, state, lot, decided_at, by_user)
            SELECT r.code, CASE WHEN k = '4' THEN 'refused' ELSE 'accepted' END,
                   CASE WHEN k = '4' THEN NULL ELSE substr(r.code, 12, length(r.code) - 13) END,  -- RKyyyymmdd-<lot>-k
                   r.arrived_at + interval '3 h', 'bench'
            FROM intake_batch_records r, LATERAL (SELECT right(r.code, 1) AS k) kk""")
        step("movements in", conn, """
            INSERT INTO lot_movements (lot, direction, date, quantity_t, moisture_pct, impurity_pct,
                                       voucher, batch_code, created_by)
            SELECT lot, 'in', decided_at::date, 1600, 12.5, 0.8, code, code, 'bench'
            FROM batch_decisions WHERE state = 'accepted'""")
        step("movements out", conn, """
            INSERT INTO lot_movements (lot, direction, date, quantity_t, moisture_pct, impurity_pct,
                                       voucher, created_by)
            SELECT l.lot, 'out', make_date(y, 12, d), q, 12.5, 0.8, 'CK-' || l.lot || '-' || d, 'bench'
            FROM lots l, LATERAL (SELECT extract(year FROM l.card_established)::int AS y) yy,
                 LATERAL (VALUES (5, 2395.2), (15, 2395.2)) o(d, q)
            WHERE l.settled_at IS NOT NULL
            UNION ALL
            SELECT l.lot, 'out', make_date(%(last)s::int, %(m)s::int, 1), 300, 12.5, 0.8, 'CK-' || l.lot, 'bench'
            FROM lots l WHERE l.settled_at IS NULL AND %(m)s::int > 3""", p)
        step("batch steps", conn, """
            INSERT INTO batch_steps (code, step, at, by_user, detail)
            SELECT b.code, s.step, b.arrived_at + s.after, 'bench', '{}'
            FROM intake_batch_records b JOIN batch_decisions x ON x.code = b.code,
                 (VALUES ('registered', interval '0'), ('physical', interval '40 min'),
                         ('accepted', interval '3 h')) s(step, after)
            WHERE x.state = 'accepted' OR s.step <> 'accepted'""")
        step("three ledgers", conn, """
            INSERT INTO reserve_ledger (ledger, lot, depot, variety, movement_id, kind, entry_date,
                                        quantity_t, posted_by)
            SELECT g.ledger, m.lot, l.depot, l.variety, m.id, m.direction, m.date, m.quantity_t, 'bench'
            FROM lot_movements m JOIN lots l ON l.lot = m.lot
            CROSS JOIN (VALUES ('custody'), ('statistics'), ('accounting')) g(ledger)
            UNION ALL
            SELECT g.ledger, l.lot, l.depot, l.variety, NULL, 'loss', (l.settlement->>'cleared_on')::date,
                   9.6, 'bench'
            FROM lots l CROSS JOIN (VALUES ('custody'), ('statistics'), ('accounting')) g(ledger)
            WHERE l.settled_at IS NOT NULL""")
        step("lot_book", conn, """
            INSERT INTO lot_book (lot, in_t, out_t, loss_t)
            SELECT lot, coalesce(sum(quantity_t) FILTER (WHERE kind = 'in'), 0),
                   coalesce(sum(quantity_t) FILTER (WHERE kind = 'out'), 0),
                   coalesce(sum(quantity_t) FILTER (WHERE kind = 'loss'), 0)
            FROM reserve_ledger WHERE ledger = 'statistics' GROUP BY lot""")
        step("stock_month", conn, """
            INSERT INTO stock_month (depot, variety, month, in_t, out_t, loss_t)
            SELECT depot, variety, date_trunc('month', entry_date)::date,
                   coalesce(sum(quantity_t) FILTER (WHERE kind = 'in'), 0),
                   coalesce(sum(quantity_t) FILTER (WHERE kind = 'out'), 0),
                   coalesce(sum(quantity_t) FILTER (WHERE kind = 'loss'), 0)
            FROM reserve_ledger WHERE ledger = 'statistics' GROUP BY 1, 2, 3""")
        step("counts", conn, """
            INSERT INTO stock_counts (lot, depot, count_date, method, inputs, counted_t, book_t,
                moisture_reduction_t, impurity_reduction_t, natural_loss_t, adjusted_book_t,
                difference_pct, agrees, counted_by)
            SELECT l.lot, l.depot, make_date(y, 9, 15), 'measure', '{}', 4790 + (random() - 0.5) * 200,
                   4800, 0, 0, 7.2, 4792.8, d, abs(d) <= 3, 'bench'
            FROM lots l, LATERAL (SELECT extract(year FROM l.card_established)::int AS y) yy,
                 LATERAL (SELECT round(((random() - 0.48) * 7)::numeric, 2) AS d) dd
            WHERE make_date(y, 9, 15) < now()""")
        step("scan_month", conn, """
            INSERT INTO scan_month (depot, month, granary_hours)
            SELECT d.code, m::date,
                   (%(g)s * extract(epoch FROM least(m + interval '1 month', date_trunc('hour', now())) - m)
                    / 3600 * (0.95 + (hashtext(d.code || m::text) & 3) * 0.01))::bigint
            FROM depots d, generate_series(make_date(%(first)s::int, 1, 1), date_trunc('month', now()),
                                           interval '1 month') m""", p)
        step("scan_month_region", conn, """
            INSERT INTO scan_month_region (region, month, granary_hours)
            SELECT coalesce(d.county, d.city, d.province, ''), s.month, sum(s.granary_hours)
            FROM scan_month s JOIN depots d ON d.code = s.depot GROUP BY 1, 2""")
        step("granaries_region", conn, """
            INSERT INTO granaries_region (region, granaries)
            SELECT coalesce(d.county, d.city, d.province, ''), count(*)
            FROM granaries g JOIN depots d ON d.code = g.depot WHERE g.active GROUP BY 1""")
        conn.execute("UPDATE scan_completeness_state SET through = date_trunc('hour', now())")
        step("batch_month", conn, """
            INSERT INTO batch_month (depot, month, direction, arrived, accepted, refused, pretreated,
                                     cycle_h_sum, cycle_n)
            SELECT depot, date_trunc('month', arrived_at)::date, direction, count(*),
                   count(*) FILTER (WHERE state = 'accepted'), count(*) FILTER (WHERE state = 'refused'), 0,
                   coalesce(sum(extract(epoch FROM decided_at - arrived_at) / 3600)
                            FILTER (WHERE state = 'accepted'), 0),
                   count(*) FILTER (WHERE state = 'accepted')
            FROM intake_batches GROUP BY 1, 2, 3""")  # the view: the batch with its decision
        step("settlement_month", conn, """
            INSERT INTO settlement_month (depot, month, lots, quantity_in_t, natural_loss_t, over_loss_t, accidents)
            SELECT depot, date_trunc('month', (settlement->>'cleared_on')::date)::date, count(*),
                   sum((settlement->>'quantity_in_t')::numeric), sum((settlement->>'natural_loss_t')::numeric),
                   sum((settlement->>'over_loss_t')::numeric),
                   count(*) FILTER (WHERE (settlement->>'storage_accident')::boolean)
            FROM lots WHERE settled_at IS NOT NULL GROUP BY 1, 2""")
        step("stock_month_region", conn, """
            INSERT INTO stock_month_region (region, variety, month, in_t, out_t, loss_t)
            SELECT coalesce(d.county, d.city, d.province, ''), s.variety, s.month, sum(s.in_t),
                   sum(s.out_t), sum(s.loss_t)
            FROM stock_month s JOIN depots d ON d.code = s.depot GROUP BY 1, 2, 3""")
        step("count_month", conn, """
            INSERT INTO count_month (depot, month, counted, agreeing)
            SELECT depot, date_trunc('month', count_date)::date, count(*), count(*) FILTER (WHERE agrees)
            FROM stock_counts GROUP BY 1, 2""")
        conn.execute("ALTER TABLE reserve_ledger ENABLE TRIGGER reserve_ledger_aggregates")
        conn.execute("ALTER TABLE reserve_ledger ENABLE TRIGGER reserve_ledger_append_only")
        step("analyze", conn, "ANALYZE")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(url: str, depots: int, requests: int, now: datetime) -> list[tuple]:
    settings = Settings(database_url=url)
    with psycopg.connect(url, autocommit=True) as conn:
        token = add_user(conn, f"bench-{uuid.uuid4().hex[:6]}", "province", "430000")
        years = [r[0] for r in conn.execute(
            "SELECT DISTINCT extract(year FROM card_established)::int FROM lots ORDER BY 1")]
    headers = {"Authorization": f"Bearer {token}"}
    rnd = random.Random(42)
    months = [f"{y}-{m:02d}" for y in years for m in range(1, 13) if (y, m) < (now.year, now.month)]
    cases = {
        "GET /lots?depot=": lambda: ("/api/v1/lots", {"depot": f"RB-{rnd.randint(1, depots):04d}"}),
        "GET /depots/{d}/stock": lambda: (f"/api/v1/depots/RB-{rnd.randint(1, depots):04d}/stock", {}),
        "province month statistics": lambda: ("/api/v1/reports/stock",
                                              {"scope": "430000", "period": rnd.choice(months)}),
        "province year figures": lambda: ("/api/v1/figures", {"scope": "430000", "period": str(rnd.choice(years))}),
    }
    results = []
    with TestClient(build_app(settings)) as client:
        print(f"\n{'endpoint':<28}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'goal p95':>10}  answer")
        for label, make in cases.items():
            samples, size = [], 0
            n = requests if "province" not in label else max(requests // 2, 10)
            for i in range(n + 5):  # the first 5 warm the pool and the caches
                path, params = make()
                started = time.perf_counter()
                r = client.get(path, headers=headers, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"{path} {params}: {r.status_code} {r.text[:300]}")
                if i >= 5:
                    samples.append(elapsed)
                    size = len(r.content)
            p95 = percentile(samples, 95)
            results.append((label, p95, GOAL_P95_MS))
            print(f"{label:<28}{len(samples):>5}{statistics.median(samples):>9.1f}{p95:>9.1f}"
                  f"{'≤ 200':>10}  {size / 1024:.1f} KiB {'ok' if p95 <= GOAL_P95_MS else 'OVER'}")
        print(f"\n{'province month report':<28}{'format':>8}{'seconds':>9}{'goal':>8}  size")
        # the latest month of stock; the busiest months of settlements (December) and counts
        # (September) of last year
        periods = {"stock": months[-1], "settlements": f"{years[-2]}-12", "stocktakes": f"{years[-2]}-09"}
        for name, period in periods.items():
            for fmt in ("xlsx", "csv", "html"):
                started = time.perf_counter()
                r = client.get(f"/api/v1/reports/{name}", headers=headers,
                               params={"scope": "430000", "period": period, "format": fmt})
                elapsed = time.perf_counter() - started
                if r.status_code != 200:
                    raise SystemExit(f"report {name} {fmt}: {r.status_code} {r.text[:300]}")
                results.append((f"report {name} {fmt}", elapsed, GOAL_REPORT_S))
                print(f"{name:<28}{fmt:>8}{elapsed:>9.2f}{'≤ 5 s':>8}  {len(r.content) / 1024:.0f} KiB "
                      f"{'ok' if elapsed <= GOAL_REPORT_S else 'OVER'}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://127.0.0.1:5432/test",
                        help="PostgreSQL server URL (a scratch database is created there)")
    parser.add_argument("--depots", type=int, default=3000)
    parser.add_argument("--granaries", type=int, default=20)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per depot endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="DBNAME", help="measure again on a database kept by --keep")
    args = parser.parse_args()
    now = datetime.now(UTC)
    if args.reuse:
        url = urlparse(args.server)._replace(path="/" + args.reuse).geturl()
        migrate(url, Settings(database_url=url, timescale="off"))   # newer migrations fill from the data
        with psycopg.connect(url) as conn:
            depots = conn.execute("SELECT count(*) FROM depots").fetchone()[0]
        measure(url, depots, args.requests, now)
        return 0
    name = f"grainlink_bench_{uuid.uuid4().hex[:8]}"
    url = urlparse(args.server)._replace(path="/" + name).geturl()
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        print(f"building {args.depots} depots x {args.granaries} granaries x {args.years} years in {name}",
              flush=True)
        started = time.perf_counter()
        build(url, args.depots, args.granaries, args.years, now)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
        measure(url, args.depots, args.requests, now)
    finally:
        if not args.keep:
            with psycopg.connect(args.server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())

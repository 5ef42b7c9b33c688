"""Data completeness (domain.md §11) for any scope, from the per-depot day and month counts
the `scan_completeness` job keeps: numbers worked out by hand below."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from central.db.pool import connect
from central.db.storage import refresh_aggregates
from central.figures import completeness as c
from central.figures import store
from central.figures.periods import parse_period
from central.intake import store as batches
from tests.central.api_support import insert_depot, insert_scan, migrated_settings, tag

T = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731


def test_expected_hours_by_hand():
    # 3 granaries × 228 hours (9 days and 12 hours); a 30-minute interval still counts hours
    assert c.expected_hours(3, T(2026, 3, 1), T(2026, 3, 10, 12), 3600) == 684
    assert c.expected_hours(3, T(2026, 3, 1), T(2026, 3, 10, 12), 1800) == 684
    assert c.expected_hours(3, T(2026, 3, 1), T(2026, 3, 10, 12), 7200) == 342
    assert c.expected_hours(3, T(2026, 3, 2), T(2026, 3, 1), 3600) == 0


def test_window_recounts_the_lookback_up_to_the_last_whole_hour():
    now = T(2026, 3, 10, 12, 30)
    assert c.window(None, now, None) is None
    assert c.window(None, now, T(2026, 2, 27, 5)) == (T(2026, 2, 27), T(2026, 3, 10, 12))
    assert c.window(T(2026, 3, 10, 11), now, None) == (T(2026, 3, 8), T(2026, 3, 10, 12))
    # readings received late reach further back; a late one inside the lookback changes nothing
    assert c.window(T(2026, 3, 10, 11), now, None, T(2026, 3, 5, 7)) == (T(2026, 3, 5), T(2026, 3, 10, 12))
    assert c.window(T(2026, 3, 10, 11), now, None, T(2026, 3, 9, 7)) == (T(2026, 3, 8), T(2026, 3, 10, 12))


@pytest.fixture(scope="module")
def two_depots(database_url):
    migrated_settings(database_url)
    a, b = f"CPA{tag()}", f"CPB{tag()}"
    region = {"province": "430000", "city": "430100", "county": "430102"}
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, a, region, {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
        insert_depot(conn, b, region, {"P01": [(1, 1, 1, 4)]})
        scans = [
            (a, "P01", T(2026, 3, 1, 0, 5)), (a, "P01", T(2026, 3, 1, 0, 20)),   # one hour
            (a, "P01", T(2026, 3, 1, 1, 0)), (a, "P01", T(2026, 3, 9, 23, 59)),
            (a, "P02", T(2026, 3, 5, 10, 0)),
            (a, "P02", T(2026, 2, 28, 23, 30)),                                   # February
            (b, "P01", T(2026, 3, 10, 11, 0)),
            (b, "P01", T(2026, 3, 10, 12, 10)),      # the hour in progress: not yet counted
        ]
        for depot, granary, ts in scans:
            insert_scan(conn, depot, granary, 1, ts, [20.0, 19.5, None, None])
        insert_scan(conn, a, "P02", 1, T(2026, 3, 6, 8), [None, None], faults=(1, 2))  # faulty only
        refresh_aggregates(conn)
        c.recount(conn, T(2026, 3, 10, 12), since=T(2026, 2, 1))
    return database_url, a, b


def test_completeness_of_a_month_and_a_quarter_by_hand(two_depots):
    url, a, b = two_depots
    now = T(2026, 3, 10, 12)
    with connect(url) as conn:
        march = store.figures(conn, [a, b], parse_period("2026-03"), 3600, now=now)["data_completeness"]
        q1 = store.figures(conn, [a, b], parse_period("2026-Q1"), 3600, now=now)["data_completeness"]
        only_b = store.figures(conn, [b], parse_period("2026-03"), 3600, now=now)["data_completeness"]
        days = dict(conn.execute("SELECT day, granary_hours FROM scan_day WHERE depot = %s", (a,)).fetchall())
    # March: A/P01 3 hours (00:05 and 00:20 share one), A/P02 1 (the faulty scan is none),
    # B/P01 1; expected 3 granaries × (9 × 24 + 12) hours = 684
    assert march == {"scans_received": 5, "scans_expected": 684, "rate_pct": round(5 / 684 * 100, 2)}
    # Q1 adds February's hour; expected 3 × ((31 + 28 + 9) × 24 + 12) = 4932
    assert q1 == {"scans_received": 6, "scans_expected": 4932, "rate_pct": round(6 / 4932 * 100, 2)}
    assert only_b == {"scans_received": 1, "scans_expected": 228, "rate_pct": round(1 / 228 * 100, 2)}
    assert days == {T(2026, 3, 1).date(): 2, T(2026, 3, 9).date(): 1, T(2026, 3, 5).date(): 1,
                    T(2026, 2, 28).date(): 1}


def test_late_readings_are_counted_by_the_next_run(two_depots):
    url, a, b = two_depots
    with connect(url, autocommit=True) as conn:
        insert_scan(conn, b, "P01", 1, T(2026, 3, 9, 7, 0), [18.0])    # arrives late
        refresh_aggregates(conn)
        c.recount(conn, T(2026, 3, 10, 13), since=T(2026, 3, 9))
        march = store.figures(conn, [b], parse_period("2026-03"), 3600,
                              now=T(2026, 3, 10, 13))["data_completeness"]
    # 03-09 07:00, 03-10 11:00 and now the 12:00 hour too; 229 hours expected
    assert march["scans_received"] == 3 and march["scans_expected"] == 229


def test_readings_days_late_are_counted_by_the_next_run(database_url):
    """An outbox drained after a long outage: readings 5 days old arrive after a run (their
    batch received then); the next hourly run, with no `since`, counts them."""
    migrated_settings(database_url)
    d = f"CPL{tag()}"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, d, {"province": "430000", "city": "430100", "county": "430102"},
                     {"P01": [(1, 1, 1, 4)]})
        insert_scan(conn, d, "P01", 1, T(2027, 6, 10, 11, 0), [18.0])  # on time
        refresh_aggregates(conn)
        c.recount(conn, T(2027, 6, 10, 12, 5))                      # a run: through 12:00
        assert conn.execute("SELECT through FROM scan_completeness_state").fetchone()[0] \
            == T(2027, 6, 10, 12)
        late = T(2027, 6, 5, 8, 0)
        insert_scan(conn, d, "P01", 1, late, [18.0])
        conn.execute("""INSERT INTO batches (depot, batch, sent_at, received_at, count, first_ts, last_ts)
                        VALUES (%s, 1, %s, %s, 1, %s, %s)""",
                     (d, T(2027, 6, 10, 12, 20), T(2027, 6, 10, 12, 30), late, late))
        refresh_aggregates(conn)
        c.recount(conn, T(2027, 6, 10, 13, 5))                      # the next run
        days = dict(conn.execute("SELECT day, granary_hours FROM scan_day WHERE depot = %s",
                                 (d,)).fetchall())
        june = store.figures(conn, [d], parse_period("2027-06"), 3600,
                             now=T(2027, 6, 10, 13))["data_completeness"]
    assert days == {late.date(): 1, T(2027, 6, 10).date(): 1}
    assert june["scans_received"] == 2


def test_a_province_scope_has_completeness(two_depots):
    """No depot-count limit any more: the region's figures carry it too."""
    url, a, b = two_depots
    with connect(url) as conn:
        depots = store.depots_in(conn, "d.province = %s", ["430000"])
        fig = store.figures(conn, depots, parse_period("2026"), 3600, now=T(2026, 3, 10, 12),
                            region="43")["data_completeness"]
    # at least these two depots' 6 granary-hours of 3 granaries × 1644 expected
    assert len(depots) >= 2 and fig["scans_received"] >= 6 and fig["scans_expected"] >= 3 * 1644


def test_a_region_reads_its_rollups_and_they_agree_with_its_depots(database_url):
    """A whole region (region prefix given) reads `scan_month_region` and `granaries_region`:
    the same numbers as summing its depots one by one."""
    migrated_settings(database_url)
    county = f"4399{int(tag(), 16) % 90 + 10:02d}"
    region = {"province": "430000", "city": "439900", "county": county}
    codes = [f"CPR{tag()}" for _ in range(2)]
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, codes[0], region, {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
        insert_depot(conn, codes[1], region, {"P01": [(1, 1, 1, 4)]})
        for depot, granary, ts in [(codes[0], "P01", T(2026, 4, 2, 3)), (codes[0], "P02", T(2026, 4, 2, 3)),
                                   (codes[1], "P01", T(2026, 4, 3, 5)), (codes[1], "P01", T(2026, 5, 1, 0))]:
            insert_scan(conn, depot, granary, 1, ts, [20.0])
        refresh_aggregates(conn)
        c.recount(conn, T(2026, 5, 1, 12), since=T(2026, 4, 1))
        # business of the quarter: a refused batch (the store's upserts), a count month
        # inserted then raised (the trigger's update delta), a settlement month
        b = batches.register(conn, "k", {"depot": codes[0], "direction": "in", "category": "raw_grain",
                                         "variety": "wheat", "arrived_at": T(2026, 4, 2, 8)})
        batches.decide(conn, b, "k", "refused", "杂质超标", T(2026, 4, 2, 9))
        conn.execute("INSERT INTO count_month (depot, month, counted, agreeing) VALUES (%s, '2026-05-01', 2, 1)",
                     (codes[1],))
        conn.execute("""INSERT INTO count_month AS m (depot, month, counted, agreeing) VALUES (%s, '2026-05-01', 1, 1)
                        ON CONFLICT (depot, month) DO UPDATE SET counted = m.counted + 1, agreeing = m.agreeing + 1""",
                     (codes[1],))
        conn.execute("""INSERT INTO settlement_month (depot, month, lots, quantity_in_t, natural_loss_t, over_loss_t,
                                                      accidents) VALUES (%s, '2026-06-01', 1, 5000, 10.363, 0.363, 1)""",
                     (codes[0],))
        depots = store.depots_in(conn, "d.county = %s", [county])
        now = T(2026, 5, 1, 12)
        by_region = store.figures(conn, depots, parse_period("2026-Q2"), 3600, now=now, region=county)
        by_depot = store.figures(conn, depots, parse_period("2026-Q2"), 3600, now=now)
    # 3 granaries × (30 × 24 + 12) hours; 4 granary-hours
    assert sorted(depots) == sorted(codes)
    # the other monthly figures agree too, from their region rollups
    for key in ("natural_loss", "stock_accuracy", "batches", "throughput"):
        assert by_region[key] == by_depot[key], key
    assert by_region["batches"]["arrived"] == 1 and by_region["batches"]["refused"] == 1
    assert by_region["stock_accuracy"] == {"lots_counted": 3, "lots_agreeing": 2, "rate_pct": 66.67}
    assert by_region["natural_loss"]["rate_pct"] == 0.2073 and by_region["natural_loss"]["storage_accidents"] == 1
    assert by_region["data_completeness"] == by_depot["data_completeness"] == {
        "scans_received": 4, "scans_expected": 3 * 732, "rate_pct": round(4 / 2196 * 100, 2)}


def test_a_depot_that_moves_region_takes_its_figures_along(database_url):
    """Migration 0085: the region rollups follow a depot whose county changes, so each
    county's figures still equal the sum of its depots' (and the old county keeps none)."""
    migrated_settings(database_url)
    n = int(tag(), 16) % 90 + 10
    old, new = f"4398{n:02d}", f"4397{n:02d}"
    moving, staying = f"CPM{tag()}", f"CPS{tag()}"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, moving, {"province": "430000", "city": "439800", "county": old},
                     {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
        insert_depot(conn, staying, {"province": "430000", "city": "439700", "county": new},
                     {"P01": [(1, 1, 1, 4)]})
        for depot, ts in [(moving, T(2026, 7, 2, 3)), (moving, T(2026, 7, 3, 3)), (staying, T(2026, 7, 2, 5))]:
            insert_scan(conn, depot, "P01", 1, ts, [20.0])
        refresh_aggregates(conn)
        c.recount(conn, T(2026, 7, 10, 12), since=T(2026, 7, 1))
        b = batches.register(conn, "k", {"depot": moving, "direction": "in", "category": "raw_grain",
                                         "variety": "wheat", "arrived_at": T(2026, 7, 2, 8)})
        batches.decide(conn, b, "k", "refused", "杂质超标", T(2026, 7, 2, 9))
        for depot, counted in ((moving, 3), (staying, 1)):
            conn.execute("INSERT INTO count_month (depot, month, counted, agreeing) VALUES (%s, '2026-07-01', %s, 1)",
                         (depot, counted))
        conn.execute("""INSERT INTO settlement_month (depot, month, lots, quantity_in_t, natural_loss_t, over_loss_t,
                                                      accidents) VALUES (%s, '2026-07-01', 1, 5000, 10, 0, 1)""",
                     (moving,))
        # a statistics-ledger movement files both (migration 0011's trigger); as it would
        conn.execute("INSERT INTO stock_month (depot, variety, month, in_t) VALUES (%s, 'wheat', '2026-07-01', 120)",
                     (moving,))
        conn.execute("""INSERT INTO stock_month_region AS r (region, variety, month, in_t)
                        VALUES (%s, 'wheat', '2026-07-01', 120)
                        ON CONFLICT (region, variety, month) DO UPDATE SET in_t = r.in_t + 120""", (old,))
        conn.execute("UPDATE depots SET city = '439700', county = %s WHERE code = %s", (new, moving))

        now = T(2026, 7, 10, 12)
        depots = store.depots_in(conn, "d.county = %s", [new])
        by_region = store.figures(conn, depots, parse_period("2026-07"), 3600, now=now, region=new)
        by_depot = store.figures(conn, depots, parse_period("2026-07"), 3600, now=now)
        left = store.depots_in(conn, "d.county = %s", [old])
        old_rows = {t: conn.execute(f"SELECT coalesce(sum({col}), 0) FROM {t} WHERE region = %s",
                                    (old,)).fetchone()[0]
                    for t, col in (("scan_month_region", "granary_hours"), ("count_month_region", "counted"),
                                   ("batch_month_region", "arrived"), ("settlement_month_region", "lots"),
                                   ("stock_month_region", "in_t"), ("granaries_region", "granaries"))}
        stock_new = conn.execute("SELECT in_t FROM stock_month_region WHERE region = %s AND variety = 'wheat'"
                                 " AND month = '2026-07-01'", (new,)).fetchone()[0]
    assert sorted(depots) == sorted([moving, staying]) and left == []
    for key in ("data_completeness", "natural_loss", "stock_accuracy", "batches", "throughput"):
        assert by_region[key] == by_depot[key], key
    assert by_region["data_completeness"]["scans_received"] == 3
    assert by_region["stock_accuracy"]["lots_counted"] == 4 and by_region["batches"]["arrived"] == 1
    assert all(v == 0 for v in old_rows.values()), old_rows
    assert stock_new == 120

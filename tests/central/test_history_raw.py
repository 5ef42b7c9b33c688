"""The raw history's two query shapes (per-key scans for plain PostgreSQL, one range scan
summed per layer for TimescaleDB) give the same answer, on whichever storage path the test
database offers: only the registered cables, layers up to the deepest registered one, no
faulty, empty or time-implausible reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central.api.history_queries import _grain_rows, _value_runs, granary_history
from central.api.history_range import HistoryRange
from central.db.pool import connect
from tests.central.api_support import insert_depot, tag

T0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
STAMPS = [T0 + timedelta(hours=h) for h in range(3)]
# Cable 3 is not registered (a gap in the numbers): more cables than TimescaleDB filters
# with an `= ANY` list column-wise, so the range shape has to skip the gap itself.
REGISTERED = {c: 2 if c == 2 else 4 for c in (*range(1, 3), *range(4, 40))}


def _temp_x100(cable: int, layer: int, hour: int) -> int:
    return 1500 + 7 * cable + 40 * layer + 3 * hour


def _rows(depot: str) -> list[tuple]:
    """(depot, granary, cable, layer, ts, temp_x100, fault, flags) of every stored reading:
    the registered sensors, and what the history must leave out."""
    rows = [(depot, "P01", c, layer, ts, _temp_x100(c, layer, h), False, 0)
            for h, ts in enumerate(STAMPS) for c, layers in REGISTERED.items()
            for layer in range(1, layers + 1)]
    ts = STAMPS[1]
    rows += [
        (depot, "P01", 3, 1, ts, 9000, False, 0),    # cable not registered (the gap)
        (depot, "P01", 55, 1, ts, 9000, False, 0),   # cable not registered (beyond)
        (depot, "P01", 1, 5, ts, 9000, False, 0),    # below the deepest registered layer
        (depot, "P01", 2, 3, ts, 9000, False, 0),    # a layer cable 2 lacks: still counted
        (depot, "P01", 4, 1, ts + timedelta(minutes=1), 9100, True, 0),   # faulty
        (depot, "P01", 5, 1, ts + timedelta(minutes=1), None, False, 0),  # no valid value
        (depot, "P01", 6, 1, ts + timedelta(minutes=1), 9200, False, 1),  # time implausible
        (depot, "P01", 7, 1, ts + timedelta(minutes=2), 1234, False, 2),  # clock off: kept
    ]
    return rows


def _expected(rows: list[tuple]) -> list[tuple]:
    """What the history promises, computed here from the rows."""
    deepest = max(REGISTERED.values())
    kept: dict = {}
    for _d, _g, cable, layer, ts, temp, fault, flags in rows:
        if cable in REGISTERED and layer <= deepest and temp is not None and not fault \
                and not flags & 1:
            kept.setdefault(ts, {}).setdefault(layer, []).append(temp)
    out = []
    for ts in sorted(kept):
        text = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
        every = [t for layer in sorted(kept[ts]) for t in kept[ts][layer]]
        for layer, temps in [(None, every), *sorted(kept[ts].items())]:
            out.append((text, layer, min(temps) / 100, max(temps) / 100,
                        round(sum(temps) / len(temps)) / 100, len(temps)))
    return out


@pytest.fixture(scope="module")
def depot(url):
    code = f"RAW{tag()}"
    with connect(url, autocommit=True) as conn:
        insert_depot(conn, code, None, {"P01": [(c, 1, c, n) for c, n in REGISTERED.items()],
                                        "P02": []})
        rows = _rows(code)
        conn.cursor().executemany(
            "INSERT INTO grain_readings (depot, granary, cable, layer, ts, temp_x100, fault, "
            "flags) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
    return code, rows


def test_value_runs():
    assert _value_runs([5, 1, 2, 3, 3, 9, 8]) == [(1, 3), (5, 5), (8, 9)]
    assert _value_runs([]) == []


@pytest.mark.parametrize("per_layer", [True, False])
def test_both_raw_shapes_keep_exactly_the_promised_readings(conn, depot, per_layer):
    code, rows = depot
    rng = HistoryRange(T0, T0 + timedelta(hours=3), "raw")
    got = _grain_rows(conn, code, "P01", rng, per_layer=per_layer)
    assert got == _expected(rows)
    # the clock-off reading at its own time, alone: layer 1 and the whole granary
    assert [r for r in got if r[0] == "2026-11-03T07:02:00Z"] == [
        ("2026-11-03T07:02:00Z", None, 12.34, 12.34, 12.34, 1),
        ("2026-11-03T07:02:00Z", 1, 12.34, 12.34, 12.34, 1)]


def test_history_answers_with_the_storage_paths_shape(conn, depot):
    code, rows = depot
    rng = HistoryRange(T0 + timedelta(minutes=30), T0 + timedelta(hours=2), "raw")
    body = granary_history(conn, code, "P01", rng)
    assert [p["ts"] for p in body["granary_stats"]] == [
        "2026-11-03T07:00:00Z", "2026-11-03T07:02:00Z"]
    assert body["granary_stats"][0]["n"] == sum(REGISTERED.values()) + 1  # + cable 2 layer 3
    assert _grain_rows(conn, code, "P01", rng, per_layer=True) == \
        _grain_rows(conn, code, "P01", rng, per_layer=False)


@pytest.mark.parametrize("per_layer", [True, False])
def test_a_granary_without_cables_has_no_raw_history(conn, depot, per_layer):
    code, _ = depot
    rng = HistoryRange(T0, T0 + timedelta(hours=3), "raw")
    assert _grain_rows(conn, code, "P02", rng, per_layer=per_layer) == []

"""Agent parts on their own: bus workers, backoff, metrics text, the clock hold, scan mapping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from edge.cli.probe import parse_addresses
from edge.modbus.backoff import UnitBackoff
from edge.outbox.outbox import Outbox
from edge.polling.scheduler import BusWorkers
from edge.readings.collector import Collector
from edge.readings.stamp import air_reading, grain_scans, scan_time
from edge.status.metrics import Metrics
from protocols.depot import parse_depot_config
from protocols.depot.model import Unit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "depot.yaml"
CONFIG = parse_depot_config(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))
T0 = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)


def cable(n, temps, faults=()):
    return SimpleNamespace(cable=n, temps_c=list(temps), faults=list(faults))


def unit_reading(cables, age=0, indoor=None):
    return SimpleNamespace(header=SimpleNamespace(scan_age_s=age), cables=cables, indoor=indoor, outdoor=None)


def test_slow_bus_never_delays_another():
    workers = BusWorkers(["slow", "fast"])
    release = threading.Event()
    try:
        workers.submit("slow", "a", lambda: release.wait(5))
        assert workers.submit("slow", "b", lambda: 1) is not None
        assert workers.submit("slow", "b", lambda: 1) is None  # same job already queued
        started = time.monotonic()
        assert workers.submit("fast", "a", lambda: "done").result(timeout=2) == "done"
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
        workers.shutdown()


def test_backoff_doubles_to_a_cap_and_resets():
    b = UnitBackoff(initial_s=5, max_s=30)
    assert [b.failed(100.0) for _ in range(5)] == [5, 10, 20, 30, 30]
    assert not b.ready(120.0) and b.ready(130.0) and b.dead
    b.succeeded()
    assert b.ready(0.0) and not b.dead


def test_metrics_text_format():
    m = Metrics()
    m.describe("read_errors_total", "counter", "failed requests")
    m.inc("read_errors_total", bus="rs485-1", unit=3, kind="crc")
    m.inc("read_errors_total", 2, bus="rs485-1", unit=3, kind="crc")
    m.set("outbox_pending", 7)
    text = m.render()
    assert "# TYPE grainlink_edge_read_errors_total counter" in text
    assert 'grainlink_edge_read_errors_total{bus="rs485-1",kind="crc",unit="3"} 3' in text
    assert "grainlink_edge_outbox_pending 7" in text


def test_addresses():
    assert parse_addresses("1-3,10, 2") == [1, 2, 3, 10]
    with pytest.raises(ValueError):
        parse_addresses("0-4")
    with pytest.raises(ValueError):
        parse_addresses("a-b")


def test_grain_scans_use_granary_numbers_and_layers():
    unit = Unit(address=2, profile="lst1812", granary="P02",
                cables={"first_wire_cable": 3, "count": 2, "first_cable": 7})
    reading = unit_reading([cable(3, [10.0, None, 11.5, 12.0, 13.0, 14.0, 99.0]),
                            cable(4, [9.0, 9.5], faults=[2, 9])])
    scans = grain_scans(reading, unit, CONFIG.granary("P02"), T0)
    assert [(s.cable, s.temps_c, s.faults) for s in scans] == [
        (7, [10.0, None, 11.5, 12.0, 13.0, 14.0], []),
        (8, [9.0, None, None, None, None, None], [2]),
    ]
    assert scan_time(T0 + timedelta(microseconds=5), 30) == T0 - timedelta(seconds=30)


def test_air_reading_faults_and_absence():
    v = SimpleNamespace(temp_c=18.25, rh_pct=None, temp_fault=False, rh_fault=True)
    a = air_reading(v, "outdoor", "P01", T0)
    assert (a.granary, a.temp_c, a.rh_pct) == (None, 18.25, None)
    absent = SimpleNamespace(temp_c=None, rh_pct=None, temp_fault=False, rh_fault=False)
    assert air_reading(absent, "indoor", "P01", T0) is None


def result(address=2, reading=None, at=T0, mono=0.0):
    unit = CONFIG.bus("rs485-1").units[0]
    return SimpleNamespace(bus="rs485-1", unit=unit, read_at=at, read_mono=mono, reading=reading,
                           error=None, skipped=False, ok=reading is not None,
                           scan_counter=None, repeated=False, what="cables")


def test_unsynchronised_clock_holds_then_restamps(tmp_path):
    config = CONFIG.model_copy(update={"agent": CONFIG.agent.model_copy(update={"clock_policy": "hold"})})
    synced = {"ok": False}
    now = {"wall": T0 - timedelta(days=400), "mono": 1000.0}  # a Pi booted with last year's time
    outbox = Outbox(tmp_path / "o.sqlite", "T-HOLD")
    c = Collector(config, outbox, Metrics(), lambda: synced["ok"],
                  wall=lambda: now["wall"], mono=lambda: now["mono"])
    reading = unit_reading([cable(1, [15.0] * 6)], age=10)
    assert c.record([result(reading=reading, at=now["wall"], mono=now["mono"])], "grain") == 6
    assert c.held_count == 1 and outbox.stats().pending == 0
    # NTP answers 100 s (monotonic) later: the true time is T0 + 100 s.
    synced["ok"] = True
    now.update(wall=T0 + timedelta(seconds=100), mono=1100.0)
    assert c.clock_ok(force=True)
    assert c.release_held() == 1 and c.held_count == 0
    latest = outbox.history_latest("P02")
    assert latest.ts == T0 - timedelta(seconds=10)  # read at T0, measured 10 s earlier
    outbox.close()


def test_mark_policy_commits_at_once(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite", "T-MARK")
    m = Metrics()
    c = Collector(CONFIG, outbox, m, lambda: False)
    c.record([result(reading=unit_reading([cable(1, [15.0] * 6)]))], "grain")
    assert outbox.stats().pending == 1 and m.get("clock_synchronised") == 0
    assert m.get("scans_total", granary="P02") == 1
    outbox.close()


def test_json_logs_carry_extra_fields():
    import io
    import json
    import logging

    from edge.cli.jsonlog import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.edge.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("bus %s down", "rs485-1", extra={"bus": "rs485-1", "unit": 4})
    line = json.loads(stream.getvalue())
    assert line["msg"] == "bus rs485-1 down" and line["bus"] == "rs485-1" and line["unit"] == 4
    assert line["level"] == "warning" and line["ts"].endswith("Z")


def test_clock_check_none_trusts_the_clock():
    from edge.readings.clock import adjtimex_synchronised, clock_synchronised

    assert clock_synchronised("none") is True
    assert adjtimex_synchronised() in (True, False, None)

"""Polling the real simulators over Modbus TCP and RTU on a pseudo-terminal."""

from __future__ import annotations

import time

import pytest

from edge.agent import EdgeAgent
from edge.config import load_config
from simulators.depot import SimulatedDepot
from tests.edge.depot_support import write_depot


@pytest.fixture
def rig(tmp_path):
    """(agent without uplink, simulated depot) on a fresh test depot file."""
    made = []

    def make(**overrides):
        path = write_depot(tmp_path, **overrides)
        cfg = load_config(path, environ={})
        sim = SimulatedDepot(cfg.depot, config_source=str(path))
        sim.start()
        agent = EdgeAgent(cfg, with_uplink=False, metrics_port=0)
        made.append((agent, sim))
        return agent, sim

    yield make
    for agent, sim in made:
        agent.stop()
        sim.stop()


def latest_temps(agent, granary):
    latest = agent.outbox.history_latest(granary)
    assert latest is not None, f"nothing recorded for {granary}"
    return latest.cables


def close_to(a, b):
    return all((x is None and y is None) or (x is not None and y is not None and abs(x - y) < 0.051)
               for x, y in zip(a, b, strict=True))


def test_readings_over_tcp_and_rtu_equal_the_model(rig):
    agent, sim = rig()
    sim.scan_all()
    tcp = agent.polling.poll_granary("P01", "tcp-1")
    rtu = agent.polling.poll_granary("P02", "rs485-1") + agent.polling.poll_granary("P03", "rs485-1")
    assert all(r.ok for r in tcp + rtu), [r.error for r in tcp + rtu]
    for granary in ("P01", "P02", "P03"):
        expected = sim.expected_grain(granary)
        got = latest_temps(agent, granary)
        assert sorted(got) == sorted(expected)
        for cable, temps in expected.items():
            assert close_to(got[cable], temps), (granary, cable, got[cable], temps)
    air = agent.polling.read_air("rs485-1")
    assert all(r.ok for r in air)
    assert agent.counters.failures() == {}


def test_dead_and_crc_slaves_never_stall_the_healthy_ones(rig):
    agent, sim = rig(backoff=3)
    sim.inject({"kind": "slave_silent", "bus": "rs485-1", "address": 4})
    sim.inject({"kind": "crc_corrupt", "bus": "rs485-1", "address": 3})
    durations = []
    for cycle in range(4):
        sim.scan_all()
        started = time.monotonic()
        p02 = {r.unit.address: r for r in agent.polling.poll_granary("P02", "rs485-1")}
        p03 = agent.polling.poll_granary("P03", "rs485-1")[0]
        air = {r.unit.address: r for r in agent.polling.read_air("rs485-1")}
        durations.append(time.monotonic() - started)
        assert p02[2].ok, f"cycle {cycle}: healthy unit 2 failed: {p02[2].error}"
        assert air[10].ok and air[11].ok and air[2].ok
        assert not p02[4].ok and not p03.ok
        got = latest_temps(agent, "P02")
        expected = sim.expected_grain("P02")
        for cable in range(1, 6):
            assert close_to(got[cable], expected[cable])
    crc = agent.counters.unit_total("rs485-1", 3, "crc")
    silent = agent.counters.unit_total("rs485-1", 4, "timeout")
    assert crc >= 2 and silent >= 2, agent.counters.failures()
    assert agent.counters.unit_total("rs485-1", 2) == 0
    # Backed off, the dead slaves cost the bus nothing on most cycles.
    assert min(durations) < 0.6, durations
    assert not agent.pollers["rs485-1"].ok
    sim.clear(kind="slave_silent")
    sim.clear(kind="crc_corrupt")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        results = agent.polling.poll_granary("P02", "rs485-1") + agent.polling.poll_granary("P03", "rs485-1")
        if all(r.ok for r in results):
            break
        time.sleep(0.5)
    assert all(r.ok for r in results), [r.error for r in results]
    assert agent.pollers["rs485-1"].ok


def test_exception_replies_are_counted_not_retried(rig):
    agent, sim = rig()
    sim.inject({"kind": "exception_reply", "bus": "tcp-1", "address": 1, "code": 6})
    result = agent.polling.poll_granary("P01", "tcp-1")[0]
    assert not result.ok and result.error == "分机 1：异常应答，异常码 6"  # the kind is in the counters
    assert agent.counters.unit_total("tcp-1", 1, "exception") == 1
    assert agent.counters.retries() == {}


def test_trigger_mode_waits_for_a_fresh_scan(tmp_path, rig):
    agent, sim = rig()
    unit = agent.pollers["tcp-1"].units[1]
    unit.unit = unit.unit.model_copy(update={"trigger_scan": True, "trigger_poll_s": 0.05,
                                             "trigger_timeout_s": 5})
    before = unit.read_header()[0].scan_counter
    reading = unit.read_cables()
    assert reading.header.scan_counter != before
    assert reading.header.scan_age_s <= 1

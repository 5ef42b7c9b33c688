"""A unit scan is published once, identified by the unit's scan counter: a re-poll of an
unchanged counter and an agent restart add nothing, although the unit's coarse scan age has
moved on by a second; a new counter is a new scan, and every grain entry carries its counter.
Real agent, real simulators (Modbus TCP and RTU on a pty)."""

from __future__ import annotations

import json
import time
from collections import Counter

from edge.agent import EdgeAgent
from edge.config import load_config
from simulators.depot import SimulatedDepot
from tests.edge.depot_support import write_depot


def telemetry(agent) -> list[dict]:
    rows = agent.outbox.db.execute("SELECT payload FROM outbox WHERE kind = 'telemetry' ORDER BY id").fetchall()
    return [entry for (payload,) in rows for entry in json.loads(payload)["grain"]]


def poll(agent) -> None:
    for granary, bus in (("P01", "tcp-1"), ("P02", "rs485-1")):
        results = agent.polling.poll_granary(granary, bus)
        assert results and all(r.ok for r in results), [r.error for r in results]


def test_restart_and_unchanged_counter_repoll_publish_no_duplicate_scan(tmp_path):
    path = write_depot(tmp_path)
    cfg = load_config(path, environ={})
    sim = SimulatedDepot(cfg.depot, config_source=str(path))
    sim.start()
    agent = EdgeAgent(cfg, with_uplink=False, metrics_port=0)
    try:
        sim.scan_all()
        poll(agent)
        first = telemetry(agent)
        assert len(first) == 10 + 9  # P01's 10 cables, P02's 5 + 4
        assert all(isinstance(e["scan_counter"], int) for e in first)
        time.sleep(1.2)  # the scan age register moves on a whole second
        poll(agent)
        assert telemetry(agent) == first
        agent.stop()
        agent = EdgeAgent(cfg, with_uplink=False, metrics_port=0)  # restart on the same database
        time.sleep(1.1)
        poll(agent)
        assert telemetry(agent) == first
        sim.scan_all()  # a new scan: new counters, new rows
        poll(agent)
        entries = telemetry(agent)
        assert len(entries) == 2 * len(first)
        per_scan = Counter((e["granary"], e["cable"], e["scan_counter"]) for e in entries)
        assert set(per_scan.values()) == {1}
        times = {(e["granary"], e["cable"], e["scan_counter"]): e["ts"] for e in entries}
        assert len({(g, c, ts) for (g, c, _), ts in times.items()}) == len(entries)
    finally:
        agent.stop()
        sim.stop()

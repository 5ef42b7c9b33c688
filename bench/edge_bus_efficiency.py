"""Bus efficiency of the edge poller: wire time ÷ actual time (goal ≥ 0.90).

Scans (1) one 312-point granary (78 cables × 4 layers, one lst1812 unit) and (2) a 20-granary
depot over Modbus RTU at 9600 baud against the simulator's wire-time emulation
(`grainlink sim depot` in its own process, pseudo-terminals). Wire time is what the requests
and replies made cost on the line (protocols.modbus.wire.read_wire_time_s); actual is the
wall-clock time the poller took.

    .venv/bin/python bench/edge_bus_efficiency.py [--rounds 3] [--buses 4]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.edge_depot import write_bench_depot  # noqa: E402
from edge.config import load_config  # noqa: E402
from edge.modbus.bus import BusPoller  # noqa: E402
from edge.modbus.counters import ErrorCounters  # noqa: E402
from protocols.modbus.wire import read_wire_time_s  # noqa: E402


def start_simulator(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "grainlink", "sim", "depot", "--config", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "ready":
            return proc
    raise RuntimeError(f"simulator did not start (exit {proc.wait()})")


class MeteredPoller:
    """A bus poller that adds up the wire time of every request it makes."""

    def __init__(self, cfg, bus):
        self.poller = BusPoller(cfg.depot, bus, ErrorCounters(), device=cfg.serial_device(bus))
        self.wire_s = 0.0
        self.busy_s = 0.0
        link = self.poller.link
        inner = link.read

        def read(address, function_code, start, count):
            values = inner(address, function_code, start, count)
            self.wire_s += read_wire_time_s(count, bus.baud, bus.parity, bus.stop_bits)
            return values

        link.read = read

    def scan_all(self, rounds: int) -> None:
        started = time.perf_counter()
        for _ in range(rounds):
            for unit in self.poller.bus.units:
                result = self.poller.poll(unit.address, "cables")
                if not result.ok:
                    raise RuntimeError(f"{self.poller.bus.name}/{unit.address}: {result.error}")
        self.busy_s += time.perf_counter() - started


def run(granaries: int, buses: int, rounds: int, folder: Path) -> tuple[float, float, float, int]:
    path = write_bench_depot(folder, granaries, buses, kind="serial")
    sim = start_simulator(path)
    try:
        cfg = load_config(path, environ={})
        pollers = [MeteredPoller(cfg, bus) for bus in cfg.depot.buses]
        for p in pollers:  # warm up: open the ports, first requests
            p.poller.poll(p.poller.bus.units[0].address, "cables")
            p.wire_s = p.busy_s = 0.0
        threads = [threading.Thread(target=p.scan_all, args=(rounds,)) for p in pollers]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        for p in pollers:
            p.poller.close()
        wire = sum(p.wire_s for p in pollers)
        busy = sum(p.busy_s for p in pollers)
        points = granaries * 312 * rounds
        return wire, busy, elapsed, points
    finally:
        sim.terminate()
        sim.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--buses", type=int, default=4, help="RS-485 buses of the 20-granary depot")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label, granaries, buses in (("312-point granary", 1, 1),
                                        (f"20-granary depot on {args.buses} buses", 20, args.buses)):
            wire, busy, elapsed, points = run(granaries, buses, args.rounds, Path(tmp) / label.split()[0])
            print(f"{label}: {points} points in {args.rounds} rounds; wire {wire:.2f}s, "
                  f"poller busy {busy:.2f}s, wall {elapsed:.2f}s; "
                  f"efficiency wire/actual = {wire / busy:.3f} (goal >= 0.90); "
                  f"{points / elapsed:.0f} points/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

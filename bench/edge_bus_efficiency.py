"""Bus efficiency of the edge poller against the physical limit (goal ≥ 0.95).

Scans (1) one 312-point granary (78 cables × 4 layers, one lst1812 unit) and (2) a 20-granary
depot over Modbus RTU at 9600 8N1 against the simulator's wire-time emulation (`grainlink sim
depot` in its own process, pseudo-terminals). The yardstick is the wire time of the MINIMAL
frames one unit scan needs, computed from the profile and the unit's layout alone (header +
temperature block in frames of 125 registers, 3.5-character gaps:
protocols.modbus.wire.minimal_scan_wire_time_s), never from the frames our planner chose;
efficiency = that minimum ÷ the measured time per unit scan. The wire time of the frames we
actually sent is printed beside it, to show what the plan costs and what the poller adds.

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
from protocols.modbus.wire import minimal_scan_wire_time_s, read_wire_time_s  # noqa: E402


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
        self.minimal_s = 0.0
        self.unit_scans = 0
        self.frames = 0
        self.registers = 0
        link = self.poller.link
        inner = link.read

        def read(address, function_code, start, count):
            values = inner(address, function_code, start, count)
            self.wire_s += read_wire_time_s(count, bus.baud, bus.parity, bus.stop_bits)
            self.frames += 1
            self.registers += count
            return values

        link.read = read

    def scan_all(self, rounds: int) -> None:
        started = time.perf_counter()
        for _ in range(rounds):
            for unit in self.poller.bus.units:
                result = self.poller.poll(unit.address, "cables")
                if not result.ok:
                    raise RuntimeError(f"{self.poller.bus.name}/{unit.address}: {result.error}")
                self.minimal_s += self.minimum(unit.address)
                self.unit_scans += 1
        self.busy_s += time.perf_counter() - started

    def minimum(self, address: int) -> float:
        """The physical limit of one scan of this unit: its profile and its layout (as the unit
        reports it), not the plan."""
        unit = self.poller.units[address]
        layout = unit.last_header
        bus = self.poller.bus
        return minimal_scan_wire_time_s(unit.profile, layout.cable_count, layout.stride,
                                        bus.baud, bus.parity, bus.stop_bits)

    def reset(self) -> None:
        self.wire_s = self.busy_s = self.minimal_s = 0.0
        self.unit_scans = self.frames = self.registers = 0


def run(granaries: int, buses: int, rounds: int, folder: Path) -> dict:
    path = write_bench_depot(folder, granaries, buses, kind="serial")
    sim = start_simulator(path)
    try:
        cfg = load_config(path, environ={})
        pollers = [MeteredPoller(cfg, bus) for bus in cfg.depot.buses]
        for p in pollers:  # warm up: open the ports, learn every unit's layout
            for unit in p.poller.bus.units:
                p.poller.poll(unit.address, "cables")
            p.reset()
        threads = [threading.Thread(target=p.scan_all, args=(rounds,)) for p in pollers]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        for p in pollers:
            p.poller.close()
        return {
            "wire": sum(p.wire_s for p in pollers), "busy": sum(p.busy_s for p in pollers),
            "minimal": sum(p.minimal_s for p in pollers), "elapsed": elapsed,
            "scans": sum(p.unit_scans for p in pollers), "frames": sum(p.frames for p in pollers),
            "registers": sum(p.registers for p in pollers), "points": granaries * 312 * rounds,
        }
    finally:
        sim.terminate()
        sim.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--buses", type=int, default=4, help="RS-485 buses of the 20-granary depot")
    args = ap.parse_args()
    cases = (("312-point granary (1 lst1812 unit)", 1, 1),
             (f"20-granary depot on {args.buses} buses", 20, args.buses))
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(g, b, args.rounds, Path(tmp) / f"case{i}") for i, (_, g, b) in enumerate(cases)]
    rows = [
        ("unit scans", lambda r: f"{r['scans']}"),
        ("frames per unit scan", lambda r: f"{r['frames'] / r['scans']:.2f}"),
        ("registers per unit scan", lambda r: f"{r['registers'] / r['scans']:.0f}"),
        ("minimal wire time per unit scan (s)", lambda r: f"{r['minimal'] / r['scans']:.3f}"),
        ("wire time of our frames per unit scan (s)", lambda r: f"{r['wire'] / r['scans']:.3f}"),
        ("measured time per unit scan (s)", lambda r: f"{r['busy'] / r['scans']:.3f}"),
        ("EFFICIENCY minimal / measured (goal >= 0.95)", lambda r: f"{r['minimal'] / r['busy']:.3f}"),
        ("our frames / measured", lambda r: f"{r['wire'] / r['busy']:.3f}"),
        ("points/s (wall clock)", lambda r: f"{r['points'] / r['elapsed']:.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"RTU 9600 8N1, {args.rounds} rounds".ljust(width) + "".join(f" | {c[0]:>36}" for c in cases))
    for name, cell in rows:
        print(name.ljust(width) + "".join(f" | {cell(r):>36}" for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

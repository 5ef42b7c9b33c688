"""What a dead unit costs its shared RS-485 bus, and how soon it is read again once it is back
(goals: ≤ 0.1 s per polling cycle on average once backed off; read again within one minute).

Two lst1812 units on one RTU bus at 9600 8N1 (the simulator's pty, wire time emulated, bus
defaults: 1 s timeout, 1 retry, backoff 5 s doubling to 45 s). Unit 2 is silent for `--cycles`
polling cycles of 10 s (a fake monotonic clock, so the backoff plays out in seconds), then comes
back; the cost is the real time spent asking it.

    .venv/bin/python bench/edge_dead_unit.py [--cycles 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.modbus.bus import BusPoller  # noqa: E402
from edge.modbus.counters import ErrorCounters  # noqa: E402
from protocols.depot.model import SerialBus, Unit  # noqa: E402
from protocols.modbus import codec  # noqa: E402
from protocols.modbus.profiles import LST1812  # noqa: E402
from simulators.modbus.device import read_map  # noqa: E402
from simulators.modbus.rtu_pty import LineSettings, RtuPtyServer  # noqa: E402
from tests.simulators.support import LoopThread  # noqa: E402

CYCLE_S = 10.0


class Unit1812:
    def __init__(self, state):
        self.regs = codec.encode_unit(LST1812, state)

    def read(self, function, start, count):
        return read_map(self.regs, function, (LST1812.function_code,), start, count)

    def write(self, start, values):
        return None


class Profiles:
    def profile(self, name):
        return LST1812


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=100)
    args = ap.parse_args()
    state = codec.UnitState(temps=[[10.0] * 4] * 4, scan_counter=1)
    devices = {1: Unit1812(state)}
    units = [Unit(address=a, profile="lst1812", granary="P01",
                  cables={"first_wire_cable": 1, "count": 4, "first_cable": 1 + 4 * (a - 1)}) for a in (1, 2)]
    now = [1000.0]
    with LoopThread() as lt, tempfile.TemporaryDirectory() as tmp:
        server = RtuPtyServer(devices, LineSettings(9600), link=Path(tmp) / "tty")
        lt.run(server.start())
        bus = SerialBus(name="rs485-1", kind="serial", device=server.path, units=units)
        poller = BusPoller(Profiles(), bus, ErrorCounters(), device=server.path, clock=lambda: now[0])
        try:
            costs, neighbour = [], []
            for _ in range(args.cycles):
                started = time.perf_counter()
                assert poller.poll(1, "cables").ok
                neighbour.append(time.perf_counter() - started)
                started = time.perf_counter()
                poller.poll(2, "cables")
                costs.append(time.perf_counter() - started)
                now[0] += CYCLE_S
            devices[2] = Unit1812(state)  # back
            back_at = now[0]
            while not poller.poll(2, "cables").ok:
                now[0] += CYCLE_S
            recovered_s = now[0] - back_at
        finally:
            poller.close()
            lt.run(server.stop())
    steady = costs[6:]  # the first minute pays the detection
    avg = sum(steady) / len(steady)
    print(f"dead unit, {args.cycles} cycles of {CYCLE_S:g} s: first minute {sum(costs[:6]):.2f} s in all, "
          f"then {avg:.3f} s per cycle on average (goal <= 0.1): ratio {avg / 0.1:.2f}")
    print(f"overall {sum(costs) / len(costs):.3f} s per cycle; its live neighbour's scan "
          f"{sum(neighbour) / len(neighbour):.3f} s")
    print(f"read again {recovered_s:.0f} s after it came back (goal <= 60): ratio {recovered_s / 60:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

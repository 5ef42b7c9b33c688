"""A dead unit on a shared RS-485 bus (RTU on a pty at 9600 8N1, wire time emulated): it costs
its bus little per polling cycle once backed off, and is read again within a minute of coming
back. Cycles are 10 s of a fake monotonic clock; the cost is real time spent asking it."""

from __future__ import annotations

import time

from edge.modbus.bus import BusPoller
from edge.modbus.counters import ErrorCounters
from protocols.depot.model import SerialBus, Unit
from protocols.modbus import codec
from protocols.modbus.profiles import LST1812
from simulators.modbus.rtu_pty import LineSettings, RtuPtyServer
from tests.edge.test_modbus_frames import CodecDevice, Profiles
from tests.simulators.support import LoopThread

CYCLE_S = 10.0


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_dead_unit_costs_little_per_cycle_and_is_read_again_within_a_minute(tmp_path):
    alive = CodecDevice(1, LST1812, codec.UnitState(temps=[[10.0] * 4] * 4, scan_counter=1))
    dead = CodecDevice(2, LST1812, codec.UnitState(temps=[[11.0] * 4] * 4, scan_counter=1))
    devices = {1: alive}  # unit 2 is wired but silent
    units = [Unit(address=a, profile="lst1812", granary="P01",
                  cables={"first_wire_cable": 1, "count": 4, "first_cable": 1 + 4 * (a - 1)}) for a in (1, 2)]
    with LoopThread() as lt:
        server = RtuPtyServer(devices, LineSettings(9600), link=tmp_path / "tty")
        lt.run(server.start())
        clock = FakeClock()
        bus = SerialBus(name="rs485-1", kind="serial", device=server.path, units=units)  # defaults: 1 s, 1 retry
        poller = BusPoller(Profiles(LST1812), bus, ErrorCounters(), device=server.path, clock=clock)
        try:
            costs = []
            for _ in range(100):
                assert poller.poll(1, "cables").ok
                started = time.perf_counter()
                result = poller.poll(2, "cables")
                costs.append(time.perf_counter() - started)
                assert not result.ok
                clock.now += CYCLE_S
            steady = costs[10:]  # once backed off (the first minute pays the detection)
            assert sum(steady) / len(steady) <= 0.1, (sum(steady) / len(steady), costs)
            assert sum(costs) / len(costs) <= 0.15
            assert poller.poll(1, "cables").ok  # its neighbour never noticed

            devices[2] = dead  # back
            back_at = clock.now
            while not poller.poll(2, "cables").ok:
                clock.now += CYCLE_S
                assert clock.now - back_at <= 60.0, "not read again within a minute"
            assert clock.now - back_at <= 60.0
            assert len(poller.poll(2, "cables").reading.cables) == 4
        finally:
            poller.close()
            lt.run(server.stop())

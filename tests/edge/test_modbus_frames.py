"""The edge poller against RTU slaves on a pseudo-terminal: the exact frames it puts on the
wire (layout read once, then header + temperatures), a vendor profile from its own file, and
a scan already committed is not read again."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.modbus.bus import BusPoller
from edge.modbus.counters import ErrorCounters
from protocols.depot.model import SerialBus, Unit
from protocols.modbus import codec
from protocols.modbus.profiles import LST1812, load_profiles_yaml
from simulators.modbus.device import read_map
from simulators.modbus.rtu_pty import LineSettings, RtuPtyServer
from tests.simulators.support import LoopThread

UMT8 = load_profiles_yaml(
    (Path(__file__).resolve().parents[2] / "examples" / "umt8.yaml").read_text(encoding="utf-8"), "umt8.yaml",
)["umt8"]


class CodecDevice:
    """A unit holding `state` in `profile`'s registers; logs every read (function, start, count)."""

    def __init__(self, address, profile, state):
        self.address = address
        self.profile = profile
        self.state = state
        self.reads: list[tuple[int, int, int]] = []

    def read(self, function, start, count):
        self.reads.append((function, start, count))
        return read_map(codec.encode_unit(self.profile, self.state), function,
                        (self.profile.function_code,), start, count)

    def write(self, start, values):
        return None

    def take(self):
        reads, self.reads = self.reads, []
        return [(start, count) for _, start, count in reads]


class Profiles:
    def __init__(self, *profiles):
        self.by_name = {p.name: p for p in profiles}

    def profile(self, name):
        return self.by_name[name]


@pytest.fixture
def rtu(tmp_path):
    made = []
    with LoopThread() as lt:
        def start(devices):
            server = RtuPtyServer({d.address: d for d in devices}, LineSettings(9600, wire_time=False),
                                  link=tmp_path / f"tty{len(made)}")
            lt.run(server.start())
            made.append(server)
            return server
        yield start
        for server in made:
            lt.run(server.stop())


def poller_for(server, units, profiles, **kw):
    bus = SerialBus(name="rs485-1", kind="serial", device=server.path, timeout_s=0.5, retries=0, units=units)
    return BusPoller(Profiles(*profiles), bus, ErrorCounters(), device=server.path, **kw)


def granary_unit(address=1, count=78, profile="lst1812"):
    return Unit(address=address, profile=profile, granary="P01", cables={"first_wire_cable": 1, "count": count})


def test_lst1812_reads_the_layout_once_then_the_minimal_four_frames(rtu):
    state = codec.UnitState(temps=[[12.5] * 4] * 78, indoor=(18.0, 60.0), scan_counter=7)
    device = CodecDevice(1, LST1812, state)
    poller = poller_for(rtu([device]), [granary_unit()], [LST1812])
    try:
        first = poller.poll(1, "cables")
        assert first.ok and len(first.reading.cables) == 78
        assert device.take() == [(0, 94), (100, 125), (225, 125), (350, 62)]
        state.scan_counter = 8
        again = poller.poll(1, "cables")
        assert again.ok and again.reading.cables[77].temps_c == [12.5] * 4
        assert device.take() == [(0, 12), (100, 125), (225, 125), (350, 62)]
        # a status change may mean another wiring: the counts are read again, alone
        state.self_test_fault = True
        state.temps = [[12.5] * 3] * 78
        changed = poller.poll(1, "cables")
        assert changed.ok and changed.reading.cables[0].temps_c == [12.5] * 3
        assert device.take()[:2] == [(0, 12), (16, 78)]
    finally:
        poller.close()


def test_a_vendor_profile_file_reads_one_count_register_and_an_in_range_error_code(rtu):
    temps = [[20.0] * 10 for _ in range(12)]
    temps[3][5] = codec.FAULT  # the profile's first fault code, 0xF4F4
    state = codec.UnitState(temps=temps, indoor=(19.0, 55.0), scan_counter=1)
    device = CodecDevice(5, UMT8, state)
    server = rtu([device])
    poller = poller_for(server, [granary_unit(5, 12, "umt8")], [UMT8])
    try:
        assert poller.poll(5, "cables").ok
        assert {function for function, _, _ in device.reads} == {4}
        assert device.take() == [(1, 9), (40, 122), (168, 58)]
        # the unit writes 0xFFFF (-0.0625 °C, inside the valid range) for a sensor that stopped
        regs = codec.encode_unit(UMT8, state)
        regs[UMT8.temp_address(2, 7, 16)] = 0xFFFF
        device.read = lambda function, start, count: read_map(regs, function, (4,), start, count)
        state.scan_counter = 2
        cables = poller.poll(5, "cables").reading.cables
        assert cables[1].temps_c[7] is None and cables[1].faults == [8]
        assert cables[3].faults == [6] and cables[0].temps_c == [20.0] * 10
    finally:
        poller.close()


def test_a_committed_scan_counter_is_not_read_again(rtu):
    state = codec.UnitState(temps=[[15.0] * 4] * 10, scan_counter=41, scan_age_s=3)
    device = CodecDevice(1, LST1812, state)
    committed = set()
    poller = poller_for(rtu([device]), [granary_unit(count=10)], [LST1812],
                        committed=lambda bus, unit, counter: (bus, unit, counter) in committed)
    try:
        first = poller.poll(1, "cables")
        assert first.scan_counter == 41 and not first.repeated and len(first.reading.cables) == 10
        committed.add(("rs485-1", 1, 41))
        device.take()
        again = poller.poll(1, "cables")
        assert again.repeated and again.reading.cables == [] and again.scan_counter == 41
        assert device.take() == [(0, 12)]  # the header only
        state.scan_counter = 42
        fresh = poller.poll(1, "cables")
        assert not fresh.repeated and len(fresh.reading.cables) == 10
        assert device.take() == [(0, 12), (100, 40)]
    finally:
        poller.close()

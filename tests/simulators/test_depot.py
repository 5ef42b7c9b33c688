"""The whole simulated depot from examples/depot.yaml: TCP and RTU units read by plain
pymodbus clients decode to what the model holds; scenarios show up in the registers."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from simulators.depot import SimulatedDepot
from simulators.grainpile.clock import FrozenClock
from simulators.load import parse_sim_depot
from tests.simulators.contract_reader import ABSENT, FAULT, read_lst1812, s16

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "depot.yaml"
START = datetime(2026, 11, 1, tzinfo=UTC)


def depot_text(tmp_path: Path, **simulation) -> str:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    sim = data["simulation"]
    sim.update(tcp_ports={"tcp-1": 0}, serial_links={"rs485-1": str(tmp_path / "ttyRS485-1")},
               unit_scan_every_s=0, scan_duration_s=0.2, scenarios=[])
    sim.update(simulation)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="module")
def depot(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("simdepot")
    path = tmp / "depot.yaml"
    path.write_text(depot_text(tmp), encoding="utf-8")
    config, settings = parse_sim_depot(path.read_text(encoding="utf-8"), str(path))
    sim = SimulatedDepot(config, settings, config_source=str(path), clock=FrozenClock(START))
    sim.start()
    yield sim
    sim.stop()
    assert not (tmp / "ttyRS485-1").exists()


@pytest.fixture
def tcp(depot):
    host, port = depot.endpoint("tcp-1").where.split(":")
    client = ModbusTcpClient(host, port=int(port), timeout=1, retries=0)
    assert client.connect()
    yield client
    client.close()


@pytest.fixture
def rtu(depot):
    client = ModbusSerialClient(depot.endpoint("rs485-1").link, baudrate=9600, timeout=0.5,
                                retries=0)
    assert client.connect()
    yield client
    client.close()


def reader(client, unit):
    def read(address, count):
        reply = client.read_holding_registers(address, count=count, device_id=unit)
        assert not reply.isError(), reply
        return reply.registers
    return read


def test_endpoint_lines(depot):
    lines = [e.line() for e in depot.endpoints]
    assert len(lines) == 5
    assert lines[0].startswith("设备 tcp-1/1 lst1812 监听 tcp 127.0.0.1:")
    assert any(line.startswith("设备 rs485-1/10 th485 监听 pty /dev/pts/")
               and line.endswith("ttyRS485-1）") for line in lines)


def test_tcp_unit_decodes_to_the_model(depot, tcp):
    depot.scan_all()
    got = read_lst1812(reader(tcp, 1))
    expected = depot.expected_grain("P01")
    assert got["version"] == 0x0101 and got["cable_count"] == 78 and got["stride"] == 4
    assert got["cables"] == expected
    assert len(expected) == 78 and all(len(v) == 4 for v in expected.values())
    # and the model's physical temperatures, to the register's resolution
    model = depot.model_grain("P01")
    assert all(abs(got["cables"][c][i] - model[c][i]) <= 0.051
               for c in model for i in range(4) if got["cables"][c][i] is not None)
    indoor_t, indoor_rh = depot.world.indoor_air("P01")
    assert got["status"] & 0b110 == 0b010          # indoor sensor present, outdoor not
    assert got["indoor"] == pytest.approx((indoor_t, indoor_rh), abs=0.051)
    assert got["outdoor"] is None


def test_rtu_unit_decodes_to_the_model(depot, rtu):
    depot.scan_all()
    got = read_lst1812(reader(rtu, 2))
    assert got["cable_count"] == 9 and got["stride"] == 6
    assert got["cables"] == depot.expected_grain("P02")
    assert 5 < got["cables"][5][5] < 30


def test_th485_transmitters(depot, rtu):
    outdoor = rtu.read_holding_registers(0, count=2, device_id=11).registers
    t, rh = depot.world.outdoor_air()
    assert s16(outdoor[1]) / 10 == pytest.approx(t, abs=0.051)
    assert outdoor[0] / 10 == pytest.approx(rh, abs=0.051)
    indoor = rtu.read_holding_registers(0, count=2, device_id=10).registers
    t, rh = depot.world.indoor_air("P03")
    assert s16(indoor[1]) / 10 == pytest.approx(t, abs=0.051)


def test_command_register_starts_a_scan(depot, tcp):
    before = read_lst1812(reader(tcp, 1))["scan_counter"]
    assert not tcp.write_register(6, 1, device_id=1).isError()
    during = read_lst1812(reader(tcp, 1))
    assert during["status"] & 1 and during["scan_counter"] == before and during["command"] == 0
    time.sleep(0.25)
    after = read_lst1812(reader(tcp, 1))
    assert not after["status"] & 1 and after["scan_counter"] == (before + 1) & 0xFFFF
    bad = tcp.write_register(6, 7, device_id=1)
    assert bad.isError() and bad.exception_code == 3


def test_hotspot_shows_where_it_was_put(depot, tcp):
    sid = depot.inject({"kind": "hotspot", "granary": "P01", "cable": 40, "layer": 3,
                        "rate_c_per_day": 6.0})
    try:
        depot.clock.advance(2 * 86400)
        depot.scan_all()
        cables = read_lst1812(reader(tcp, 1))["cables"]
        pile = depot.world.piles["P01"]
        without = pile.temperatures(depot.world.now_t())     # the same pile, no hot spot
        assert cables[40][2] - without[40][2] == pytest.approx(12.0, abs=0.06)  # 2 d x 6 °C
        assert cables[41][2] - without[41][2] == pytest.approx(3.6, abs=0.06)   # neighbour
        assert cables[40][1] - without[40][1] == pytest.approx(3.6, abs=0.06)   # layer above
        assert cables[1][2] == pytest.approx(without[1][2], abs=0.051)          # far away
    finally:
        depot.clear(sid)


def test_sensor_faults_and_missing_cable_in_registers(depot, tcp):
    ids = [depot.inject({"kind": "sensor_fault", "granary": "P01", "cable": 3, "layer": n,
                         "fault": f}) for n, f in ((1, "open"), (2, "short"), (3, "power_on"))]
    ids.append(depot.inject({"kind": "cable_missing", "granary": "P01", "cable": 7}))
    try:
        depot.scan_all()
        got = read_lst1812(reader(tcp, 1))
        raw = got["raw"]
        stride = got["stride"]
        base = 100 + 2 * stride                       # wire cable 3 → c = 2
        assert raw[base] == FAULT
        assert s16(raw[base + 1]) == -1270            # shorted: out of range
        assert raw[base + 2] == 850                   # exactly 85.0: the power-on value
        assert got["cables"][3] == [None, None, None, got["cables"][3][3]]
        assert raw[16 + 6] == 0                       # cable 7 vanished
        assert all(raw[100 + 6 * stride + s] == ABSENT for s in range(stride))
        assert depot.expected_grain("P01")[3][:3] == [None, None, None]
    finally:
        for sid in ids:
            depot.clear(sid)


def test_dead_rtu_slave_times_out_while_the_others_answer(depot, rtu):
    sid = depot.inject({"kind": "slave_silent", "bus": "rs485-1", "address": 2})
    try:
        with pytest.raises(ModbusIOException):
            rtu.read_holding_registers(0, count=4, device_id=2)
        assert not rtu.read_holding_registers(0, count=2, device_id=11).isError()
    finally:
        depot.clear(sid)
    assert not rtu.read_holding_registers(0, count=4, device_id=2).isError()


def test_crc_corruption_and_exception_on_rtu(depot, rtu):
    sid = depot.inject({"kind": "crc_corrupt", "bus": "rs485-1", "address": 3})
    try:
        with pytest.raises(ModbusIOException):
            rtu.read_holding_registers(0, count=4, device_id=3)
    finally:
        depot.clear(sid)
    sid = depot.inject({"kind": "exception_reply", "bus": "rs485-1", "address": 3, "code": 4})
    try:
        reply = rtu.read_holding_registers(0, count=4, device_id=3)
        assert reply.isError() and reply.exception_code == 4
    finally:
        depot.clear(sid)


def test_self_test_fault_cleared_by_command_2(depot, tcp):
    sid = depot.inject({"kind": "self_test_fault", "bus": "tcp-1", "address": 1})
    try:
        assert read_lst1812(reader(tcp, 1))["status"] & 0b1000
        depot.clock.advance(1)
        assert not tcp.write_register(6, 2, device_id=1).isError()
        assert not read_lst1812(reader(tcp, 1))["status"] & 0b1000
    finally:
        depot.clear(sid)


def test_silo8x8_unit_speaks_its_own_layout(depot, rtu):
    depot.scan_all()
    regs = rtu.read_holding_registers(22, count=64, device_id=3).registers
    expected = depot.expected_grain("P03")
    for cable in (1, 2):
        got = [s16(regs[8 * (cable - 1) + s]) * 0.0625 for s in range(8)]
        assert got == pytest.approx(expected[cable], abs=0.0051)
    assert set(regs[16:]) == {0xF4F4}            # cables 3..8 are not wired


def test_unit_named_as_outdoor_source_carries_an_outdoor_sensor(tmp_path):
    data = yaml.safe_load(depot_text(tmp_path))
    data["buses"][1]["units"] = [u for u in data["buses"][1]["units"] if u["address"] != 11]
    data["air"].append({"place": "outdoor", "source": "unit", "bus": "tcp-1", "address": 1})
    config, settings = parse_sim_depot(yaml.safe_dump(data, allow_unicode=True), "d.yaml")
    with SimulatedDepot(config, settings, config_source=str(tmp_path / "d.yaml"),
                        clock=FrozenClock(START)) as sim:
        host, port = sim.endpoint("tcp-1").where.split(":")
        client = ModbusTcpClient(host, port=int(port), timeout=1, retries=0)
        assert client.connect()
        got = read_lst1812(reader(client, 1))
        client.close()
    assert got["status"] & 0b110 == 0b110
    assert got["outdoor"] == pytest.approx(sim.world.outdoor_air(), abs=0.051)

"""Modbus TCP slaves (pymodbus server over our devices), read by a plain ModbusTcpClient."""

from __future__ import annotations

import time

import pytest
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from simulators.grainpile.scenarios import ScenarioBook, parse_scenario
from simulators.modbus.device import FaultGate, StaticDevice
from simulators.modbus.tcp import TcpSlaves
from tests.simulators.support import LoopThread


@pytest.fixture
def tcp():
    book = ScenarioBook()
    devices = {1: StaticDevice(1, {i: 500 + i for i in range(150)}),
               4: StaticDevice(4, {0: 7, 1: 8})}
    with LoopThread() as lt:
        server = lt.run(TcpSlaves(devices, gate=FaultGate("tcp-x", book, time.time)).start())
        client = ModbusTcpClient("127.0.0.1", port=server.port, timeout=0.3, retries=0)
        assert client.connect()
        yield client, book, devices
        client.close()
        lt.run(server.stop())


def test_reads_by_unit_id_and_limits(tcp):
    client, _book, _devices = tcp
    assert client.read_holding_registers(0, count=125, device_id=1).registers == \
        [500 + i for i in range(125)]
    assert client.read_holding_registers(0, count=2, device_id=4).registers == [7, 8]
    past_end = client.read_holding_registers(1, count=5, device_id=4)
    assert past_end.isError() and past_end.exception_code == 2


def test_write_is_echoed_and_reaches_the_device(tcp):
    client, _book, devices = tcp
    reply = client.write_register(6, 1, device_id=1)
    assert not reply.isError() and reply.registers == [1]
    assert devices[1].writes == [(6, [1])]


def test_silent_unit_times_out_others_answer_exception_replies(tcp):
    client, book, _devices = tcp
    silent = book.add(parse_scenario({"kind": "slave_silent", "bus": "tcp-x", "address": 4}), 0)
    with pytest.raises(ModbusIOException):
        client.read_holding_registers(0, count=2, device_id=4)
    with pytest.raises(ModbusIOException):
        client.read_holding_registers(0, count=2, device_id=99)    # nobody there
    client.close()
    assert client.connect()     # pymodbus drops the socket after a timeout
    assert client.read_holding_registers(0, count=1, device_id=1).registers == [500]
    book.remove(silent)
    book.add(parse_scenario({"kind": "exception_reply", "bus": "tcp-x", "address": 4,
                             "code": 4}), 0)
    refused = client.read_holding_registers(0, count=2, device_id=4)
    assert refused.isError() and refused.exception_code == 4
    refused_write = client.write_register(0, 3, device_id=4)
    assert refused_write.isError() and refused_write.exception_code == 4

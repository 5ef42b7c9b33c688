"""The edge's own Modbus transports under BusLink, over real bytes: RTU on a pseudo-terminal
with a slave written by hand here (so a reply can be late, short, garbled or followed by junk),
and Modbus TCP against the simulators' pymodbus server (an independent peer) and a raw socket
that answers late."""

from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from edge.modbus.counters import ErrorCounters
from edge.modbus.link import BusLink, ReadFailure
from protocols.depot.model import TcpBus
from protocols.modbus import codec
from protocols.modbus.crc import with_crc
from protocols.modbus.profiles import LST1812
from protocols.modbus.wire import silent_time_s
from simulators.modbus import rtu_frame
from simulators.modbus.tcp import TcpSlaves
from tests.edge.pty_slave import registers_of, rtu_link
from tests.edge.test_modbus_frames import CodecDevice
from tests.simulators.support import LoopThread


def test_a_reply_is_taken_at_once_and_the_next_request_waits_the_inter_frame_gap(pty_slave):
    slave = pty_slave(lambda req: [(0, rtu_frame.read_reply(req.address, req.function, registers_of(req)))])
    link = rtu_link(slave.path, baud=1200, timeout_s=1.0)  # 1200 baud: the 3.5-character gap is 29 ms
    try:
        started = time.monotonic()
        assert link.read(7, 3, 100, 10) == list(range(100, 110))
        assert time.monotonic() - started < 0.3  # not a silence or a timeout later
        assert link.read(7, 4, 5, 2) == [5, 6]
        gap = slave.requests[1][0] - slave.writes[0][0]
        assert gap >= 0.95 * silent_time_s(1200), gap
    finally:
        link.close()


def test_bytes_left_on_the_line_are_dropped_before_the_next_request(pty_slave):
    def respond(req):
        # the answer, then a late duplicate carrying other values (a slave answering twice)
        return [(0, rtu_frame.read_reply(req.address, req.function, registers_of(req))),
                (0.03, rtu_frame.read_reply(req.address, req.function, registers_of(req, 1000)))]

    slave = pty_slave(respond)
    link = rtu_link(slave.path)
    try:
        assert link.read(1, 3, 0, 4) == [0, 1, 2, 3]
        time.sleep(0.1)  # the duplicate is in
        assert link.read(1, 3, 10, 4) == [10, 11, 12, 13]
        assert len(slave.requests) == 2
    finally:
        link.close()


def test_a_garbled_reply_is_a_crc_error_naming_the_bus_and_unit_and_is_retried(pty_slave):
    def respond(req):
        reply = bytearray(rtu_frame.read_reply(req.address, req.function, registers_of(req)))
        if len(slave.requests) == 1:
            reply[4] ^= 0x10
        return [(0, bytes(reply))]

    slave = pty_slave(respond)
    link = rtu_link(slave.path, retries=1)
    try:
        assert link.read(7, 3, 0, 3) == [0, 1, 2]  # the retry got a clean reply
        assert link.counters.failures() == {("rs485-9", 7, "crc"): 1}
        assert link.counters.retries() == {("rs485-9", 7): 1}
        link.bus = link.bus.model_copy(update={"retries": 0})
        slave.requests.clear()
        with pytest.raises(ReadFailure) as failure:
            link.read(7, 3, 0, 3)
        assert failure.value.kind == "crc"
        assert str(failure.value) == "分机 7：应答 CRC 校验错误" and "rs485-9" not in str(failure.value)
    finally:
        link.close()


def test_a_short_reply_is_partial_once_the_timeout_is_over(pty_slave):
    slave = pty_slave(lambda req: [(0, rtu_frame.read_reply(req.address, req.function, registers_of(req))[:-3])])
    link = rtu_link(slave.path, timeout_s=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(ReadFailure) as failure:
            link.read(3, 3, 0, 20)
        assert failure.value.kind == "partial" and time.monotonic() - started >= 0.29
        assert str(failure.value).startswith("分机 3：") and "rs485-9" not in str(failure.value)
    finally:
        link.close()


def test_silence_is_a_timeout_and_an_exception_reply_is_not_asked_again(pty_slave):
    def respond(req):
        if req.address == 2:
            return []
        return [(0, rtu_frame.exception_reply(req.address, req.function, 2))]

    slave = pty_slave(respond)
    link = rtu_link(slave.path, timeout_s=0.2, retries=2)
    try:
        with pytest.raises(ReadFailure) as failure:
            link.read(2, 3, 0, 1)
        assert failure.value.kind == "timeout" and str(failure.value) == "分机 2：0.2 秒内无应答"
        assert len(slave.requests) == 3
        with pytest.raises(ReadFailure) as failure:
            link.read(5, 3, 0, 1)
        assert failure.value.kind == "exception" and "异常码 2" in failure.value.detail
        assert len(slave.requests) == 4
    finally:
        link.close()


def test_a_probe_waits_less_than_the_timeout_and_is_not_retried(pty_slave):
    slave = pty_slave(lambda req: [])
    link = rtu_link(slave.path, timeout_s=1.0, retries=3)
    try:
        started = time.monotonic()
        with link.probing(0.1), pytest.raises(ReadFailure):
            link.read(4, 3, 0, 1)
        assert time.monotonic() - started < 0.5 and len(slave.requests) == 1
    finally:
        link.close()


def test_write_single_register_expects_its_echo(pty_slave):
    slave = pty_slave(lambda req: [(0, rtu_frame.write_single_reply(req.address, req.start, req.values[0]))])
    link = rtu_link(slave.path)
    try:
        link.write(1, 6, 1)
        assert slave.requests[0][1] == with_crc(struct.pack(">BBHH", 1, 6, 6, 1))
    finally:
        link.close()


def test_a_missing_port_is_an_io_failure():
    link = rtu_link("/nonexistent/ttyUSB9")
    with pytest.raises(ReadFailure) as failure:
        link.read(1, 3, 0, 1)
    assert failure.value.kind == "io" and failure.value.detail.startswith("无法打开串口 /nonexistent/ttyUSB9：")


# --- Modbus TCP -------------------------------------------------------------------------------

class Gate:
    """The simulators' fault gate, scripted: address → fault."""

    def __init__(self):
        self.faults: dict[int, tuple[str, int]] = {}

    def decide(self, address):
        return self.faults.get(address)


def tcp_link(port, timeout_s=0.5, retries=0):
    bus = TcpBus(name="tcp-9", kind="tcp", host="127.0.0.1", port=port, timeout_s=timeout_s, retries=retries)
    return BusLink(bus, ErrorCounters())


def test_tcp_reads_through_the_pymodbus_server_and_a_silent_unit_keeps_the_connection():
    state = codec.UnitState(temps=[[10.0] * 4] * 4, scan_counter=9)
    devices = {1: CodecDevice(1, LST1812, state), 2: CodecDevice(2, LST1812, state)}
    gate = Gate()
    with LoopThread() as lt:
        server = lt.run(TcpSlaves(devices, gate=gate).start())
        link = tcp_link(server.port)
        try:
            expected = devices[1].read(3, 0, 12)
            assert link.read(1, 3, 0, 12) == expected
            sock = link.line._sock
            gate.faults[2] = ("silent", 0)
            with pytest.raises(ReadFailure) as failure:
                link.read(2, 3, 0, 12)
            assert failure.value.kind == "timeout" and str(failure.value) == "分机 2：0.5 秒内无应答"
            assert link.read(1, 3, 0, 12) == expected and link.line._sock is sock
            gate.faults[2] = ("exception", 4)
            with pytest.raises(ReadFailure) as failure:
                link.read(2, 3, 0, 12)
            assert failure.value.kind == "exception" and "异常码 4" in failure.value.detail
            del gate.faults[2]
            link.write(2, 6, 1)  # the server echoes the write
        finally:
            link.close()
            lt.run(server.stop())


def test_tcp_reconnects_when_the_gateway_comes_back():
    state = codec.UnitState(temps=[[10.0] * 4] * 4, scan_counter=9)
    devices = {1: CodecDevice(1, LST1812, state)}
    with LoopThread() as lt:
        server = lt.run(TcpSlaves(devices).start())
        link = tcp_link(server.port)
        try:
            assert link.read(1, 3, 0, 2)
            lt.run(server.stop())
            with pytest.raises(ReadFailure) as failure:
                link.read(1, 3, 0, 2)
            assert failure.value.kind in ("io", "timeout")
            server = lt.run(TcpSlaves(devices, port=server.port).start())
            deadline = time.monotonic() + 5
            while True:
                try:
                    assert link.read(1, 3, 0, 2)
                    break
                except ReadFailure:
                    assert time.monotonic() < deadline, "not reconnected within 5 s"
                    time.sleep(0.2)
        finally:
            link.close()
            lt.run(server.stop())


def test_a_late_tcp_reply_is_never_taken_for_the_next_answer():
    """A gateway answers the first request after the link gave up on it; the late reply must
    not be read as the answer to the second request."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        with conn:
            for n in range(2):
                head = conn.recv(12)
                tid, _, _, unit, function, start, count = struct.unpack(">HHHBBHH", head)
                body = struct.pack(">BB", function, 2 * count) + struct.pack(f">{count}H", *[n * 100 + start] * count)
                reply = struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body
                if n == 0:
                    time.sleep(0.4)  # after the link's 0.2 s timeout, before its next request is answered
                conn.sendall(reply)
            time.sleep(0.5)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    link = tcp_link(port, timeout_s=0.2)
    try:
        with pytest.raises(ReadFailure) as failure:
            link.read(1, 3, 7, 2)
        assert failure.value.kind == "timeout"
        time.sleep(0.1)  # the second request goes out while the late reply is still on its way
        assert link.read(1, 3, 8, 2) == [108, 108]
    finally:
        link.close()
        thread.join(2)
        listener.close()


def test_a_tcp_reply_cut_short_is_partial_and_the_next_request_gets_a_new_connection():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    connections = []

    def serve():
        for n in range(2):
            conn, _ = listener.accept()
            connections.append(conn)
            tid, _, _, unit, function, start, count = struct.unpack(">HHHBBHH", conn.recv(12))
            body = struct.pack(">BB", function, 2 * count) + struct.pack(f">{count}H", *[start] * count)
            reply = struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body
            conn.sendall(reply[:9] if n == 0 else reply)  # the first reply stops half way

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    link = tcp_link(port, timeout_s=0.2)
    try:
        with pytest.raises(ReadFailure) as failure:
            link.read(1, 3, 7, 4)
        assert failure.value.kind == "partial" and str(failure.value).startswith("分机 1：")
        time.sleep(1.0)  # the link reconnects at most once a second
        assert link.read(1, 3, 9, 2) == [9, 9]
        assert len(connections) == 2
    finally:
        link.close()
        thread.join(2)
        for conn in connections:
            conn.close()
        listener.close()

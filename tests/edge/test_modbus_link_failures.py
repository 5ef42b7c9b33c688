"""How a bus's failures read and what they cost (issue 19): a line that cannot be opened says
why, retries are not spent while the link waits to reopen it, a unit's failure reads
"分机 N：…" in Chinese without the bus, and a byte that arrives during the inter-frame gap is
not taken for the head of the next reply. Real ptys and sockets."""

from __future__ import annotations

import errno
import os
import socket
import time
import tty

import pytest
import serial

from edge.modbus.bus import BusPoller, decode_error
from edge.modbus.counters import ErrorCounters
from edge.modbus.frames import read_request
from edge.modbus.link import BusLink, ReadFailure, open_reason
from edge.modbus.serial_line import SerialLine
from protocols.depot.model import SerialBus, TcpBus, Unit
from protocols.modbus.profiles import LST1812
from simulators.modbus import rtu_frame
from tests.edge.pty_slave import registers_of, rtu_link
from tests.edge.test_modbus_frames import Profiles


@pytest.mark.parametrize("exc, serial_bus, expected", [
    (serial.SerialException(errno.ENOENT, "could not open port /dev/ttyUSB0"), True, "设备不存在"),
    (serial.SerialException(errno.EAGAIN, "Could not exclusively lock port"), True, "设备忙"),
    (serial.SerialException(errno.EACCES, "Permission denied"), True, "没有权限"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), False, "连接被拒绝"),
    (OSError(errno.ENOENT, "No such file"), False, "文件不存在"),  # not a device: the general reason
])
def test_open_reason(exc, serial_bus, expected):
    assert open_reason(exc, serial_bus).startswith(expected)


def test_a_missing_port_says_why_and_spends_no_retries_while_the_reopen_waits():
    link = rtu_link("/nonexistent/ttyUSB9", retries=2)
    started = time.monotonic()
    with pytest.raises(ReadFailure) as failure:
        link.read(1, 3, 0, 1)
    assert failure.value.kind == "io"
    assert failure.value.detail.startswith("无法打开串口 /nonexistent/ttyUSB9：设备不存在")
    # the retries would fail at once without a try to open: they are skipped, not counted
    assert link.counters.retries() == {} and link.counters.failures() == {("rs485-9", 1, "io"): 1}
    with pytest.raises(ReadFailure) as again:  # within the pause: the reason of the last try
        link.read(2, 3, 0, 1)
    assert again.value.detail == failure.value.detail and str(again.value).startswith("分机 2：无法打开")
    assert time.monotonic() - started < 0.5


def test_a_port_held_by_another_program_is_busy():
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    holder = serial.serial_for_url(path, timeout=0, exclusive=True)
    link = rtu_link(path)
    try:
        with pytest.raises(ReadFailure) as failure:
            link.read(1, 3, 0, 1)
        assert failure.value.detail.startswith(f"无法打开串口 {path}：设备忙")
    finally:
        link.close()
        holder.close()
        os.close(master)
        os.close(slave)


def test_a_refused_gateway_says_so():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again: nothing listens there
    link = BusLink(TcpBus(name="tcp-9", kind="tcp", host="127.0.0.1", port=port, timeout_s=0.5, retries=1),
                   ErrorCounters())
    with pytest.raises(ReadFailure) as failure:
        link.read(3, 3, 0, 1)
    assert str(failure.value) == f"分机 3：无法连接网关 127.0.0.1:{port}：连接被拒绝（端口未开放或服务未运行）"
    assert link.counters.retries() == {}


def test_after_the_pause_the_link_tries_to_open_again(tmp_path):
    path = tmp_path / "ttyX"  # a device that appears: the pause must not keep the link shut
    link = rtu_link(str(path))
    with pytest.raises(ReadFailure):
        link.read(1, 3, 0, 1)
    master, slave = os.openpty()
    tty.setraw(slave)
    os.symlink(os.ttyname(slave), path)
    try:
        time.sleep(1.05)
        with pytest.raises(ReadFailure) as failure:  # opens now; nobody answers on the pty
            link.read(1, 3, 0, 1)
        assert failure.value.kind == "timeout" and link.line.is_open
    finally:
        link.close()
        os.close(master)
        os.close(slave)


def _poller(path: str, timeout_s: float = 0.2) -> BusPoller:
    units = [Unit(address=a, profile="lst1812", granary="P01",
                  cables={"first_wire_cable": 1, "count": 4, "first_cable": 1 + 4 * (a - 1)}) for a in (1, 2)]
    bus = SerialBus(name="rs485-3", kind="serial", device=path, units=units, timeout_s=timeout_s, retries=0)
    return BusPoller(Profiles(LST1812), bus, ErrorCounters(), device=path)


def test_a_units_last_error_is_chinese_and_names_the_unit_not_the_bus(pty_slave):
    slave = pty_slave(lambda req: [])  # everyone silent
    poller = _poller(slave.path)
    try:
        result = poller.poll(2, "cables")
        assert not result.ok
        assert poller.health.last_error == result.error == "分机 2：0.2 秒内无应答"
    finally:
        poller.close()
    poller = _poller("/nonexistent/ttyUSB7")
    try:
        poller.poll(1, "cables")
        assert poller.health.last_error.startswith("分机 1：无法打开串口 /nonexistent/ttyUSB7：设备不存在")
        assert "rs485-3" not in poller.health.last_error and "io" not in poller.health.last_error
        assert poller.poll(1, "cables").error == "分机 1：连续失败，暂不询问"  # backed off
    finally:
        poller.close()


def test_a_decoder_surprise_reads_like_the_other_failures():
    assert decode_error(4, ValueError("stride 0")) == "分机 4：应答无法按寄存器配置解读（stride 0）"


def test_a_byte_arriving_during_the_inter_frame_gap_is_not_the_head_of_the_next_reply(pty_slave):
    def respond(req):
        reply = rtu_frame.read_reply(req.address, req.function, registers_of(req))
        if req.start == 0:  # line noise 0.15 s after the first reply: inside the next request's gap
            return [(0, reply), (0.15, b"\x55")]
        return [(0, reply)]

    slave = pty_slave(respond)
    line = SerialLine(slave.path, 9600)
    line.gap_s = 0.4  # a long gap, so the stray byte surely lands in it on a loaded machine
    line.open()
    try:
        assert line.transact(read_request(5, 3, 0, 2), 0.5) == [0, 1]
        # the second request waits out the gap, during which the stray byte comes in
        assert line.transact(read_request(5, 3, 10, 2), 0.5) == [10, 11]
        noise_at = slave.writes[1][0]
        assert slave.writes[1][1] == b"\x55" and slave.requests[1][0] > noise_at
    finally:
        line.close()

"""Connection and device failures in Chinese: the reasons a camera's or a bus's last error
carries to central's pages. Pure mapping first, then a Modbus TCP gateway that resets the
connection for real."""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
import struct
import threading

import pytest

from edge.modbus.counters import ErrorCounters
from edge.modbus.link import BusLink, ReadFailure
from edge.net_reasons import NET_REASONS, net_reason
from protocols.depot.model import TcpBus


@pytest.mark.parametrize("exc, expected", [
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), NET_REASONS[errno.ECONNREFUSED]),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "主机不可达"),
    (ConnectionResetError(), "连接被对端重置"),  # no errno: the class says it
    (BrokenPipeError(), "连接已断开"),
    (http.client.RemoteDisconnected("Remote end closed connection without response"), "对端未应答就关闭了连接"),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "主机名无法解析（DNS）"),
    (ssl.SSLCertVerificationError("certificate verify failed"), "TLS 证书校验失败"),
    (TimeoutError("timed out"), "超时无应答"),
    (OSError(errno.ENOENT, "No such file or directory"), "文件不存在"),
    (ConnectionResetError("对端关闭了连接"), "对端关闭了连接"),  # our own text stays
    (OSError("device reports readiness to read but returned no data (device disconnected or multiple "
             "access on port?)"), "串口读不到数据（设备已拔出，或有其他程序同时使用该串口？）"),
    (OSError(errno.EPROTO, "Protocol error"), "系统错误：Protocol error"),
    ("unknown url type: 'ftp'", "请求失败：unknown url type: 'ftp'"),
])
def test_net_reason(exc, expected):
    assert net_reason(exc) == expected


def test_a_gateway_that_resets_the_connection_is_an_io_failure_in_chinese():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        conn.recv(12)
        # SO_LINGER 0: close with RST, as a gateway that drops the connection does
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    bus = TcpBus(name="tcp-8", kind="tcp", host="127.0.0.1", port=port, timeout_s=1.0, retries=0)
    link = BusLink(bus, ErrorCounters())
    try:
        with pytest.raises(ReadFailure) as failure:
            link.read(1, 3, 0, 2)
    finally:
        link.close()
        thread.join(2)
        listener.close()
    assert failure.value.kind == "io"
    assert str(failure.value) == f"分机 1：网关 127.0.0.1:{port}：连接被对端重置"

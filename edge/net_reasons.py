"""Why a connection or a device failed, in Chinese.

The OS, urllib and pyserial say it in English ("[Errno 111] Connection refused"), and the
reason reaches people: a camera's or a bus's last error shows on central's 设备 and 视频 pages,
in events and in a command's answer. Both the camera and the Modbus link use this module.
"""

from __future__ import annotations

import errno
import http.client
import re
import socket
import ssl

from protocols.os_zh import os_reason

NET_REASONS: dict[int, str] = {
    errno.ECONNREFUSED: "连接被拒绝（端口未开放或服务未运行）",
    errno.ECONNRESET: "连接被对端重置",
    errno.ECONNABORTED: "连接被中止",
    errno.EPIPE: "连接已断开",
    errno.ENOTCONN: "连接未建立",
    errno.ETIMEDOUT: "连接超时",
    errno.EHOSTUNREACH: "主机不可达",
    errno.EHOSTDOWN: "主机未开机或不在网上",
    errno.ENETUNREACH: "网络不可达",
    errno.ENETDOWN: "网络未连接",
    errno.EADDRNOTAVAIL: "地址不可用",
    errno.EBUSY: "设备忙（被其他程序占用？）",
    errno.ENODEV: "设备不存在",
    errno.ENXIO: "设备不存在或已拔出",
}

# Raised without an errno (http.client's RemoteDisconnected, a bare ConnectionResetError()):
# the class says what happened.
_BY_CLASS: tuple[tuple[type[BaseException], int], ...] = (
    (ConnectionRefusedError, errno.ECONNREFUSED),
    (ConnectionResetError, errno.ECONNRESET),
    (ConnectionAbortedError, errno.ECONNABORTED),
    (BrokenPipeError, errno.EPIPE),
)

_CJK = re.compile(r"[\u4e00-\u9fff]")


def net_reason(exc: BaseException | str) -> str:
    """A short Chinese reason for a failed connection or device call; a text the system gives
    that has no Chinese equivalent here is kept after a Chinese lead-in."""
    if isinstance(exc, str):  # urllib's URLError sometimes carries a bare text
        return exc if _CJK.search(exc) else f"请求失败：{exc}"
    if isinstance(exc, socket.gaierror):
        return "主机名无法解析（DNS）"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS 证书校验失败"
    if isinstance(exc, ssl.SSLError):
        return "TLS 握手失败"
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return "超时无应答"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "对端未应答就关闭了连接"
    text = str(exc)
    code = getattr(exc, "errno", None)
    if code is None and _CJK.search(text):  # raised by our own code, already in Chinese
        return text
    if code is None:
        code = next((c for cls, c in _BY_CLASS if isinstance(exc, cls)), None)
    if code in NET_REASONS:
        return NET_REASONS[code]
    if "device disconnected" in text:  # pyserial's text for a port that vanished
        return "串口读不到数据（设备已拔出，或有其他程序同时使用该串口？）"
    if isinstance(exc, OSError):
        return os_reason(exc) if code is not None else f"系统错误：{text}"
    return f"出错：{text}"

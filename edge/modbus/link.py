"""One bus's Modbus link: a read or a write, retried per setting, every failure classified (no
reply, CRC error, partial or wrong frame, exception reply, I/O) and counted.

The frames are the edge's own (`frames`), carried by `serial_line` (RTU over pyserial) or
`tcp_line` (Modbus TCP over a socket): pymodbus stays for the simulators' servers only, which
makes them an independent peer of this client in the tests.

Only the bus's own worker thread calls a link, so requests on one bus never overlap.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from contextlib import contextmanager

from edge.modbus.counters import ErrorCounters
from edge.modbus.frames import FrameError, Request, read_request, write_request
from edge.net_reasons import net_reason
from protocols.depot.model import SerialBus, TcpBus

log = logging.getLogger(__name__)

FAILURE_KINDS = ("timeout", "crc", "partial", "exception", "io")
_RECONNECT_PAUSE_S = 1.0


class ReadFailure(Exception):
    """A request that failed after its retries. `kind` (one of FAILURE_KINDS) is a code for the
    counters and logs; `detail` says in Chinese what happened. str() is what people read, on
    central's 设备 page and in `edge status`: "分机 N：detail". The bus is not in it, as every
    place that shows it (a bus's line, the bus_fault event's subject) already names the bus."""

    def __init__(self, kind: str, unit: int, detail: str):
        self.kind = kind
        self.unit = unit
        self.detail = detail
        super().__init__(f"分机 {unit}：{detail}")


# A serial port that cannot be opened: pyserial passes the OS's errno on, and for a device
# some of them mean something else than for a file ("no such file" is an unplugged adapter).
_SERIAL_OPEN_REASONS = {
    errno.ENOENT: "设备不存在（USB 转换器未插入或设备名有误？）",
    errno.ENODEV: "设备不存在（USB 转换器未插入或设备名有误？）",
    errno.ENXIO: "设备不存在或已拔出",
    errno.EAGAIN: "设备忙（被其他程序占用？）",  # the exclusive lock is held by another process
    errno.EBUSY: "设备忙（被其他程序占用？）",
    errno.EACCES: "没有权限打开（运行用户不在 dialout 组？）",
    errno.EPERM: "没有权限打开（运行用户不在 dialout 组？）",
}


def open_reason(exc: BaseException, serial: bool) -> str:
    """Why a serial port or a TCP gateway could not be opened, in Chinese."""
    code = getattr(exc, "errno", None)
    if serial and code in _SERIAL_OPEN_REASONS:
        return _SERIAL_OPEN_REASONS[code]
    return net_reason(exc)


def _line_for(bus: SerialBus | TcpBus, device: str | None):
    # Imported here, so an agent imports only the transport its buses use.
    if isinstance(bus, SerialBus):
        from edge.modbus.serial_line import SerialLine

        return SerialLine(device or bus.device, bus.baud, bus.parity, bus.stop_bits,
                          write_timeout_s=bus.timeout_s)
    from edge.modbus.tcp_line import TcpLine

    return TcpLine(bus.host, bus.port, connect_timeout_s=bus.timeout_s)


class BusLink:
    """Requests on one bus. `device` is the serial device path already resolved."""

    def __init__(self, bus: SerialBus | TcpBus, counters: ErrorCounters, device: str | None = None):
        self.bus = bus
        self.counters = counters
        self.line = _line_for(bus, device)
        self._lock = threading.Lock()  # belt and braces: the worker thread is the only caller
        self._last_connect_try = float("-inf")
        self._open_error: str | None = None  # why the line could not be opened, the last time
        self._probe_wait: float | None = None

    def close(self) -> None:
        try:
            self.line.close()
        except Exception:  # closing must never raise into the agent
            log.debug("closing bus %s", self.bus.name, exc_info=True)

    @contextmanager
    def probing(self, wait_s: float):
        """The first request inside waits at most `wait_s` for its reply and is not retried:
        how a dead slave is asked whether it is back without costing its bus a full timeout.
        Once it answers, the rest of the poll runs with the bus's own settings."""
        self._probe_wait = wait_s
        try:
            yield
        finally:
            self._probe_wait = None

    def read(self, address: int, function_code: int, start: int, count: int) -> list[int]:
        """`count` registers from `start` of slave `address`; raises ReadFailure."""
        return self._request(read_request(address, function_code, start, count))

    def write(self, address: int, register: int, value: int) -> None:
        self._request(write_request(address, register, value))

    def _request(self, request: Request) -> list[int]:
        address = request.unit
        probe = self._probe_wait is not None
        last: ReadFailure | None = None
        for attempt in range(1 if probe else self.bus.retries + 1):
            if attempt:
                if self._reconnect_paused():
                    break  # a retry now would fail at once without asking anyone: not a retry
                self.counters.retry(self.bus.name, address)
            try:
                values = self._once(request)
                self._probe_wait = None
                return values
            except ReadFailure as failure:
                self.counters.failure(self.bus.name, address, failure.kind)
                last = failure
                if failure.kind == "exception":
                    break  # the slave answered: asking again gets the same answer
        assert last is not None
        raise last

    def _once(self, request: Request) -> list[int]:
        with self._lock:
            if self.bus.inter_request_delay_s:
                time.sleep(self.bus.inter_request_delay_s)
            if not self.line.is_open and not self._connect():
                raise ReadFailure("io", request.unit,
                                  self._open_error or f"{self.where()} 已断开，等待重新连接")
            timeout_s = self.bus.timeout_s if self._probe_wait is None else min(self.bus.timeout_s,
                                                                                self._probe_wait)
            try:
                return self.line.transact(request, timeout_s)
            except FrameError as exc:
                raise ReadFailure(exc.kind, request.unit, exc.detail) from None
            except (OSError, ValueError) as exc:
                self.close()
                raise ReadFailure("io", request.unit, f"{self.where()}：{net_reason(exc)}") from None

    def _reconnect_paused(self) -> bool:
        """The line is closed and was tried less than the reconnect pause ago."""
        return not self.line.is_open and \
            time.monotonic() - self._last_connect_try < _RECONNECT_PAUSE_S

    def _connect(self) -> bool:
        # A missing USB adapter or a refused TCP gateway is retried at most once a second;
        # within the pause the failure repeats the reason of the last try.
        if self._reconnect_paused():
            return False
        self._last_connect_try = time.monotonic()
        try:
            self.line.open()
        except (OSError, ValueError) as exc:
            log.debug("connect %s failed", self.where(), exc_info=True)
            verb = "无法打开" if isinstance(self.bus, SerialBus) else "无法连接"
            self._open_error = f"{verb}{self.where()}：{open_reason(exc, isinstance(self.bus, SerialBus))}"
            return False
        self._open_error = None
        return True

    def where(self) -> str:
        """The bus's line as a reader finds it: the serial device or the gateway's address (the
        bus's name is said by whoever shows the failure)."""
        bus = self.bus
        if isinstance(bus, SerialBus):
            return f"串口 {getattr(self.line, 'device', bus.device)}"  # the path resolved at start
        return f"网关 {bus.host}:{bus.port}"

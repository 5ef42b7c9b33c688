"""One bus's Modbus link: a read or a write, retried per setting, every failure classified (no
reply, CRC error, partial or wrong frame, exception reply, I/O) and counted.

The frames are the edge's own (`frames`), carried by `serial_line` (RTU over pyserial) or
`tcp_line` (Modbus TCP over a socket): pymodbus stays for the simulators' servers only, which
makes them an independent peer of this client in the tests.

Only the bus's own worker thread calls a link, so requests on one bus never overlap.
"""

from __future__ import annotations

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
    """A request that failed after its retries; `kind` is one of FAILURE_KINDS."""

    def __init__(self, kind: str, detail: str):
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


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
        self._last_connect_try = 0.0
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
                raise ReadFailure("io", f"无法打开{self.where()}")
            timeout_s = self.bus.timeout_s if self._probe_wait is None else min(self.bus.timeout_s,
                                                                                self._probe_wait)
            try:
                return self.line.transact(request, timeout_s)
            except FrameError as exc:
                raise ReadFailure(exc.kind, f"{self.where()}分机 {request.unit}：{exc.detail}") from None
            except (OSError, ValueError) as exc:
                self.close()
                raise ReadFailure("io", f"{self.where()}分机 {request.unit}：{net_reason(exc)}") from None

    def _connect(self) -> bool:
        # A missing USB adapter or a refused TCP gateway is retried at most once a second.
        now = time.monotonic()
        if now - self._last_connect_try < _RECONNECT_PAUSE_S:
            return False
        self._last_connect_try = now
        try:
            self.line.open()
            return True
        except (OSError, ValueError):
            log.debug("connect %s failed", self.where(), exc_info=True)
            return False

    def where(self) -> str:
        """The bus as a reader finds it: name and device or address."""
        bus = self.bus
        return f"总线 {bus.name}（{bus.device}）" if isinstance(bus, SerialBus) else \
            f"总线 {bus.name}（{bus.host}:{bus.port}）"

"""One bus's Modbus link (pymodbus sync client): a read or a write, retried per setting, every
failure classified (no reply, CRC error, partial frame, exception reply, I/O) and counted.

Only the bus's own worker thread calls a link, so requests on one bus never overlap.
"""

from __future__ import annotations

import io
import logging
import select
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.framer import FramerRTU

from edge.modbus.counters import ErrorCounters
from protocols.depot.model import SerialBus, TcpBus
from protocols.modbus.wire import REPLY_OVERHEAD_BYTES

log = logging.getLogger(__name__)

FAILURE_KINDS = ("timeout", "crc", "partial", "exception", "io")
# pymodbus closes a connection after this many unanswered requests; one dead slave must
# never disconnect its neighbours, so the link never lets it get there.
_NEVER_DISCONNECT = 1 << 30
_RECONNECT_PAUSE_S = 1.0


class _PromptSerialClient(ModbusSerialClient):
    """pymodbus's serial client ends a reply only after a silence of four characters with no
    new byte; a master that knows how long the reply is can take it the moment its last byte
    is in. `expect` is that length (0: unknown, wait for the silence as pymodbus does)."""

    expect = 0

    def recv(self, size: int | None) -> bytes:
        if size is not None or not self.expect or self.socket is None:
            return super().recv(size)
        try:
            return self._recv_expected()
        except OSError:
            self.close()
            raise ConnectionException(str(self)) from None

    def _recv_expected(self) -> bytes:
        char_s = self._t0
        deadline = time.monotonic() + self.comm_params.timeout_connect
        buf = b""
        quiet_since = time.monotonic()
        while True:
            waiting = self._in_waiting()
            if waiting:
                buf += self.socket.read(waiting)
                quiet_since = time.monotonic()
            exception_reply = len(buf) >= 2 and buf[1] & 0x80
            need = REPLY_OVERHEAD_BYTES if exception_reply else self.expect
            now = time.monotonic()
            if len(buf) >= need or now >= deadline:
                return buf
            if buf and now - quiet_since > 4 * char_s + 0.002:
                return buf  # a short or broken frame: let the framer judge it
            if buf:
                time.sleep(min(max((need - len(buf)) * char_s, char_s), deadline - now))
            else:  # nothing yet: sleep until the first byte of the reply
                self._wait_readable(max(0.0, deadline - now), char_s)

    def _wait_readable(self, timeout_s: float, char_s: float) -> None:
        try:
            select.select([self.socket.fileno()], [], [], timeout_s)
        except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
            time.sleep(min(timeout_s, 4 * char_s))  # a port pyserial cannot hand to select


class ReadFailure(Exception):
    """A request that failed after its retries; `kind` is one of FAILURE_KINDS."""

    def __init__(self, kind: str, detail: str):
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


@dataclass
class _Attempt:
    rx: bytes = b""


class BusLink:
    """Requests on one bus. `device` is the serial device path already resolved."""

    def __init__(self, bus: SerialBus | TcpBus, counters: ErrorCounters, device: str | None = None):
        self.bus = bus
        self.counters = counters
        self._attempt = _Attempt()
        self._lock = threading.Lock()  # belt and braces: the worker thread is the only caller
        self._last_connect_try = 0.0
        self._probe = False
        self._probe_saved = 0.0
        self.rtu = isinstance(bus, SerialBus)
        trace = self._trace_packet
        if isinstance(bus, SerialBus):
            self.client = _PromptSerialClient(
                device or bus.device, baudrate=bus.baud, parity=bus.parity, stopbits=bus.stop_bits,
                bytesize=8, timeout=bus.timeout_s, retries=0, trace_packet=trace,
            )
        else:
            self.client = ModbusTcpClient(
                bus.host, port=bus.port, timeout=bus.timeout_s, retries=0, trace_packet=trace,
            )
        self.client.set_max_no_responses(_NEVER_DISCONNECT)

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            self._attempt.rx = bytes(data)
        return data

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # closing must never raise into the agent
            log.debug("closing bus %s", self.bus.name, exc_info=True)

    @contextmanager
    def probing(self, wait_s: float):
        """The first request inside waits at most `wait_s` for its reply and is not retried:
        how a dead slave is asked whether it is back without costing its bus a full timeout.
        Once it answers, the rest of the poll runs with the bus's own settings."""
        self._probe_saved = self.client.comm_params.timeout_connect
        self._probe = True
        self.client.comm_params.timeout_connect = min(self._probe_saved, wait_s)
        try:
            yield
        finally:
            self._end_probe()

    def _end_probe(self) -> None:
        if self._probe:
            self.client.comm_params.timeout_connect = self._probe_saved
            self._probe = False

    def read(self, address: int, function_code: int, start: int, count: int) -> list[int]:
        """`count` registers from `start` of slave `address`; raises ReadFailure."""
        def call():
            if function_code == 4:
                return self.client.read_input_registers(start, count=count, device_id=address)
            return self.client.read_holding_registers(start, count=count, device_id=address)

        reply = self._request(address, call, REPLY_OVERHEAD_BYTES + 2 * count)
        registers = list(reply.registers)
        if len(registers) < count:
            self.counters.failure(self.bus.name, address, "partial")
            raise ReadFailure("partial", f"asked for {count} registers, got {len(registers)}")
        return registers[:count]

    def write(self, address: int, register: int, value: int) -> None:
        self._request(address, lambda: self.client.write_register(register, value, device_id=address), 8)

    def _request(self, address: int, call, reply_size: int):
        last: ReadFailure | None = None
        for attempt in range(1 if self._probe else self.bus.retries + 1):
            if attempt:
                self.counters.retry(self.bus.name, address)
            try:
                reply = self._once(address, call, reply_size)
                self._end_probe()
                return reply
            except ReadFailure as failure:
                self.counters.failure(self.bus.name, address, failure.kind)
                last = failure
                if failure.kind == "exception":
                    break  # the slave answered: asking again gets the same answer
        assert last is not None
        raise last

    def _once(self, address: int, call, reply_size: int):
        with self._lock:
            if self.bus.inter_request_delay_s:
                time.sleep(self.bus.inter_request_delay_s)
            if not self.client.connected and not self._connect():
                raise ReadFailure("io", f"cannot open {self._where()}")
            self._attempt = _Attempt()
            if self.rtu:
                self.client.expect = reply_size
            try:
                reply = call()
            except ConnectionException as exc:
                self.client.close()
                raise ReadFailure("io", f"{self._where()}: {exc}") from None
            except ModbusException as exc:
                raise ReadFailure(self._classify(reply_size), f"slave {address}: {exc}") from None
            except (OSError, ValueError) as exc:
                self.client.close()
                raise ReadFailure("io", f"{self._where()}: {exc}") from None
            if reply is None:
                raise ReadFailure(self._classify(reply_size), f"slave {address}: no reply")
            if reply.isError():
                code = getattr(reply, "exception_code", None)
                raise ReadFailure("exception", f"slave {address}: exception reply code {code}")
            return reply

    def _connect(self) -> bool:
        # A missing USB adapter or a refused TCP gateway is retried at most once a second.
        now = time.monotonic()
        if now - self._last_connect_try < _RECONNECT_PAUSE_S:
            return False
        self._last_connect_try = now
        try:
            return bool(self.client.connect())
        except Exception:
            log.debug("connect %s failed", self._where(), exc_info=True)
            return False

    def _classify(self, reply_size: int) -> str:
        """Why a request went unanswered, judged by what came back on the wire."""
        rx = self._attempt.rx
        if not rx:
            return "timeout"
        if self.rtu:
            error_reply = len(rx) >= 5 and rx[1] & 0x80
            expected = 5 if error_reply else reply_size
            if len(rx) < expected:
                return "partial"
            frame = rx[:expected]
            crc = (frame[-2] << 8) | frame[-1]
            if not FramerRTU.check_CRC(frame[:-2], crc):
                return "crc"
            return "partial"
        return "partial"

    def _where(self) -> str:
        bus = self.bus
        return f"bus {bus.name} ({bus.device})" if isinstance(bus, SerialBus) else \
            f"bus {bus.name} ({bus.host}:{bus.port})"

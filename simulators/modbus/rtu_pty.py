"""Modbus RTU slaves on a pseudo-terminal pair, with wire-time emulation.

A pty moves bytes instantly; a 9600-baud RS-485 line does not. Each reply is held back until
the moment its last byte would have arrived on a real line (request + 3.5-char gap + reply),
and the next request is not served before the 3.5-char gap after that reply, so a poller
measured against this bus sees the physical limit. Several slave addresses share one pty,
as they share one RS-485 pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import time
import tty
from dataclasses import dataclass
from pathlib import Path

from protocols.modbus.crc import crc_ok
from protocols.modbus.wire import frame_time_s, silent_time_s
from simulators.modbus.device import Device, FaultGate
from simulators.modbus.rtu_frame import (
    ILLEGAL_FUNCTION,
    READ_HOLDING,
    READ_INPUT,
    WRITE_MULTIPLE,
    WRITE_SINGLE,
    corrupt,
    exception_reply,
    expected_length,
    parse_request,
    read_reply,
    write_multiple_reply,
    write_single_reply,
)


@dataclass(frozen=True)
class LineSettings:
    baud: int = 9600
    parity: str = "N"
    stop_bits: int = 1
    wire_time: bool = True

    def bytes_s(self, n: int) -> float:
        return frame_time_s(n, self.baud, self.parity, self.stop_bits) if self.wire_time else 0.0

    def gap_s(self) -> float:
        """The 3.5-character silent interval that ends every frame."""
        if not self.wire_time:
            return 0.0
        return silent_time_s(self.baud, self.parity, self.stop_bits)


def answer(device: Device, frame: bytes) -> bytes:
    """The reply a slave gives to one CRC-valid request frame addressed to it."""
    req = parse_request(frame)
    if req.function in (READ_HOLDING, READ_INPUT):
        result = device.read(req.function, req.start, req.count)
        if isinstance(result, int):
            return exception_reply(req.address, req.function, result)
        return read_reply(req.address, req.function, result)
    if req.function in (WRITE_SINGLE, WRITE_MULTIPLE):
        code = device.write(req.start, list(req.values))
        if code:
            return exception_reply(req.address, req.function, code)
        if req.function == WRITE_SINGLE:
            return write_single_reply(req.address, req.start, req.values[0])
        return write_multiple_reply(req.address, req.start, len(req.values))
    return exception_reply(req.address, req.function, ILLEGAL_FUNCTION)


class RtuPtyServer:
    """Serve `devices` (address → Device) on a new pty; `path` is what a client opens."""

    def __init__(self, devices: dict[int, Device], line: LineSettings,
                 gate: FaultGate | None = None, link: str | Path | None = None,
                 name: str = "rtu"):
        self.devices = devices
        self.line = line
        self.gate = gate
        self.link = Path(link) if link else None
        self.name = name
        self.path = ""
        self.stats = {"requests": 0, "replies": 0, "crc_errors": 0, "ignored": 0}
        self._master = self._slave = -1
        self._buffer = bytearray()
        self._first_byte_at = 0.0   # monotonic time the buffered frame began to arrive
        self._bus_free_at = 0.0
        self._queue: asyncio.Queue[tuple[bytes, float]] | None = None
        self._task: asyncio.Task | None = None
        self._flush_handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> RtuPtyServer:
        self._loop = asyncio.get_running_loop()
        self._master, self._slave = os.openpty()
        # Raw line, no echo, until (and after) a client opens it with its own settings; we
        # keep the slave end open so a client closing it never turns into EIO on our side.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        if self.link is not None:
            self.link.parent.mkdir(parents=True, exist_ok=True)
            if self.link.is_symlink() or self.link.exists():
                self.link.unlink()
            self.link.symlink_to(self.path)
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._serve())
        self._loop.add_reader(self._master, self._on_readable)
        return self

    async def stop(self) -> None:
        if self._loop is not None and self._master >= 0:
            self._loop.remove_reader(self._master)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1
        if self.link is not None and self.link.is_symlink() and os.readlink(self.link) == self.path:
            self.link.unlink()

    # --- receiving -----------------------------------------------------------------------
    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EIO):
                return
            raise
        if not self._buffer:
            # The client wrote the whole request at once; on a real line its first byte
            # arrived about now and the last one a frame-time later.
            self._first_byte_at = time.monotonic()
        self._buffer.extend(data)
        self._split_frames()

    def _split_frames(self) -> None:
        while self._buffer:
            need = expected_length(bytes(self._buffer[:7]))
            if need is None:
                self._arm_flush()      # unknown function: the frame ends at a silence
                return
            if len(self._buffer) < need:
                self._arm_flush()
                return
            frame = bytes(self._buffer[:need])
            del self._buffer[:need]
            self._accept(frame)
            self._first_byte_at = time.monotonic()

    def _arm_flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        assert self._loop is not None
        self._flush_handle = self._loop.call_later(max(0.005, self.line.gap_s()), self._flush)

    def _flush(self) -> None:
        """A silence ended the frame: whatever is buffered is one (odd or broken) frame."""
        self._flush_handle = None
        if self._buffer:
            frame = bytes(self._buffer)
            self._buffer.clear()
            self._accept(frame)

    def _accept(self, frame: bytes) -> None:
        if not crc_ok(frame):
            self.stats["crc_errors"] += 1   # a real slave stays silent on a bad CRC
            return
        assert self._queue is not None
        self._queue.put_nowait((frame, self._first_byte_at))

    # --- answering, one request at a time as on a half-duplex line -----------------------
    async def _serve(self) -> None:
        assert self._queue is not None
        while True:
            frame, arrived = await self._queue.get()
            self.stats["requests"] += 1
            # Bytes sent while the line was still busy would have waited: start counting
            # from when the line was free.
            start = max(arrived, self._bus_free_at)
            request_done = start + self.line.bytes_s(len(frame)) + self.line.gap_s()
            reply = self._reply_to(frame)
            if reply is None:
                self.stats["ignored"] += 1
                self._bus_free_at = request_done
                continue
            deliver = request_done + self.line.bytes_s(len(reply))
            delay = deliver - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                os.write(self._master, reply)
                self.stats["replies"] += 1
            except OSError:
                pass
            self._bus_free_at = max(deliver, time.monotonic()) + self.line.gap_s()

    def _reply_to(self, frame: bytes) -> bytes | None:
        address = frame[0]
        device = self.devices.get(address)
        if device is None:
            return None                     # nobody on the bus has this address
        fault = self.gate.decide(address) if self.gate is not None else None
        if fault is not None and fault[0] == "silent":
            return None
        if fault is not None and fault[0] == "exception":
            return exception_reply(address, frame[1], fault[1])
        try:
            reply = answer(device, frame)
        except Exception:  # noqa: BLE001 - a device bug must look like a device failure
            reply = exception_reply(address, frame[1], 4)
        if fault is not None and fault[0] == "crc":
            reply = corrupt(reply)
        return reply

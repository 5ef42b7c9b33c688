"""One RS-485 line through pyserial, synchronous, master side: send a request, take its reply.

Why not a library client: the edge needs FC 3/4/6 and nothing else, and pymodbus's client
(asyncio, ssl, its own framers) cost a depot agent 3.9 MB of its 50 (README "Smaller agent").

On the wire: a request goes out only after the line has been silent 3.5 characters since the
last frame (the RTU inter-frame gap), bytes left over from a late or broken reply (or that came
during that gap) are thrown away right before it, and the reply is taken the moment its last byte is in (its length is known
from its own header), not after a further silence: at 9600 baud waiting out a silence after
every reply would cost the bus ~4 ms per frame.
"""

from __future__ import annotations

import io
import logging
import select
import time
from collections.abc import Callable

import serial

from edge.modbus.frames import FrameError, Request, decode_rtu_reply, rtu_frame, rtu_needed
from protocols.modbus.wire import char_bits, silent_time_s

log = logging.getLogger(__name__)


class SerialLine:
    """The serial port of one bus. Not thread-safe: only the bus's worker thread uses it."""

    def __init__(self, device: str, baud: int, parity: str = "N", stop_bits: int = 1,
                 write_timeout_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.device = device
        self.baud = baud
        self.parity = parity
        self.stop_bits = stop_bits
        self.write_timeout_s = write_timeout_s
        self.char_s = char_bits(parity, stop_bits) / baud
        self.gap_s = silent_time_s(baud, parity, stop_bits)
        self._clock = clock
        self._port: serial.SerialBase | None = None
        self._quiet_at = 0.0  # monotonic time the last frame on the line ended
        self.last_rx = b""  # the raw bytes of the last reply (for a trace when one fails)

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        """Opens the port (exclusively: two agents on one bus would garble each other's
        frames); raises OSError (pyserial's SerialException is one) when it cannot."""
        self._port = serial.serial_for_url(
            self.device, baudrate=self.baud, bytesize=8, parity=self.parity, stopbits=self.stop_bits,
            timeout=0, write_timeout=self.write_timeout_s, exclusive=True,
        )

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            port.close()

    def transact(self, request: Request, timeout_s: float) -> list[int]:
        """The registers (or the written value) `request` got back; FrameError with kind
        "timeout", "crc", "partial" or "exception"; OSError when the port fails."""
        port = self._port
        if port is None:
            raise OSError("串口未打开")
        pause = self._quiet_at + self.gap_s - self._clock()
        if pause > 0:
            time.sleep(pause)
        # after the pause: a byte that came during it would otherwise head the next reply
        self._drop_stale(port)
        frame = rtu_frame(request)
        port.write(frame)
        sent = self._clock()
        self._quiet_at = sent + len(frame) * self.char_s
        self.last_rx = rx = self._receive(port, request, sent + timeout_s)
        if not rx:
            raise FrameError("timeout", f"{round(timeout_s, 2):g} 秒内无应答")
        return decode_rtu_reply(request, rx)

    def _drop_stale(self, port: serial.SerialBase) -> None:
        # A reply that came after its timeout, or line noise, would be taken for the next reply.
        waiting = port.in_waiting
        if waiting:
            stale = port.read(waiting)
            log.debug("%s: dropped %d stale bytes before a request: %s", self.device, len(stale), stale.hex())

    def _receive(self, port: serial.SerialBase, request: Request, deadline: float) -> bytes:
        """Bytes until the reply is complete or `deadline`: a short frame is left to the codec
        to judge only at the deadline, as a USB adapter may deliver a reply in pieces."""
        buf = b""
        while True:
            waiting = port.in_waiting
            if waiting:
                buf += port.read(waiting)
                self._quiet_at = self._clock()
            need = rtu_needed(request, buf)
            now = self._clock()
            if len(buf) >= need:
                return buf[:need]
            if now >= deadline:
                return buf
            if buf:  # the rest is on its way: sleep about as long as it takes on the wire
                time.sleep(min(max((need - len(buf)) * self.char_s, self.char_s), deadline - now))
            else:  # nothing yet: sleep until the first byte of the reply
                self._wait_readable(port, deadline - now)

    def _wait_readable(self, port: serial.SerialBase, timeout_s: float) -> None:
        try:
            select.select([port.fileno()], [], [], timeout_s)
        except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
            time.sleep(min(timeout_s, 4 * self.char_s))  # a port pyserial cannot hand to select

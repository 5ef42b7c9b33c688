"""One Modbus TCP connection (a gateway or a unit with its own port), synchronous, master side.

A request carries a transaction id; a reply that arrives after its request timed out carries
an older one and is dropped, so it is never taken for the answer to a later request. An
unanswered request leaves the connection open (one dead unit behind a gateway must not cut its
neighbours off); a closed or failed connection raises OSError, and the link reconnects.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

from edge.modbus.frames import (
    FrameError,
    Request,
    decode_mbap_reply,
    mbap_frame,
    mbap_needed,
    mbap_transaction,
)

log = logging.getLogger(__name__)

# Replies to this many earlier transactions count as late ones, not as wrong answers.
_LATE_WINDOW = 256


def is_late(transaction: int, current: int) -> bool:
    """Whether `transaction` is one of the requests sent just before `current` (ids wrap)."""
    return 0 < (current - transaction) % 0x10000 <= _LATE_WINDOW


class TcpLine:
    """The TCP connection of one bus. Not thread-safe: only the bus's worker thread uses it."""

    def __init__(self, host: str, port: int, connect_timeout_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.host = host
        self.port = port
        self.connect_timeout_s = connect_timeout_s
        self._clock = clock
        self._sock: socket.socket | None = None
        self._transaction = 0
        self.last_rx = b""

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one small request at a time
        self._sock = sock

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def transact(self, request: Request, timeout_s: float) -> list[int]:
        """The registers (or the written value) `request` got back; FrameError with kind
        "timeout", "partial" or "exception"; OSError when the connection fails."""
        sock = self._sock
        if sock is None:
            raise OSError("连接未建立")
        self._drop_stale(sock)
        self._transaction = (self._transaction + 1) & 0xFFFF
        tid = self._transaction
        sock.settimeout(timeout_s)
        sock.sendall(mbap_frame(request, tid))
        self.last_rx = rx = self._receive(sock, tid, self._clock() + timeout_s)
        if not rx:
            raise FrameError("timeout", f"{round(timeout_s, 2):g} 秒内无应答")
        need = mbap_needed(rx)
        if need is None or len(rx) < need:
            # the rest of a frame cut short would arrive as the head of the next reply: the
            # stream is out of step, so the next request starts on a new connection
            self.close()
        return decode_mbap_reply(request, tid, rx)

    def _drop_stale(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        try:
            while True:
                stale = sock.recv(4096)
                if not stale:
                    raise ConnectionResetError("对端关闭了连接")
                log.debug("%s:%s: dropped %d stale bytes", self.host, self.port, len(stale))
        except BlockingIOError:
            pass

    def _receive(self, sock: socket.socket, tid: int, deadline: float) -> bytes:
        buf = b""
        while True:
            need = mbap_needed(buf)
            if need is not None and len(buf) >= need:
                frame, buf = buf[:need], buf[need:]
                got = mbap_transaction(frame)
                if got is not None and is_late(got, tid):
                    log.debug("%s:%s: dropped the late reply to transaction %d", self.host, self.port, got)
                    continue
                return frame
            remaining = deadline - self._clock()
            if remaining <= 0:
                return buf
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                return buf
            if not chunk:
                raise ConnectionResetError("对端关闭了连接")
            buf += chunk

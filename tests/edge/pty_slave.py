"""A Modbus RTU slave written by hand on a pseudo-terminal, for the edge's transport tests: a
reply can be late, short, garbled or followed by junk, which no library server would send."""

from __future__ import annotations

import os
import select
import threading
import time
import tty

from edge.modbus.counters import ErrorCounters
from edge.modbus.link import BusLink
from protocols.depot.model import SerialBus
from simulators.modbus import rtu_frame


class PtySlave:
    """One end of a pty plays the bus: each 8-byte request is handed to `respond(request)`,
    which returns [(delay_s, bytes), ...] to write back."""

    def __init__(self, respond):
        self.respond = respond
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.requests: list[tuple[float, bytes]] = []
        self.writes: list[tuple[float, bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        buf = b""
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            buf += os.read(self.master, 4096)
            while len(buf) >= 8:
                frame, buf = buf[:8], buf[8:]
                self.requests.append((time.monotonic(), frame))
                for delay, data in self.respond(rtu_frame.parse_request(frame)):
                    time.sleep(delay)
                    os.write(self.master, data)
                    self.writes.append((time.monotonic(), data))

    def close(self):
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self._slave)


def rtu_link(path, baud=9600, timeout_s=0.5, retries=0):
    bus = SerialBus(name="rs485-9", kind="serial", device=path, baud=baud, timeout_s=timeout_s, retries=retries)
    return BusLink(bus, ErrorCounters(), device=path)


def registers_of(req, base=0):
    return [(base + req.start + i) & 0xFFFF for i in range(req.count)]

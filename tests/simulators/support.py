"""Helpers for the simulator tests: a background asyncio loop, raw RTU requests."""

from __future__ import annotations

import asyncio
import struct
import threading

from protocols.modbus.crc import with_crc


class LoopThread:
    """An asyncio loop in a thread: start servers on it from synchronous tests."""

    def __enter__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        return self

    def run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def read_request(address: int, start: int, count: int, function: int = 3) -> bytes:
    return with_crc(struct.pack(">BBHH", address, function, start, count))

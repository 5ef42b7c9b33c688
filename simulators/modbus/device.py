"""What a bus server needs from a simulated slave, and the device-level faults on a bus."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Protocol

from simulators.grainpile.scenarios import ScenarioBook
from simulators.modbus.rtu_frame import ILLEGAL_ADDRESS, ILLEGAL_FUNCTION, ILLEGAL_VALUE


class Device(Protocol):
    """One slave: answers reads with registers or a Modbus exception code (an int)."""

    address: int

    def read(self, function: int, start: int, count: int) -> list[int] | int: ...

    def write(self, start: int, values: list[int]) -> int | None: ...


def read_map(registers: Mapping[int, int], function: int, functions: tuple[int, ...],
             start: int, count: int) -> list[int] | int:
    """Slice a register map the way a sub-unit answers: gaps read 0, past the end is an error."""
    if function not in functions:
        return ILLEGAL_FUNCTION
    if not 1 <= count <= 125:
        return ILLEGAL_VALUE
    top = max(registers) if registers else -1
    if start < 0 or start + count - 1 > top:
        return ILLEGAL_ADDRESS
    return [registers.get(a, 0) & 0xFFFF for a in range(start, start + count)]


class StaticDevice:
    """Fixed registers (tests, and any device the model does not drive)."""

    def __init__(self, address: int, registers: Mapping[int, int], functions=(3, 4)):
        self.address = address
        self.registers = dict(registers)
        self.functions = tuple(functions)
        self.writes: list[tuple[int, list[int]]] = []

    def read(self, function: int, start: int, count: int) -> list[int] | int:
        return read_map(self.registers, function, self.functions, start, count)

    def write(self, start: int, values: list[int]) -> int | None:
        self.writes.append((start, list(values)))
        return None


class FaultGate:
    """Decides, per request, whether a slave on a bus is silent, garbles or refuses it."""

    def __init__(self, bus: str, book: ScenarioBook | None, sim_time: Callable[[], float]):
        self.bus = bus
        self.book = book
        self.sim_time = sim_time
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def _tick(self, key: tuple[str, int], every: int) -> bool:
        with self._lock:
            n = self._counts.get(key, 0) + 1
            self._counts[key] = n
        return n % every == 0

    def decide(self, address: int) -> tuple[str, int] | None:
        """None (answer normally), ("silent", 0), ("crc", 0) or ("exception", code)."""
        if self.book is None:
            return None
        t = self.sim_time()
        if self.book.active(t, "slave_silent", bus=self.bus, address=address):
            return ("silent", 0)
        for s in self.book.active(t, "exception_reply", bus=self.bus, address=address):
            if self._tick(("exc", address), s.every):
                return ("exception", s.code)
        for s in self.book.active(t, "crc_corrupt", bus=self.bus, address=address):
            if self._tick(("crc", address), s.every):
                return ("crc", 0)
        return None

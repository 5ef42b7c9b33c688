"""Reading one slave: header, optional triggered scan, cable blocks or a T/RH pair, decoded by
the profile's codec. Keeps the last valid temperatures for the 85.0 °C power-on rule."""

from __future__ import annotations

import time
from collections.abc import Iterable

from edge.modbus.link import BusLink, ReadFailure
from protocols.depot.model import Unit
from protocols.modbus.codec import (
    AirValue,
    UnitHeader,
    UnitReading,
    decode_header,
    decode_thrh,
    decode_unit,
)
from protocols.modbus.planner import (
    ReadRequest,
    plan_addresses,
    plan_cable_reads,
    plan_header_reads,
)

START_SCAN = 1  # command register value: start a scan now


class UnitPoller:
    """One unit on one bus. Only the bus's worker thread calls it."""

    def __init__(self, link: BusLink, unit: Unit, profile, sleep=time.sleep, clock=time.monotonic):
        self.link = link
        self.unit = unit
        self.profile = profile
        self.wire_cables = [wire for wire, _ in unit.wiring()]
        self.previous: dict[tuple[int, int], float] = {}
        self.last_header: UnitHeader | None = None
        self.requests = 0
        self._sleep = sleep
        self._clock = clock

    @property
    def is_thrh(self) -> bool:
        return getattr(self.profile, "kind", "cable_unit") == "thrh"

    def _fetch(self, requests: Iterable[ReadRequest], into: dict[int, int]) -> dict[int, int]:
        for req in requests:
            values = self.link.read(self.unit.address, req.function_code, req.address, req.count)
            self.requests += 1
            into.update(zip(range(req.address, req.address + req.count), values, strict=False))
        return into

    def read_header(self) -> tuple[UnitHeader, dict[int, int]]:
        regs = self._fetch(plan_header_reads(self.profile), {})
        header = decode_header(self.profile, regs)
        self.last_header = header
        return header, regs

    def read_cables(self, cables: Iterable[int] | None = None) -> UnitReading:
        """A full reading of the wired cables (all of them by default)."""
        header, regs = self.read_header()
        if self.unit.trigger_scan:
            header, regs = self._trigger(header, regs)
        wanted = list(cables) if cables is not None else self.wire_cables
        if header.cable_count is not None:
            wanted = [c for c in wanted if c <= header.cable_count]
        self._fetch(plan_cable_reads(self.profile, header, wanted), regs)
        reading = decode_unit(self.profile, regs, cables=wanted, previous=self.previous)
        self._remember(reading)
        return reading

    def read_air_registers(self) -> UnitReading:
        """Header and air registers only (for units whose air is read on the air schedule)."""
        _, regs = self.read_header()
        return decode_unit(self.profile, regs, cables=[], previous=None)

    def read_thrh(self) -> AirValue:
        p = self.profile
        regs = self._fetch(plan_addresses([p.rh_register, p.temp_register], p.function_code), {})
        return decode_thrh(p, regs)

    def _trigger(self, header: UnitHeader, regs: dict[int, int]) -> tuple[UnitHeader, dict[int, int]]:
        register = getattr(self.profile, "command_register", None)
        if register is None:
            raise ReadFailure("io", f"profile {self.profile.name} has no command register for trigger_scan")
        before = header.scan_counter
        self.link.write(self.unit.address, register, START_SCAN)
        deadline = self._clock() + self.unit.trigger_timeout_s
        while self._clock() < deadline:
            self._sleep(self.unit.trigger_poll_s)
            header, regs = self.read_header()
            if header.scan_counter != before and not header.scan_in_progress:
                return header, regs
        raise ReadFailure("timeout", f"unit {self.unit.address}: triggered scan did not finish "
                                     f"within {self.unit.trigger_timeout_s:g}s")

    def _remember(self, reading: UnitReading) -> None:
        for cable in reading.cables:
            for layer, temp in enumerate(cable.temps_c, start=1):
                if temp is not None:
                    self.previous[(cable.cable, layer)] = temp

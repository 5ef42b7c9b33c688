"""Reading one slave: header, optional triggered scan, cable blocks or a T/RH pair, decoded by
the profile's codec. Keeps the last valid temperatures for the 85.0 °C power-on rule.

The unit's layout (cable count, stride, sensors per cable) is remembered from the last read:
the sensor-count registers are read with the header on the first read and again only when the
header says the layout may have changed (cable count, stride or status flags moved) or after
the unit failed (it may have been replaced). A scan whose counter the caller has already
published is not read again: only its header crosses the wire.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime

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
    plan_cable_reads,
    plan_cheapest,
    plan_header_reads,
    plan_layout_reads,
)
from protocols.timefmt import utc_now

START_SCAN = 1  # command register value: start a scan now


def _layout_key(header: UnitHeader) -> tuple:
    # scan_in_progress flips on every triggered scan and says nothing about the wiring
    return (header.cable_count, header.stride, header.indoor_present, header.outdoor_present,
            header.self_test_fault, header.on_battery)


class LastValid(Mapping):
    """(wire cable, layer) → the last valid °C of that sensor, kept as one list per cable: a
    tuple key and a dict slot per sensor cost a 20-granary agent most of a megabyte."""

    def __init__(self) -> None:
        self._cables: dict[int, list[float | None]] = {}

    def get(self, key, default=None):
        cable, layer = key
        temps = self._cables.get(cable)
        value = temps[layer - 1] if temps is not None and 1 <= layer <= len(temps) else None
        return default if value is None else value

    def __getitem__(self, key) -> float:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return ((c, i + 1) for c, temps in self._cables.items() for i, v in enumerate(temps) if v is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def remember(self, cable: int, temps: list[float | None]) -> None:
        """Keep the valid values of `temps`; a sensor that gave none keeps its older one."""
        old = self._cables.get(cable, [])
        merged = [t if t is not None else (old[i] if i < len(old) else None) for i, t in enumerate(temps)]
        self._cables[cable] = merged + old[len(merged):]


class UnitPoller:
    """One unit on one bus. Only the bus's worker thread calls it."""

    def __init__(self, link: BusLink, unit: Unit, profile, sleep=time.sleep, clock=time.monotonic,
                 wall: Callable[[], datetime] = utc_now):
        self.link = link
        self.unit = unit
        self.profile = profile
        self.wire_cables = [wire for wire, _ in unit.wiring()]
        self.previous = LastValid()
        self.last_header: UnitHeader | None = None
        self.layout: UnitHeader | None = None  # last header whose sensor counts were read
        self.requests = 0
        # Wall and monotonic time the last header reply arrived: the moment its scan age is from.
        self.header_at: tuple[datetime, float] | None = None
        # Plans by layout: planning sits between the header's reply and the next request, so
        # it is done once per layout, not on every poll.
        self._plans: dict[tuple, list[ReadRequest]] = {}
        self.repeated = False  # the last read_cables found a scan already published
        self._sleep = sleep
        self._clock = clock
        self._wall = wall

    @property
    def is_thrh(self) -> bool:
        return getattr(self.profile, "kind", "cable_unit") == "thrh"

    def forget_layout(self) -> None:
        self.layout = None

    def _plan(self, key: tuple, make: Callable[[], list[ReadRequest]]) -> list[ReadRequest]:
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) > 16:  # layouts rarely change; never let this grow
                self._plans.clear()
            plan = self._plans[key] = make()
        return plan

    def _fetch(self, requests: Iterable[ReadRequest], into: dict[int, int]) -> dict[int, int]:
        for req in requests:
            values = self.link.read(self.unit.address, req.function_code, req.address, req.count)
            self.requests += 1
            into.update(zip(range(req.address, req.address + req.count), values, strict=False))
        return into

    def read_header(self) -> tuple[UnitHeader, dict[int, int]]:
        """The header, with the sensor counts of the wired cables (read now or remembered)."""
        hint = max(self.wire_cables, default=0) or None
        regs = self._fetch(self._plan(("header", hint, self.layout is None), lambda: plan_header_reads(
            self.profile, hint, with_layout=self.layout is None)), {})
        self.header_at = (self._wall(), self._clock())
        header = decode_header(self.profile, regs)
        if self.layout is not None and _layout_key(header) != _layout_key(self.layout):
            self._fetch(plan_layout_reads(self.profile, hint or header.cable_count), regs)
            header = decode_header(self.profile, regs)
        if not header.sensors_per_cable and self.layout is not None:
            header = dataclasses.replace(header, sensors_per_cable=self.layout.sensors_per_cable)
        else:
            self.layout = header
        self.last_header = header
        return header, regs

    def read_cables(self, cables: Iterable[int] | None = None,
                    published: Callable[[int], bool] | None = None) -> UnitReading:
        """A full reading of the wired cables (all of them by default). When `published` says
        the unit's scan counter was already published, the temperatures are not read and the
        reading has no cables (`self.repeated` tells)."""
        header, regs = self.read_header()
        if self.unit.trigger_scan:
            header, regs = self._trigger(header, regs)
        self.repeated = bool(published and header.scan_counter is not None and published(header.scan_counter))
        if self.repeated:
            return decode_unit(self.profile, regs, cables=[], header=header)
        wanted = list(cables) if cables is not None else self.wire_cables
        if header.cable_count is not None:
            wanted = [c for c in wanted if c <= header.cable_count]
        if wanted and len(header.sensors_per_cable) < max(wanted):
            self._fetch(plan_layout_reads(self.profile, max(wanted)), regs)
            header = decode_header(self.profile, regs)
            self.layout = self.last_header = header
        key = ("cables", header.cable_count, header.stride, tuple(header.sensors_per_cable), tuple(wanted))
        self._fetch(self._plan(key, lambda: plan_cable_reads(self.profile, header, wanted)), regs)
        reading = decode_unit(self.profile, regs, cables=wanted, previous=self.previous, header=header)
        self._remember(reading)
        return reading

    def read_air_registers(self) -> UnitReading:
        """Header and air registers only (for units whose air is read on the air schedule)."""
        header, regs = self.read_header()
        return decode_unit(self.profile, regs, cables=[], previous=None, header=header)

    def read_thrh(self) -> AirValue:
        p = self.profile
        regs = self._fetch(plan_cheapest([p.rh_register, p.temp_register], p.function_code), {})
        self.header_at = (self._wall(), self._clock())
        return decode_thrh(p, regs)

    def _trigger(self, header: UnitHeader, regs: dict[int, int]) -> tuple[UnitHeader, dict[int, int]]:
        register = getattr(self.profile, "command_register", None)
        if register is None:
            raise ReadFailure("io", self.unit.address,
                              f"寄存器配置 {self.profile.name} 没有命令寄存器，不能 trigger_scan")
        before = header.scan_counter
        self.link.write(self.unit.address, register, START_SCAN)
        deadline = self._clock() + self.unit.trigger_timeout_s
        while self._clock() < deadline:
            self._sleep(self.unit.trigger_poll_s)
            header, regs = self.read_header()
            if header.scan_counter != before and not header.scan_in_progress:
                return header, regs
        raise ReadFailure("timeout", self.unit.address,
                          f"触发的扫描在 {self.unit.trigger_timeout_s:g} 秒内未完成")

    def _remember(self, reading: UnitReading) -> None:
        for cable in reading.cables:
            self.previous.remember(cable.cable, cable.temps_c)

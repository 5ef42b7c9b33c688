"""A simulated grain-condition sub-unit: scans the pile, holds the result in its registers.

Registers come from `protocols.modbus.codec.encode_unit`, so any cable profile works. Like a
real unit it scans on its own every `scan_every_s` (real seconds) and on command (write 1 to
the command register: the scan takes `scan_duration_s`, status bit 0 is set meanwhile, then
scan_counter moves); 2 clears the self-test fault flag.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from protocols.modbus import codec
from simulators.grainpile.world import OPEN, World
from simulators.modbus.device import read_map
from simulators.modbus.rtu_frame import ILLEGAL_ADDRESS, ILLEGAL_FUNCTION, ILLEGAL_VALUE


class SubUnit:
    def __init__(self, world: World, bus: str, address: int, profile: Any,
                 granary: str | None, wiring: list[tuple[int, int]], *,
                 scan_every_s: float = 10.0, scan_duration_s: float = 0.3,
                 indoor_sensor: bool = True, outdoor_sensor: bool = False,
                 scan_age_step_s: int = 1, monotonic=time.monotonic):
        self.world = world
        self.bus = bus
        self.address = address
        self.profile = profile
        self.granary = granary
        self.wiring = dict(wiring)          # wire cable (1-based) → granary cable
        self.scan_every_s = scan_every_s
        self.scan_duration_s = scan_duration_s
        self.indoor_sensor = indoor_sensor and granary is not None
        self.outdoor_sensor = outdoor_sensor
        # Real controllers count the scan age in whole seconds, rounded down, some in coarser steps.
        self.scan_age_step_s = max(1, int(scan_age_step_s))
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.scan_counter = 0
        self.self_test_cleared_at: float | None = None   # sim time of the last "clear faults"
        self._scan_done_at = monotonic()
        self._scan_pending_until: float | None = None
        self.last_scan_t = world.now_t()
        self.snapshot: dict[int, list[Any]] = {}          # wire cable → sensed values
        self.air: dict[str, tuple[float, float]] = {}
        self._registers: dict[int, int] = {}
        self._registers_key: tuple | None = None
        self._scans = 0  # scans done: a new scan is a new register map
        self._scan(self.last_scan_t)

    # --- scanning ------------------------------------------------------------------------
    def _scan(self, t: float) -> None:
        sensed = self.world.sensed_grain(self.granary, t) if self.granary else {}
        self.snapshot = {w: list(sensed.get(c, [])) for w, c in self.wiring.items()}
        self.air = {}
        if self.indoor_sensor:
            self.air["indoor"] = self.world.indoor_air(self.granary, t)
        if self.outdoor_sensor:
            self.air["outdoor"] = self.world.outdoor_air(t)
        self.last_scan_t = t
        self.scan_counter = (self.scan_counter + 1) & 0xFFFF
        self._scans += 1
        self._scan_done_at = self._monotonic()

    def _catch_up(self) -> None:
        now = self._monotonic()
        if self._scan_pending_until is not None:
            if now >= self._scan_pending_until:
                self._scan_pending_until = None
                self._scan(self.world.now_t())
        elif self.scan_every_s > 0 and now - self._scan_done_at >= self.scan_every_s:
            self._scan(self.world.now_t())

    def start_scan(self) -> None:
        with self._lock:
            if self._scan_pending_until is None:
                self._scan_pending_until = self._monotonic() + self.scan_duration_s

    def scan_now(self) -> None:
        """Complete a scan immediately (tests, demo)."""
        with self._lock:
            self._scan_pending_until = None
            self._scan(self.world.now_t())

    # --- registers -----------------------------------------------------------------------
    def _self_test_fault(self) -> bool:
        t = self.world.now_t()
        for item in self.world.scenarios.all():
            s = item.scenario
            if (s.kind == "self_test_fault" and s.bus == self.bus and s.address == self.address
                    and item.on(t) and (self.self_test_cleared_at is None
                                        or self.self_test_cleared_at < item.start_t)):
                return True
        return False

    def state(self) -> codec.UnitState:
        cable_count = max(self.wiring, default=0)
        fixed = getattr(self.profile, "cable_count", None)
        if fixed:
            cable_count = fixed
        temps: list[list[Any]] = []
        for wire in range(1, cable_count + 1):
            values = self.snapshot.get(wire, [])
            temps.append([codec.FAULT if v == OPEN else v for v in values])
        stride = self.profile.stride or max([len(t) for t in temps] + [1])
        air = {p: self.air.get(p) for p in ("indoor", "outdoor")}
        return codec.UnitState(
            temps=temps,
            indoor=air["indoor"],
            outdoor=air["outdoor"],
            scan_in_progress=self._scan_pending_until is not None,
            self_test_fault=self._self_test_fault(),
            on_battery=False,
            scan_counter=self.scan_counter,
            scan_age_s=min(65535, self.scan_age_s()),
            stride=stride,
        )

    def scan_age_s(self) -> int:
        age = int(self._monotonic() - self._scan_done_at)
        return age - age % self.scan_age_step_s

    def registers(self) -> dict[int, int]:
        # A real unit answers from its register memory at once: encode the map again only when
        # something in it moved (a scan, the age's second, a flag), or replies would lag the
        # wire-time emulation on a busy machine.
        with self._lock:
            self._catch_up()
            state = self.state()
            key = (self._scans, state.scan_age_s, state.scan_in_progress, state.self_test_fault)
            if key != self._registers_key:
                self._registers = codec.encode_unit(self.profile, state)
                self._registers_key = key
            return self._registers

    def read(self, function: int, start: int, count: int) -> list[int] | int:
        return read_map(self.registers(), function, (self.profile.function_code,), start, count)

    def write(self, start: int, values: list[int]) -> int | None:
        command = getattr(self.profile, "command_register", None)
        if command is None:
            return ILLEGAL_FUNCTION
        if start != command or len(values) != 1:
            return ILLEGAL_ADDRESS
        if values[0] == 1:
            self.start_scan()
        elif values[0] == 2:
            self.self_test_cleared_at = self.world.now_t()
        elif values[0] != 0:
            return ILLEGAL_VALUE
        return None

    # --- what a correct reader gets --------------------------------------------------------
    def expected(self) -> dict[int, list[float | None]]:
        """granary cable → the temperatures a correct reader decodes now (faults → None)."""
        with self._lock:
            self._catch_up()
            out = {}
            for wire, cable in self.wiring.items():
                values = self.snapshot.get(wire, [])
                out[cable] = [_expected_value(v, self.profile.scale) for v in values]
            return out


def _expected_value(v: Any, scale: float) -> float | None:
    if v == OPEN or not isinstance(v, float):
        return None
    if v < -40.0 or v >= 85.0:     # short (out of range) and the 85.0 power-on value
        return None
    return round(round(v / scale) * scale, 2)   # as protocols.modbus.codec decodes it

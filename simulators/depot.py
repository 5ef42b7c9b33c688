"""A whole simulated depot: every unit and transmitter of the depot file on its bus.

The servers run on one asyncio loop in a background thread, so the caller (a test, the CLI,
the demo) stays synchronous: `start()`, read `endpoints`, `inject(...)`, `stop()`.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from protocols.depot.loader import resolve_path
from simulators.control import ControlServer
from simulators.grainpile.clock import SimClock
from simulators.grainpile.scenarios import ScenarioError, parse_scenario
from simulators.grainpile.world import World, geometry_of
from simulators.load import cross_check, scenario_problems
from simulators.modbus.device import Device, FaultGate
from simulators.modbus.rtu_pty import LineSettings, RtuPtyServer
from simulators.modbus.subunit import SubUnit
from simulators.modbus.tcp import TcpSlaves
from simulators.settings import SimulationSettings, SimulationSettingsError, parse_simulation
from simulators.th485 import Th485


@dataclass(frozen=True)
class Endpoint:
    bus: str
    address: int
    profile: str
    transport: str          # "tcp" | "pty"
    where: str              # host:port or /dev/pts/N
    link: str | None = None

    def line(self) -> str:
        # The address stays the last word (before the link): scripts take the port from it.
        text = f"设备 {self.bus}/{self.address} {self.profile} 监听 {self.transport} {self.where}"
        return text + (f"（链接 {self.link}）" if self.link else "")


def _utc_offset_h(timezone: str, at: datetime) -> float:
    try:
        offset = ZoneInfo(timezone).utcoffset(at)
    except Exception:  # noqa: BLE001 - an unknown zone only shifts the daily swing
        return 0.0
    return offset.total_seconds() / 3600.0 if offset else 0.0


class SimulatedDepot:
    """Devices of `config` (a protocols.depot DepotConfig) driven by one grain-pile world."""

    def __init__(self, config: Any, sim_settings: SimulationSettings | dict | None = None,
                 *, config_source: str | None = None, clock: SimClock | None = None):
        if not isinstance(sim_settings, SimulationSettings):
            sim_settings = parse_simulation(
                sim_settings if sim_settings is not None else config.simulation)
            problems = cross_check(config, sim_settings)
            if problems:
                raise SimulationSettingsError(problems)
        self.config = config
        self.settings = s = sim_settings
        self.config_source = config_source
        start = s.start or datetime.now(UTC).replace(microsecond=0)
        self.clock = clock or SimClock(start, s.speed)
        self.world = World(
            [geometry_of(g) for g in config.granaries], self.clock, s.seed,
            s.climate_settings(), s.thermal_settings(),
            _utc_offset_h(config.depot.timezone, self.clock.start),
            {code: g.initial_c for code, g in s.granaries.items()},
        )
        for scenario in s.parsed_scenarios():
            self.world.schedule(scenario, at_start=True)
        self.devices: dict[tuple[str, int], Device] = {}
        self.endpoints: list[Endpoint] = []
        self._servers: list[Any] = []
        self.control_path: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- building ------------------------------------------------------------------------
    def _device(self, bus: Any, unit: Any) -> Device:
        profile = self.config.profile(unit.profile)
        if profile.kind == "thrh":
            place = unit.air or "outdoor"
            return Th485(self.world, unit.address, profile, place, unit.granary)
        opts = self.settings.device(bus.name, unit.address)
        # The depot file's `air:` list says which units carry an outside-air sensor.
        outdoor = opts.outdoor_sensor or any(
            a.place == "outdoor" and a.bus == bus.name and a.address == unit.address
            for a in self.config.air)
        return SubUnit(
            self.world, bus.name, unit.address, profile, unit.granary, unit.wiring(),
            scan_every_s=self.settings.unit_scan_every_s,
            scan_duration_s=self.settings.scan_duration_s,
            indoor_sensor=opts.indoor_sensor, outdoor_sensor=outdoor,
        )

    def _path(self, path: str) -> str:
        return resolve_path(self.config_source, path) if self.config_source else path

    async def _start_bus(self, bus: Any) -> None:
        devices = {u.address: self._device(bus, u) for u in bus.units}
        for address, device in devices.items():
            self.devices[(bus.name, address)] = device
        gate = FaultGate(bus.name, self.world.scenarios, self.world.now_t)
        profiles = {u.address: u.profile for u in bus.units}
        if bus.kind == "tcp":
            port = self.settings.tcp_ports.get(bus.name, bus.port)
            server = await TcpSlaves(devices, self.settings.listen_host, port, gate,
                                     bus.name).start()
            where = f"{server.host}:{server.port}"
            transport, link = "tcp", None
        else:
            link = self.settings.serial_links.get(bus.name)
            link = self._path(link) if link else None
            line = LineSettings(bus.baud, bus.parity, bus.stop_bits, self.settings.rtu_wire_time)
            server = await RtuPtyServer(devices, line, gate, link, bus.name).start()
            where, transport = server.path, "pty"
        self._servers.append(server)
        for address in devices:
            self.endpoints.append(
                Endpoint(bus.name, address, profiles[address], transport, where, link))

    # --- running -------------------------------------------------------------------------
    def start(self) -> list[Endpoint]:
        if self._loop is not None:
            raise RuntimeError("SimulatedDepot already started")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sim-depot",
                                        daemon=True)
        self._thread.start()
        try:
            for bus in self.config.buses:
                self._call(self._start_bus(bus))
            if self.settings.control_socket:
                self.control_path = self._path(self.settings.control_socket)
                self._servers.append(self._call(ControlServer(self, self.control_path).start()))
        except BaseException:
            self.stop()
            raise
        return list(self.endpoints)

    def _call(self, coro, timeout: float = 10.0):
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        if self._loop is None:
            return
        for server in reversed(self._servers):
            try:
                self._call(server.stop())
            except Exception:  # noqa: BLE001 - stop the others anyway
                pass
        self._servers.clear()
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> SimulatedDepot:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- looking inside, changing things -------------------------------------------------
    def endpoint(self, bus: str) -> Endpoint:
        return next(e for e in self.endpoints if e.bus == bus)

    def device(self, bus: str, address: int) -> Device:
        return self.devices[(bus, address)]

    def expected_grain(self, granary: str) -> dict[int, list[float | None]]:
        """cable → temperatures (top first) a correct reader decodes from the units now:
        the last scan's values at the profile's resolution, None where a sensor is faulty."""
        out: dict[int, list[float | None]] = {}
        for device in self.devices.values():
            if isinstance(device, SubUnit) and device.granary == granary:
                out.update(device.expected())
        return dict(sorted(out.items()))

    def model_grain(self, granary: str, t: float | None = None) -> dict[int, list[float]]:
        """The pile's physical temperatures right now (or at simulated UNIX time `t`)."""
        return self.world.grain(granary, t)

    def scan_all(self) -> None:
        """Every sub-unit completes a scan now (a test's "take a fresh reading")."""
        for device in self.devices.values():
            if isinstance(device, SubUnit):
                device.scan_now()

    def inject(self, scenario: Any) -> int:
        """Start a scenario (a dict as in `simulation.scenarios`); `start_after` counts from
        now. Returns its id for `clear`. Raises ScenarioError naming the bad setting."""
        scenario = parse_scenario(scenario)
        problems = scenario_problems(self.config, scenario)
        if problems:
            raise ScenarioError(problems)
        return self.world.schedule(scenario)

    def clear(self, scenario_id: int | None = None, kind: str | None = None) -> int:
        return self.world.scenarios.remove(scenario_id, kind)

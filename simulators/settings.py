"""The `simulation:` section of the depot file (read only by the simulators), validated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simulators.grainpile.climate import ClimateSettings
from simulators.grainpile.scenarios import ScenarioError, parse_scenario, validation_problems
from simulators.grainpile.thermal import ThermalSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClimateModel(_Strict):
    mean_c: float = Field(default=17.0, ge=-30, le=40)
    annual_amplitude_c: float = Field(default=12.0, ge=0, le=40)
    daily_amplitude_c: float = Field(default=5.0, ge=0, le=20)
    rh_pct: float = Field(default=70.0, gt=0, le=100)
    warmest_day_of_year: float = Field(default=200.0, ge=1, le=366)
    warmest_hour: float = Field(default=15.0, ge=0, lt=24)
    weather_amplitude_c: float = Field(default=2.0, ge=0, le=15)
    weather_waves: int = Field(default=4, ge=0, le=12)


class ThermalModel(_Strict):
    surface_lag_h: float = Field(default=2.0, gt=0)
    deep_lag_days: float = Field(default=60.0, gt=0)
    deep_from_m: float = Field(default=3.0, gt=0)
    wall_factor: float = Field(default=2.0, ge=0)
    conduction: float = Field(default=0.1, ge=0, le=0.5)
    sensor_offset_c: float = Field(default=0.2, ge=0, le=5)
    indoor_lag_h: float = Field(default=4.0, gt=0)
    indoor_gain_c: float = Field(default=1.0, ge=-10, le=10)
    equilibrium_rh_pct: float = Field(default=65.0, gt=0, le=100)


class GranarySim(_Strict):
    initial_c: float | None = Field(default=None, ge=-40, le=60)


class DeviceSim(_Strict):
    """Per device (`bus/address`): air sensors wired to a sub-unit."""

    indoor_sensor: bool = True
    outdoor_sensor: bool = False


class SimulationSettings(_Strict):
    seed: int = 0
    speed: float = Field(default=1.0, gt=0, le=10_000_000)
    start: datetime | None = None          # None: now
    listen_host: str = "127.0.0.1"
    rtu_wire_time: bool = True
    serial_links: dict[str, str] = Field(default_factory=dict)
    tcp_ports: dict[str, int] = Field(default_factory=dict)   # bus → port (0 = any free)
    control_socket: str | None = None      # Unix socket for `grainlink sim inject/clear`
    unit_scan_every_s: float = Field(default=10.0, ge=0)      # real seconds; 0 = on command only
    scan_duration_s: float = Field(default=0.3, ge=0, le=60)  # real seconds a scan takes
    climate: ClimateModel = Field(default_factory=ClimateModel)
    thermal: ThermalModel = Field(default_factory=ThermalModel)
    granaries: dict[str, GranarySim] = Field(default_factory=dict)
    devices: dict[str, DeviceSim] = Field(default_factory=dict)
    scenarios: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("start 须带时区，如 2026-11-01T00:00:00Z")
        return value.astimezone(UTC) if value is not None else None

    @field_validator("tcp_ports")
    @classmethod
    def _ports(cls, value: dict[str, int]) -> dict[str, int]:
        for bus, port in value.items():
            if not 0 <= port <= 65535:
                raise ValueError(f"{bus}：端口 {port} 不在 0..65535 之间")
        return value

    def climate_settings(self) -> ClimateSettings:
        return ClimateSettings(**self.climate.model_dump())

    def thermal_settings(self) -> ThermalSettings:
        return ThermalSettings(**self.thermal.model_dump())

    def parsed_scenarios(self) -> list[Any]:
        return [parse_scenario(s) for s in self.scenarios]

    def device(self, bus: str, address: int) -> DeviceSim:
        return self.devices.get(f"{bus}/{address}", DeviceSim())


class SimulationSettingsError(ValueError):
    """The `simulation:` section is wrong; `problems` are (path from the file root, message)."""

    def __init__(self, problems: list[tuple[tuple, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m in problems))


def parse_simulation(data: Any) -> SimulationSettings:
    """Validate the raw `simulation:` mapping; every problem is reported at once."""
    root = ("simulation",)
    if data is None:
        return SimulationSettings()
    if not isinstance(data, dict):
        raise SimulationSettingsError([(root, f"须为映射，而不是 {type(data).__name__}")])
    try:
        settings = SimulationSettings.model_validate(data)
    except ValidationError as exc:
        raise SimulationSettingsError(
            [(root + path, msg) for path, msg in validation_problems(exc)]) from None
    problems = []
    for i, item in enumerate(settings.scenarios):
        try:
            parse_scenario(item)
        except ScenarioError as exc:
            problems += [((*root, "scenarios", i, *path), msg) for path, msg in exc.problems]
    if problems:
        raise SimulationSettingsError(problems)
    return settings

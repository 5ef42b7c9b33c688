"""Scenarios: what goes wrong in the simulated depot, and when (simulated time).

Written in the depot file under `simulation.scenarios`, or injected at runtime with
`SimulatedDepot.inject(...)`. `start_after` / `lasts` are simulated durations (`2d`, `6h`,
seconds) counted from the simulation start (file) or from the moment of injection (runtime).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from protocols.depot.durations import parse_duration
from protocols.pydantic_zh import show_value, translate
from simulators.grainpile.thermal import Condensation, Hotspot


def _duration_or_zero(value: Any) -> Any:
    if value in (0, "0", 0.0):
        return 0.0
    return parse_duration(value)


SimDuration = Annotated[float, BeforeValidator(_duration_or_zero)]
Address = Annotated[int, Field(ge=1, le=247)]


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start_after: SimDuration = 0.0
    lasts: SimDuration | None = None


class HotspotScenario(_Base):
    """A point that heats at `rate_c_per_day` (its direct neighbours by `spread` of that)."""

    kind: Literal["hotspot"]
    granary: str
    cable: int = Field(ge=1)
    layer: int = Field(ge=1)
    rate_c_per_day: float = Field(gt=0, le=50)
    max_rise_c: float = Field(default=40.0, gt=0)
    spread: float = Field(default=0.3, ge=0, le=1)


class CondensationScenario(_Base):
    kind: Literal["condensation"]
    granary: str
    warm_by_c: float = Field(default=5.0, gt=0, le=30)
    rh_pct: float = Field(default=90.0, gt=0, le=100)


class SensorFaultScenario(_Base):
    """open → 0x8000; short → −127.0 °C (out of range); power_on → exactly 85.0 °C."""

    kind: Literal["sensor_fault"]
    granary: str
    cable: int = Field(ge=1)
    layer: int = Field(ge=1)
    fault: Literal["open", "short", "power_on"]


class CableMissingScenario(_Base):
    """The cable vanishes: sensors_on_cable 0, every slot reads 'no sensor'."""

    kind: Literal["cable_missing"]
    granary: str
    cable: int = Field(ge=1)


class SlaveSilentScenario(_Base):
    kind: Literal["slave_silent"]
    bus: str
    address: Address


class CrcCorruptScenario(_Base):
    """Every `every`-th reply of the slave has a broken CRC (RTU only; TCP has no CRC)."""

    kind: Literal["crc_corrupt"]
    bus: str
    address: Address
    every: int = Field(default=1, ge=1)


class ExceptionReplyScenario(_Base):
    """Every `every`-th request gets Modbus exception `code` (4 device failure, 6 busy...)."""

    kind: Literal["exception_reply"]
    bus: str
    address: Address
    code: int = Field(default=4, ge=1, le=255)
    every: int = Field(default=1, ge=1)


class SelfTestFaultScenario(_Base):
    """Status bit 3 set until the command register gets 2 (clear faults)."""

    kind: Literal["self_test_fault"]
    bus: str
    address: Address


Scenario = Annotated[
    HotspotScenario | CondensationScenario | SensorFaultScenario | CableMissingScenario
    | SlaveSilentScenario | CrcCorruptScenario | ExceptionReplyScenario | SelfTestFaultScenario,
    Field(discriminator="kind"),
]
KINDS = ("hotspot", "condensation", "sensor_fault", "cable_missing", "slave_silent",
         "crc_corrupt", "exception_reply", "self_test_fault")
_ADAPTER: TypeAdapter = TypeAdapter(Scenario)


class ScenarioError(ValueError):
    """A scenario that cannot be used; `problems` are (setting path, message) pairs."""

    def __init__(self, problems: list[tuple[tuple, str]], where: str = "scenario"):
        self.problems = problems
        super().__init__("; ".join(
            f"{'.'.join([where, *map(str, path)])}: {msg}" for path, msg in problems))


def validation_problems(exc: ValidationError) -> list[tuple[tuple, str]]:
    """pydantic errors → (path, message), without the union's tag names in the path."""
    out = []
    for err in exc.errors():
        path = tuple(p for p in err["loc"] if str(p) not in KINDS)
        out.append((path, translate(err)))  # in Chinese, as every message a person reads
    return out


def parse_scenario(data: Any, where: str = "scenario") -> Scenario:
    if isinstance(data, BaseModel):
        return data
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        kind = data.get("kind") if isinstance(data, dict) else None
        raise ScenarioError([(("kind",), f"{show_value(kind)} 不是以下之一：{'、'.join(KINDS)}")], where)
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ScenarioError(validation_problems(exc), where) from None


@dataclass(frozen=True)
class Active:
    id: int
    scenario: Any
    start_t: float
    end_t: float | None

    def on(self, t: float) -> bool:
        return self.start_t <= t and (self.end_t is None or t < self.end_t)


class ScenarioBook:
    """Scheduled scenarios; thread-safe (the servers read it, the caller injects)."""

    def __init__(self):
        self._items: list[Active] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, scenario: Any, origin_t: float) -> int:
        start = origin_t + scenario.start_after
        end = start + scenario.lasts if scenario.lasts is not None else None
        with self._lock:
            item = Active(next(self._ids), scenario, start, end)
            self._items.append(item)
        return item.id

    def remove(self, scenario_id: int | None = None, kind: str | None = None) -> int:
        """Drop one scenario by id, all of one kind, or (both None) all; returns how many."""
        with self._lock:
            keep = [a for a in self._items
                    if not ((scenario_id is None or a.id == scenario_id)
                            and (kind is None or a.scenario.kind == kind))]
            dropped = len(self._items) - len(keep)
            self._items = keep
        return dropped

    def active(self, t: float, kind: str, **match: Any) -> list[Any]:
        with self._lock:
            items = list(self._items)
        return [a.scenario for a in items if a.scenario.kind == kind and a.on(t)
                and all(getattr(a.scenario, k) == v for k, v in match.items())]

    def all(self) -> list[Active]:
        with self._lock:
            return list(self._items)

    # what the model and the units need, per granary / device
    def hotspots(self, granary: str, t: float) -> list[Hotspot]:
        out = []
        for a in self.all():
            s = a.scenario
            if s.kind == "hotspot" and s.granary == granary and a.on(t):
                out.append(Hotspot(s.cable, s.layer, s.rate_c_per_day, a.start_t,
                                   s.max_rise_c, s.spread))
        return out

    def condensation(self, granary: str, t: float) -> Condensation | None:
        found = self.active(t, "condensation", granary=granary)
        return Condensation(found[-1].warm_by_c, found[-1].rh_pct) if found else None

    def sensor_faults(self, granary: str, t: float) -> dict[tuple[int, int], str]:
        return {(s.cable, s.layer): s.fault
                for s in self.active(t, "sensor_fault", granary=granary)}

    def missing_cables(self, granary: str, t: float) -> set[int]:
        return {s.cable for s in self.active(t, "cable_missing", granary=granary)}

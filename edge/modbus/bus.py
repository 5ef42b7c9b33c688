"""Everything on one bus: its link, its units, their backoff. Called only from the bus's own
worker thread (one request at a time per bus); different buses run in parallel."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from edge.modbus.backoff import UnitBackoff
from edge.modbus.counters import ErrorCounters
from edge.modbus.link import BusLink, ReadFailure
from edge.modbus.unit import UnitPoller
from protocols.depot.model import DepotConfig, SerialBus, TcpBus, Unit
from protocols.timefmt import utc_now

log = logging.getLogger(__name__)


@dataclass
class UnitResult:
    """What one poll of one unit produced: a reading or the reason there is none."""

    bus: str
    unit: Unit
    read_at: datetime  # wall clock when the read finished
    read_mono: float  # monotonic time of the same moment (to restamp held scans)
    reading: object | None = None  # UnitReading (cable unit) or AirValue (T/RH transmitter)
    error: str | None = None
    skipped: bool = False  # backed off: not asked this time

    @property
    def ok(self) -> bool:
        return self.reading is not None


@dataclass
class BusHealth:
    last_ok: float | None = None
    last_error: str | None = None
    polls: int = 0
    dead_units: set[int] = field(default_factory=set)


class BusPoller:
    def __init__(
        self,
        config: DepotConfig,
        bus: SerialBus | TcpBus,
        counters: ErrorCounters,
        device: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utc_now,
    ):
        self.bus = bus
        self.counters = counters
        self.link = BusLink(bus, counters, device=device)
        self.units = {u.address: UnitPoller(self.link, u, config.profile(u.profile)) for u in bus.units}
        self.backoff = {u.address: UnitBackoff(bus.backoff_initial_s, bus.backoff_max_s) for u in bus.units}
        self.health = BusHealth()
        self._clock = clock
        self._wall = wall

    def close(self) -> None:
        self.link.close()

    def units_of_granary(self, granary: str) -> list[Unit]:
        return [u for u in self.bus.units if u.granary == granary and u.cables]

    def poll(self, address: int, what: str, force: bool = False) -> UnitResult:
        """Poll one unit: `what` is "cables", "air" (its air registers) or "thrh"."""
        unit_poller = self.units[address]
        backoff = self.backoff[address]
        now = self._clock()
        if not force and not backoff.ready(now):
            return self._result(unit_poller.unit, skipped=True, error="backed off")
        try:
            if what == "cables":
                reading = unit_poller.read_cables()
            elif what == "air":
                reading = unit_poller.read_air_registers()
            else:
                reading = unit_poller.read_thrh()
        except ReadFailure as failure:
            pause = backoff.failed(self._clock())
            self.health.dead_units.add(address)
            self.health.last_error = f"unit {address}: {failure}"
            log.warning("bus %s unit %s: %s; next try in %.0fs", self.bus.name, address, failure, pause,
                        extra={"bus": self.bus.name, "unit": address, "kind": failure.kind})
            return self._result(unit_poller.unit, error=str(failure))
        except Exception as exc:  # a decoder surprise must not take the bus down
            backoff.failed(self._clock())
            self.counters.failure(self.bus.name, address, "decode")
            log.exception("bus %s unit %s: cannot decode", self.bus.name, address)
            return self._result(unit_poller.unit, error=f"decode: {exc}")
        if backoff.dead:
            log.info("bus %s unit %s answers again", self.bus.name, address)
        backoff.succeeded()
        self.health.dead_units.discard(address)
        self.health.last_ok = self._clock()
        return self._result(unit_poller.unit, reading=reading)

    def _result(self, unit: Unit, **kw) -> UnitResult:
        self.health.polls += 1
        return UnitResult(bus=self.bus.name, unit=unit, read_at=self._wall(), read_mono=self._clock(), **kw)

    def scan_granary(self, granary: str) -> list[UnitResult]:
        return [self.poll(u.address, "cables") for u in self.units_of_granary(granary)]

    @property
    def ok(self) -> bool:
        """Healthy when no unit is failing (a bus with no units is healthy)."""
        return not self.health.dead_units

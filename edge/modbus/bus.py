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
from protocols.modbus.wire import read_wire_time_s
from protocols.timefmt import utc_now

log = logging.getLogger(__name__)

# A dead slave's probe waits this long beyond the wire time of the longest reply: a live slave
# starts answering within milliseconds, and a dead one must cost its bus little.
PROBE_LATENCY_S = 0.15
# Behind a Modbus TCP gateway the reply still crosses an RS-485 line: assume the slowest usual one.
_GATEWAY_LINE_BAUD = 9600


def decode_error(address: int, exc: Exception) -> str:
    """A reply that passed the frame checks but that the profile's codec could not read: said
    as every other failure of a unit is ("分机 N：…"), as it is shown beside them."""
    return f"分机 {address}：应答无法按寄存器配置解读（{exc}）"


@dataclass
class UnitResult:
    """What one poll of one unit produced: a reading or the reason there is none."""

    bus: str
    unit: Unit
    read_at: datetime  # wall clock when the unit's header (with its scan age) came back
    read_mono: float  # monotonic time of the same moment (to restamp held scans)
    reading: object | None = None  # UnitReading (cable unit) or AirValue (T/RH transmitter)
    error: str | None = None
    skipped: bool = False  # backed off: not asked this time
    scan_counter: int | None = None  # the unit's scan counter, when its profile has one
    repeated: bool = False  # a scan already committed: its temperatures were not read again
    what: str = "cables"  # what was polled: "cables", "air" or "thrh"

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
        committed: Callable[[str, int, int], bool] | None = None,
    ):
        self.bus = bus
        self.counters = counters
        # (bus, unit address, scan counter) → already in the outbox: such a scan is not read again
        self.committed = committed
        self.link = BusLink(bus, counters, device=device)
        self.units = {u.address: UnitPoller(self.link, u, config.profile(u.profile), clock=clock, wall=wall)
                      for u in bus.units}
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
            return self._result(unit_poller.unit, skipped=True, error=f"分机 {address}：连续失败，暂不询问")
        unit_poller.header_at = None
        try:
            if backoff.dead:
                with self.link.probing(self._probe_wait_s()):
                    reading = self._read(unit_poller, address, what)
            else:
                reading = self._read(unit_poller, address, what)
        except ReadFailure as failure:
            pause = backoff.failed(self._clock())
            unit_poller.forget_layout()  # a unit that comes back may be another one
            self.health.dead_units.add(address)
            self.health.last_error = str(failure)  # "分机 N：…": whoever shows it names the bus
            log.warning("bus %s unit %s: %s; next try in %.0fs", self.bus.name, address, failure, pause,
                        extra={"bus": self.bus.name, "unit": address, "kind": failure.kind})
            return self._result(unit_poller.unit, error=str(failure))
        except Exception as exc:  # a decoder surprise must not take the bus down
            backoff.failed(self._clock())
            unit_poller.forget_layout()
            self.counters.failure(self.bus.name, address, "decode")
            log.exception("bus %s unit %s: cannot decode", self.bus.name, address)
            self.health.last_error = decode_error(address, exc)
            return self._result(unit_poller.unit, error=self.health.last_error)
        if backoff.dead:
            log.info("bus %s unit %s answers again", self.bus.name, address)
        backoff.succeeded()
        self.health.dead_units.discard(address)
        self.health.last_ok = self._clock()
        wall, mono = unit_poller.header_at or (self._wall(), self._clock())
        counter = getattr(getattr(reading, "header", None), "scan_counter", None)
        repeated = what == "cables" and unit_poller.repeated
        return self._result(unit_poller.unit, reading=reading, read_at=wall, read_mono=mono,
                            scan_counter=counter, repeated=repeated, what=what)

    def _read(self, unit_poller: UnitPoller, address: int, what: str):
        if what == "cables":
            return unit_poller.read_cables(published=self._committed_check(address))
        if what == "air":
            return unit_poller.read_air_registers()
        return unit_poller.read_thrh()

    def _probe_wait_s(self) -> float:
        bus = self.bus
        wire = read_wire_time_s(125, bus.baud, bus.parity, bus.stop_bits) if isinstance(bus, SerialBus) \
            else read_wire_time_s(125, _GATEWAY_LINE_BAUD)
        return min(bus.timeout_s, PROBE_LATENCY_S + wire)

    def _committed_check(self, address: int) -> Callable[[int], bool] | None:
        if self.committed is None:
            return None
        committed, bus = self.committed, self.bus.name
        return lambda counter: committed(bus, address, counter)

    def _result(self, unit: Unit, read_at: datetime | None = None, read_mono: float | None = None,
                **kw) -> UnitResult:
        self.health.polls += 1
        return UnitResult(bus=self.bus.name, unit=unit, read_at=read_at or self._wall(),
                          read_mono=self._clock() if read_mono is None else read_mono, **kw)

    def scan_granary(self, granary: str) -> list[UnitResult]:
        return [self.poll(u.address, "cables") for u in self.units_of_granary(granary)]

    @property
    def ok(self) -> bool:
        """Healthy when no unit is failing (a bus with no units is healthy)."""
        return not self.health.dead_units

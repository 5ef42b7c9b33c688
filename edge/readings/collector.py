"""From unit poll results to committed outbox rows, minding the clock and the unit's scan
counter: a unit scan is stamped once (the scan ledger) and committed once.

With an unsynchronised clock and `clock_policy: hold`, scans wait in memory with the monotonic
time of their reading; once the clock is synchronised they are stamped by that offset (or, past
`clock_hold_max`, with the clock as it is, logged). `mark` stamps at once and reports the clock
state in logs, metrics and status.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from edge.outbox.outbox import Outbox, OutboxFull
from edge.readings.ledger import ScanLedger
from edge.readings.stamp import air_reading, grain_scans, scan_time
from edge.status.metrics import Metrics
from protocols.depot.model import DepotConfig
from protocols.mqtt.models import AirReading, GrainScan
from protocols.timefmt import utc_now

if TYPE_CHECKING:
    from edge.modbus.bus import UnitResult

log = logging.getLogger(__name__)

_CLOCK_RECHECK_S = 30.0


@dataclass
class HeldScan:
    grain: list[GrainScan]
    air: list[AirReading]
    stamped_wall: datetime  # the (untrusted) wall clock used for ts
    stamped_mono: float
    scans: list[tuple[str, int, int]]  # (bus, unit, scan counter) of the unit scans held


class Collector:
    def __init__(
        self,
        config: DepotConfig,
        outbox: Outbox,
        metrics: Metrics,
        clock_ok: Callable[[], bool],
        on_committed: Callable[[], None] = lambda: None,
        wall: Callable[[], datetime] = utc_now,
        mono: Callable[[], float] = time.monotonic,
        ledger: ScanLedger | None = None,
    ):
        self.config = config
        self.ledger = ledger
        self.outbox = outbox
        self.metrics = metrics
        self._clock_ok_probe = clock_ok
        self._on_committed = on_committed
        self._wall = wall
        self._mono = mono
        self._lock = threading.Lock()
        self._held: list[HeldScan] = []
        self._clock_ok: bool | None = None
        self._clock_checked = -1e18
        self._air_listeners: list[Callable[[list[AirReading]], None]] = []

    def add_air_listener(self, fn: Callable[[list[AirReading]], None]) -> None:
        """`fn(air)` gets the air readings of every poll as they are converted (before any
        holding for the clock), e.g. the cameras' overlay text."""
        self._air_listeners.append(fn)

    # ---- clock ---------------------------------------------------------------------------

    def clock_ok(self, force: bool = False) -> bool:
        now = self._mono()
        if force or now - self._clock_checked >= _CLOCK_RECHECK_S:
            ok = bool(self._clock_ok_probe())
            if ok != self._clock_ok:
                log.log(logging.INFO if ok else logging.WARNING, "system clock %s",
                        "synchronised" if ok else "NOT synchronised", extra={"clock_synchronised": ok})
            self._clock_ok, self._clock_checked = ok, now
            self.metrics.set("clock_synchronised", 1 if ok else 0)
        return bool(self._clock_ok)

    @property
    def held_count(self) -> int:
        with self._lock:
            return len(self._held)

    # ---- results → messages --------------------------------------------------------------

    def messages(self, results: list[UnitResult]) -> tuple[list[GrainScan], list[AirReading]]:
        grain: list[GrainScan] = []
        air: list[AirReading] = []
        for r in results:
            labels = {"bus": r.bus, "unit": r.unit.address}
            if r.skipped:
                self.metrics.inc("polls_skipped_total", **labels)
                continue
            if not r.ok:
                self.metrics.inc("polls_failed_total", **labels)
                continue
            self.metrics.inc("polls_ok_total", **labels)
            if r.repeated:  # a unit scan already committed: nothing new
                self.metrics.inc("polls_repeated_total", **labels)
                continue
            try:
                g, a = self._convert(r)
            except Exception:  # one odd reading must not lose the rest of the scan
                log.exception("bus %s unit %s: reading not convertible", r.bus, r.unit.address)
                self.metrics.inc("polls_failed_total", **labels)
                continue
            grain += g
            air += a
        if air:
            for fn in self._air_listeners:
                fn(air)
        return grain, air

    def _convert(self, r: UnitResult) -> tuple[list[GrainScan], list[AirReading]]:
        unit = r.unit
        reading = r.reading
        if unit.air is not None and not unit.cables:  # a T/RH transmitter
            ts = r.read_at.replace(microsecond=0)
            one = air_reading(reading, unit.air, unit.granary, ts)
            return [], [one] if one else []
        ts = scan_time(r.read_at, getattr(reading.header, "scan_age_s", 0))
        counter = r.scan_counter
        if counter is not None and self.ledger is not None:
            ts = self.ledger.stamp(r.bus, unit.address, counter, ts)
        grain = []
        if unit.granary and r.reading.cables:
            grain = grain_scans(reading, unit, self.config.granary(unit.granary), ts, counter)
        air = []
        for src in self.config.air:
            if src.bus == r.bus and src.address == unit.address:
                value = reading.indoor if src.place == "indoor" else reading.outdoor
                one = air_reading(value, src.place, src.granary, ts)
                if one:
                    air.append(one)
        return grain, air

    def record(self, results: list[UnitResult], what: str) -> int:
        """Commit the readings of `results` (or hold them); returns readings accepted."""
        grain, air = self.messages(results)
        if not grain and not air:
            return 0
        readings = sum(len(g.temps_c) for g in grain) + len(air)
        for g in grain:
            self.metrics.inc("scans_total", granary=g.granary)
        self.metrics.inc("readings_total", readings, kind=what)
        scans = [(r.bus, r.unit.address, r.scan_counter) for r in results
                 if r.ok and not r.repeated and r.what == "cables" and r.scan_counter is not None]
        if not self.clock_ok() and self.config.agent.clock_policy == "hold":
            with self._lock:
                self._held.append(HeldScan(grain, air, self._wall(), self._mono(), scans))
            self.metrics.set("scans_held", self.held_count)
            log.warning("clock not synchronised: holding %d readings", readings)
            self.release_held()
            return readings
        self._commit(grain, air, scans)
        return readings

    def release_held(self) -> int:
        """Commit held scans once the clock is good (or they waited clock_hold_max)."""
        with self._lock:
            if not self._held:
                return 0
            synced = self.clock_ok()
            oldest_wait = self._mono() - self._held[0].stamped_mono
            if not synced and oldest_wait < self.config.agent.clock_hold_max:
                return 0
            held, self._held = self._held, []
        now_wall, now_mono = self._wall(), self._mono()
        for h in held:
            # What the wall clock should have said when the scan was stamped.
            delta = (now_wall - timedelta(seconds=now_mono - h.stamped_mono)) - h.stamped_wall if synced else timedelta(0)
            grain = [g.model_copy(update={"ts": (g.ts + delta).replace(microsecond=0)}) for g in h.grain]
            air = [a.model_copy(update={"ts": (a.ts + delta).replace(microsecond=0)}) for a in h.air]
            if not synced:
                log.warning("clock still not synchronised after %.0fs: sending held scans as stamped", oldest_wait)
            self._commit(grain, air, h.scans)
        self.metrics.set("scans_held", 0)
        return len(held)

    def _commit(self, grain: list[GrainScan], air: list[AirReading],
                scans: list[tuple[str, int, int]] = ()) -> None:
        try:
            self.outbox.add_telemetry(grain, air)
        except OutboxFull as exc:
            self.metrics.inc("readings_rejected_total", sum(len(g.temps_c) for g in grain) + len(air))
            log.error("%s", exc)
            return
        if self.ledger is not None:
            for bus, unit, counter in scans:
                self.ledger.mark_committed(bus, unit, counter)
        self._on_committed()

"""The poll jobs: read a granary's units or a bus's air units on the bus's worker thread,
hand the results to the collector, and report a bus going faulty or healthy as an event.

Words: a unit *scans* its cables on its own clock; the agent *polls* a unit to read its
latest scan; the `scan_now` command asks for such a poll at once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime

from edge.modbus.bus import BusPoller, UnitResult
from edge.polling.scheduler import BusWorkers, EdgeScheduler
from edge.readings.collector import Collector
from protocols.depot.model import DepotConfig
from protocols.mqtt import topics
from protocols.mqtt.models import Command, Event, Message

COMMAND_WAIT_S = 600.0


class PollJobs:
    """`queue_message(kind, message)` commits a message to the outbox and wakes the uplink."""

    def __init__(self, config: DepotConfig, pollers: dict[str, BusPoller], workers: BusWorkers,
                 collector: Collector, queue_message: Callable[[str, Message], None],
                 wall: Callable[[], datetime]):
        self.config, self.pollers, self.workers = config, pollers, workers
        self.collector, self.queue_message, self.wall = collector, queue_message, wall
        self._bus_ok: dict[str, bool] = {}

    def schedule(self, scheduler: EdgeScheduler) -> None:
        """Every granary on its scan interval and every bus's air units on the air interval."""
        for bus_name, poller in self.pollers.items():
            granaries = sorted({u.granary for u in poller.bus.units if u.cables and u.granary})
            for i, code in enumerate(granaries):
                interval = self.config.scan_interval_s(self.config.granary(code))
                scheduler.bus_every(f"grain:{code}:{bus_name}", bus_name, interval,
                                    lambda c=code, b=bus_name: self.poll_granary(c, b),
                                    stagger_s=0.01 * i)
            if self._air_units(bus_name):
                scheduler.bus_every(f"air:{bus_name}", bus_name, self.config.schedules.air_interval,
                                    lambda b=bus_name: self.read_air(b))

    def poll_granary(self, granary: str, bus: str) -> list[UnitResult]:
        """Read the latest scan of the units wiring `granary`'s cables on `bus`, and commit it."""
        results = self.pollers[bus].scan_granary(granary)
        self.collector.record(results, "grain")
        self._check_bus(bus)
        return results

    def _air_units(self, bus: str) -> list[tuple[int, str]]:
        """(address, what) of the units read on the air schedule of `bus`."""
        poller = self.pollers[bus]
        out = [(u.address, "thrh") for u in poller.bus.units if u.air and not u.cables]
        on_air = sorted({s.address for s in self.config.air if s.bus == bus})
        return out + [(a, "air") for a in on_air]

    def read_air(self, bus: str) -> list[UnitResult]:
        poller = self.pollers[bus]
        results = [poller.poll(address, what) for address, what in self._air_units(bus)]
        self.collector.record(results, "air")
        self._check_bus(bus)
        return results

    def _check_bus(self, bus: str) -> None:
        ok = self.pollers[bus].ok
        was = self._bus_ok.get(bus, True)
        self._bus_ok[bus] = ok
        if ok != was:
            poller = self.pollers[bus]
            self.queue_message(topics.EVENTS, Event(
                depot=self.config.depot.code, ts=self.wall(), kind="bus_ok" if ok else "bus_fault",
                subject=bus, detail={"failing_units": sorted(poller.health.dead_units),
                                     "last_error": poller.health.last_error or ""},
            ))

    def poll_granary_now(self, granary: str | None = None) -> list[Future]:
        """Queue an immediate poll of one granary (or all) on the buses that wire it."""
        codes = [granary] if granary else [g.code for g in self.config.granaries]
        known = {g.code for g in self.config.granaries}
        if granary and granary not in known:
            raise ValueError(f"本库没有仓房 {granary}")
        futures = []
        for bus_name, poller in self.pollers.items():
            for code in codes:
                if poller.units_of_granary(code):
                    fut = self.workers.submit(bus_name, f"now:{code}",
                                              lambda c=code, b=bus_name: self.poll_granary(c, b))
                    if fut is not None:
                        futures.append(fut)
        return futures

    def scan_now(self, command: Command) -> str:
        """The `scan_now` command: poll now, wait for the answers, summarise them."""
        futures = self.poll_granary_now(command.granary)
        results = [r for f in futures for r in (f.result(timeout=COMMAND_WAIT_S) or [])]
        ok = sum(1 for r in results if r.ok)
        failed = [f"{r.bus}/{r.unit.address}" for r in results if not r.ok]
        detail = f"已扫描 {ok} 个分机" + (f"；无应答：{'、'.join(failed)}" if failed else "")
        if not ok and failed:
            raise RuntimeError(detail)
        return detail

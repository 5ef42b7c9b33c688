"""The edge agent: configuration, bus pollers, outbox, uplink, scheduler, metrics, tied together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime

from edge.clock import clock_synchronised
from edge.collect import Collector
from edge.config import EdgeConfig
from edge.metrics import Metrics, MetricsServer
from edge.modbus.bus import BusPoller, UnitResult
from edge.modbus.counters import ErrorCounters
from edge.outbox import Outbox
from edge.outbox_limits import OutboxLimits
from edge.scheduler import BusWorkers, EdgeScheduler
from edge.status_report import StatusReporter
from edge.uplink import Uplink
from protocols.depot.layout import layout_message
from protocols.depot.model import SerialBus
from protocols.mqtt import topics
from protocols.mqtt.models import Command, Event
from protocols.timefmt import utc_now

log = logging.getLogger(__name__)

COMMAND_WAIT_S = 600.0


class EdgeAgent:
    def __init__(
        self,
        cfg: EdgeConfig,
        *,
        metrics_port: int | None = None,
        clock_ok: Callable[[], bool] | None = None,
        wall: Callable[[], datetime] = utc_now,
        with_uplink: bool = True,
    ):
        self.cfg = cfg
        self.config = cfg.depot
        self.code = cfg.code
        self.wall = wall
        self.metrics = Metrics()
        self.counters = ErrorCounters()
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        buf = self.config.buffer
        self.outbox = Outbox(
            cfg.outbox_path, self.code,
            OutboxLimits(max_rows=buf.max_rows, max_age_s=buf.max_age, when_full=buf.when_full,
                         history_days=buf.history_days),
            max_payload_bytes=self.config.broker.max_payload_bytes,
        )
        self.pollers: dict[str, BusPoller] = {}
        for bus in self.config.buses:
            device = cfg.serial_device(bus) if isinstance(bus, SerialBus) else None
            self.pollers[bus.name] = BusPoller(self.config, bus, self.counters, device=device, wall=wall)
        probe = clock_ok or (lambda: clock_synchronised(self.config.agent.clock_check))
        self.uplink: Uplink | None = None
        self.collector = Collector(self.config, self.outbox, self.metrics, probe,
                                   on_committed=self._kick, wall=wall)
        self.workers = BusWorkers(list(self.pollers))
        self.scheduler = EdgeScheduler(self.workers, clock=wall)
        self.reporter = StatusReporter(self)
        if with_uplink:
            self.uplink = Uplink(
                cfg.broker, self.code, self.outbox, self.on_command,
                layout_fn=lambda: layout_message(self.config, self.wall()),
                status_fn=self.reporter.status_message, clock=wall,
            )
        port = self.config.agent.metrics_port if metrics_port is None else metrics_port
        self.metrics_server = (
            MetricsServer(self.metrics, self.reporter.status_dict, self.config.agent.metrics_host, port)
            if port > 0 else None
        )
        self.reporter.describe_metrics()
        self._bus_ok: dict[str, bool] = {}
        self._stopped = threading.Event()

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.collector.clock_ok(force=True)
        if self.metrics_server:
            self.metrics_server.start()
        self.outbox.add_message(topics.EVENTS, Event(
            depot=self.code, ts=self.wall(), kind="agent_started", subject=None,
            detail={"buses": len(self.pollers), "granaries": len(self.config.granaries)},
        ))
        if self.uplink:
            self.uplink.start()
        self._schedule()
        self.cameras = self._start_cameras()  # own threads: cameras never delay polling
        self.scheduler.start()
        log.info("edge agent for %s started", self.code, extra={"depot": self.code})

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.scheduler.shutdown()
        if getattr(self, "cameras", None):
            self.cameras.stop()
        self.collector.release_held()
        for poller in self.pollers.values():
            poller.close()
        if self.uplink:
            self.uplink.stop()
        if self.metrics_server:
            self.metrics_server.stop()
        self.outbox.close()
        log.info("edge agent for %s stopped", self.code)

    def _start_cameras(self):
        """The camera service, imported only for a depot that has cameras: OpenCV and numpy
        would otherwise cost every agent ~25 MB of memory on a 1 GB box."""
        if not self.config.cameras:
            return None
        from edge.camera.service import start_cameras

        return start_cameras(self)

    def _schedule(self) -> None:
        sched = self.config.schedules
        for bus_name, poller in self.pollers.items():
            granaries = sorted({u.granary for u in poller.bus.units if u.cables and u.granary})
            for i, code in enumerate(granaries):
                interval = self.config.scan_interval_s(self.config.granary(code))
                self.scheduler.bus_every(f"scan:{code}:{bus_name}", bus_name, interval,
                                         lambda c=code, b=bus_name: self.scan(c, b), stagger_s=0.01 * i)
            if self._air_units(bus_name):
                self.scheduler.bus_every(f"air:{bus_name}", bus_name, sched.air_interval,
                                         lambda b=bus_name: self.read_air(b))
        self.scheduler.every("status", sched.status_interval, self.heartbeat, start_now=False)
        self.scheduler.every("housekeeping", sched.housekeeping_interval, self.housekeeping, start_now=False)

    def _kick(self) -> None:
        if self.uplink:
            self.uplink.kick()

    # ---- jobs (scan and air run on their bus's worker thread) ------------------------------

    def scan(self, granary: str, bus: str) -> list[UnitResult]:
        """Scan the cables of `granary` wired to `bus` and commit them."""
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

    def heartbeat(self) -> None:
        self.collector.release_held()
        if self.uplink:
            self.uplink.publish_status()

    def housekeeping(self) -> None:
        out = self.outbox.housekeep()
        self.collector.release_held()
        log.info("housekeeping: %s", out, extra=out)

    def _check_bus(self, bus: str) -> None:
        ok = self.pollers[bus].ok
        was = self._bus_ok.get(bus, True)
        self._bus_ok[bus] = ok
        if ok != was:
            poller = self.pollers[bus]
            self.outbox.add_message(topics.EVENTS, Event(
                depot=self.code, ts=self.wall(), kind="bus_ok" if ok else "bus_fault", subject=bus,
                detail={"failing_units": sorted(poller.health.dead_units),
                        "last_error": poller.health.last_error or ""},
            ))
            self._kick()

    # ---- commands --------------------------------------------------------------------------

    def scan_now(self, granary: str | None = None) -> list[Future]:
        """Queue an immediate scan of one granary (or all) on the buses that wire it."""
        codes = [granary] if granary else [g.code for g in self.config.granaries]
        known = {g.code for g in self.config.granaries}
        if granary and granary not in known:
            raise ValueError(f"unknown granary {granary}")
        futures = []
        for bus_name, poller in self.pollers.items():
            for code in codes:
                if poller.units_of_granary(code):
                    fut = self.workers.submit(bus_name, f"now:{code}", lambda c=code, b=bus_name: self.scan(c, b))
                    if fut is not None:
                        futures.append(fut)
        return futures

    def on_command(self, command: Command) -> str:
        if command.action == "scan_now":
            futures = self.scan_now(command.granary)
            results = [r for f in futures for r in (f.result(timeout=COMMAND_WAIT_S) or [])]
            ok = sum(1 for r in results if r.ok)
            failed = [f"{r.bus}/{r.unit.address}" for r in results if not r.ok]
            detail = f"scanned {ok} unit(s)" + (f"; no answer from {', '.join(failed)}" if failed else "")
            if not ok and failed:
                raise RuntimeError(detail)
            return detail
        if command.action == "snapshot" and getattr(self, "cameras", None):
            return self.cameras.snapshot_command(command)
        if command.action == "republish_layout":
            if self.uplink:
                self.uplink.republish_layout()
            return "layout republished"
        raise ValueError(f"action {command.action} is not supported by this agent")

"""The edge agent's composition root: builds every part from the configuration and hands
each the narrow things it needs. A reading goes modbus/ (BusPoller) → readings/ (Collector)
→ outbox/ (Outbox) → uplink/ (Uplink); status/ reports on them all."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from edge.config import EdgeConfig
from edge.modbus.bus import BusPoller
from edge.modbus.counters import ErrorCounters
from edge.outbox.outbox import Outbox
from edge.polling.jobs import PollJobs
from edge.polling.scheduler import BusWorkers, EdgeScheduler
from edge.readings.clock import clock_synchronised
from edge.readings.collector import Collector
from edge.readings.ledger import ScanLedger
from edge.status.metrics import Metrics, MetricsServer
from edge.status.report import StatusReporter
from edge.uplink.commands import CommandAction, dispatch
from edge.uplink.uplink import LinkStats, Uplink
from protocols.depot.layout import layout_message
from protocols.depot.model import SerialBus
from protocols.mqtt import topics
from protocols.mqtt.models import CameraStatus, Command, Event, Message
from protocols.timefmt import utc_now

if TYPE_CHECKING:
    from edge.camera.service import CameraService

log = logging.getLogger(__name__)


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
        self.outbox = Outbox(cfg.outbox_path, self.code, self.config.buffer,
                             max_payload_bytes=self.config.broker.max_payload_bytes)
        # Which unit scan got which time, in the outbox's own file (stamped once per scan counter).
        self.ledger = ScanLedger(transaction=self.outbox.transaction)
        self.pollers: dict[str, BusPoller] = {
            bus.name: BusPoller(self.config, bus, self.counters, wall=wall,
                                device=cfg.serial_device(bus) if isinstance(bus, SerialBus) else None,
                                committed=self.ledger.is_committed)
            for bus in self.config.buses
        }
        probe = clock_ok or (lambda: clock_synchronised(self.config.agent.clock_check))
        self.uplink: Uplink | None = None
        self.cameras: CameraService | None = None
        self.collector = Collector(self.config, self.outbox, self.metrics, probe,
                                   on_committed=self._wake_uplink, wall=wall, ledger=self.ledger)
        self.workers = BusWorkers(list(self.pollers))
        self.scheduler = EdgeScheduler(self.workers, clock=wall)
        self.polling = PollJobs(self.config, self.pollers, self.workers, self.collector,
                                self.queue_message, wall)
        self.reporter = StatusReporter(
            self.code, [g.code for g in self.config.granaries], outbox=self.outbox,
            pollers=self.pollers, counters=self.counters, clock=self.collector, wall=wall,
            link=self._link_stats, cameras=self._camera_statuses,
        )
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
        self.reporter.describe_metrics(self.metrics)
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
        self.polling.schedule(self.scheduler)
        self.scheduler.every("status", self.config.schedules.status_interval, self.heartbeat,
                             start_now=False)
        self.scheduler.every("housekeeping", self.config.schedules.housekeeping_interval,
                             self.housekeeping, start_now=False)
        self.start_cameras()  # own threads: cameras never delay polling
        self.scheduler.start()
        log.info("edge agent for %s started", self.code, extra={"depot": self.code})

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.scheduler.shutdown()
        if self.cameras:
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

    def start_cameras(self) -> CameraService | None:
        """Start the depot's cameras and feed them every air reading polled. The camera
        package is imported only for a depot that has cameras: OpenCV and numpy would
        otherwise cost every agent's memory on a small box."""
        if not self.config.cameras or self.cameras:
            return self.cameras
        from edge.camera.service import CameraService

        self.cameras = CameraService(
            self.config.cameras, self.code, self.queue_message, self.wall,
            base_dir=os.path.dirname(os.path.abspath(self.cfg.source)), live=self.config.live,
        ).start()
        self.collector.add_air_listener(self.cameras.on_air)
        return self.cameras

    # ---- what the parts are handed ---------------------------------------------------------

    def queue_message(self, kind: str, message: Message) -> None:
        """Commit an event, snapshot or command result to the outbox and wake the uplink."""
        self.outbox.add_message(kind, message)
        self._wake_uplink()

    def _wake_uplink(self) -> None:
        if self.uplink:
            self.uplink.kick()

    def _link_stats(self) -> LinkStats | None:
        return self.uplink.link_stats() if self.uplink else None

    def _camera_statuses(self) -> list[CameraStatus]:
        return self.cameras.statuses() if self.cameras else []

    # ---- scheduled jobs besides polling ----------------------------------------------------

    def heartbeat(self) -> None:
        self.collector.release_held()
        if self.uplink:
            self.uplink.publish_status()

    def housekeeping(self) -> None:
        out = self.outbox.housekeep()
        self.collector.release_held()
        log.info("housekeeping: %s", out, extra=out)

    # ---- commands --------------------------------------------------------------------------

    def on_command(self, command: Command) -> str | None:
        """The agent's actions for central's commands (run on the uplink's command thread)."""
        actions: dict[str, CommandAction] = {"scan_now": self.polling.scan_now,
                                             "republish_layout": self._republish_layout}
        if self.cameras:
            actions["snapshot"] = self.cameras.snapshot_command
            actions["live_start"] = actions["live_stop"] = self.cameras.live_command
        return dispatch(actions)(command)

    def _republish_layout(self, _command: Command) -> str:
        if self.uplink:
            self.uplink.republish_layout()
        return "布局已重新发布"

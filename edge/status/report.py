"""What the agent reports about itself: the retained `status` message, the JSON behind
`grainlink edge status`, and the metrics read from other parts at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from edge import AGENT_VERSION
from protocols.mqtt.models import BusStatus, CameraStatus, Status
from protocols.timefmt import format_ts

if TYPE_CHECKING:  # `grainlink edge status` without an agent needs none of these loaded
    from edge.modbus.bus import BusPoller
    from edge.modbus.counters import ErrorCounters
    from edge.outbox.outbox import Outbox
    from edge.status.metrics import Metrics
    from edge.uplink.uplink import LinkStats

HELP = {
    "scans_total": ("counter", "cable scans committed to the outbox, per granary"),
    "readings_total": ("counter", "readings (sensor values and air pairs) committed"),
    "polls_ok_total": ("counter", "unit polls that returned a reading"),
    "polls_failed_total": ("counter", "unit polls that failed after retries"),
    "polls_skipped_total": ("counter", "unit polls skipped while the unit is backed off"),
    "polls_repeated_total": ("counter", "unit polls that found a scan (by its counter) already committed"),
    "read_errors_total": ("counter", "failed Modbus requests per bus, unit and kind"),
    "read_retries_total": ("counter", "Modbus requests retried per bus and unit"),
    "outbox_pending": ("gauge", "messages waiting in the outbox"),
    "outbox_pending_readings": ("gauge", "readings waiting in the outbox"),
    "outbox_oldest_age_seconds": ("gauge", "age of the oldest pending message"),
    "readings_dropped_total": ("counter", "readings dropped by the buffer limits"),
    "readings_rejected_total": ("counter", "readings refused because the buffer was full"),
    "publish_latency_seconds": ("gauge", "last publish-to-PUBACK time"),
    "published_total": ("counter", "messages published"),
    "acked_total": ("counter", "messages acknowledged by the broker"),
    "mqtt_connected": ("gauge", "1 while connected to the broker"),
    "bus_ok": ("gauge", "1 while no unit of the bus is failing"),
    "clock_synchronised": ("gauge", "1 when the system clock is synchronised"),
    "scans_held": ("gauge", "scans held back until the clock is synchronised"),
}


class ClockState(Protocol):
    """The readings collector as the report sees it."""

    def clock_ok(self, force: bool = False) -> bool: ...

    @property
    def held_count(self) -> int: ...


class StatusReporter:
    """Reads the parts it is handed; `link` and `cameras` are asked each time because the
    uplink and the cameras may be absent or start later."""

    def __init__(self, depot: str, granaries: list[str], *, outbox: Outbox,
                 pollers: Mapping[str, BusPoller], counters: ErrorCounters, clock: ClockState,
                 wall: Callable[[], datetime], link: Callable[[], LinkStats | None],
                 cameras: Callable[[], list[CameraStatus]]):
        self.depot, self.granaries = depot, granaries
        self.outbox, self.pollers, self.counters = outbox, pollers, counters
        self.clock, self.wall, self.link, self.cameras = clock, wall, link, cameras

    def describe_metrics(self, m: Metrics) -> None:
        for name, (kind, text) in HELP.items():
            m.describe(name, kind, text)
        m.add_collector(self._collect)

    def _collect(self, m: Metrics) -> None:
        for (bus, unit, kind), n in self.counters.failures().items():
            m.set("read_errors_total", n, bus=bus, unit=unit, kind=kind)
        for (bus, unit), n in self.counters.retries().items():
            m.set("read_retries_total", n, bus=bus, unit=unit)
        for name, poller in self.pollers.items():
            m.set("bus_ok", 1 if poller.ok else 0, bus=name)
        stats = self.outbox.stats()
        m.set("outbox_pending", stats.pending)
        m.set("outbox_pending_readings", self.outbox.pending_readings())
        m.set("readings_dropped_total", stats.dropped_total)
        age = (self.wall() - stats.oldest).total_seconds() if stats.oldest else 0
        m.set("outbox_oldest_age_seconds", max(0.0, age))
        link = self.link()
        if link is not None:
            m.set("mqtt_connected", 1 if link.connected else 0)
            m.set("published_total", link.published_total)
            m.set("acked_total", link.acked_total)
            if link.publish_latency_s is not None:
                m.set("publish_latency_seconds", link.publish_latency_s)

    def bus_statuses(self) -> list[BusStatus]:
        return [
            BusStatus(bus=name, ok=poller.ok, errors_total=self.counters.bus_total(name))
            for name, poller in self.pollers.items()
        ]

    def status_message(self, state: str) -> Status:
        return Status(
            depot=self.depot, state=state, ts=self.wall(), agent_version=AGENT_VERSION,
            buffer=self.outbox.stats(), buses=self.bus_statuses(), cameras=self.cameras(),
        )

    def status_dict(self) -> dict:
        """Everything `grainlink edge status` shows, as plain JSON data."""
        failures = self.counters.failures()
        buses = []
        for name, poller in self.pollers.items():
            units = []
            for unit in poller.bus.units:
                backoff = poller.backoff[unit.address]
                units.append({
                    "address": unit.address, "profile": unit.profile,
                    "errors": {k: n for (b, a, k), n in failures.items()
                               if b == name and a == unit.address},
                    "failing": backoff.dead, "failures_in_a_row": backoff.failures,
                })
            buses.append({"bus": name, "ok": poller.ok, "errors_total": self.counters.bus_total(name),
                          "last_error": poller.health.last_error, "units": units})
        link = self.link()
        return {
            "depot": self.depot,
            "ts": format_ts(self.wall()),
            "clock_synchronised": self.clock.clock_ok(),
            "scans_held": self.clock.held_count,
            "mqtt_connected": bool(link and link.connected),
            **outbox_summary(self.outbox, self.granaries),
            "buses": buses,
        }


def outbox_summary(outbox: Outbox, granaries: list[str]) -> dict:
    """The part of the status the edge database alone answers (also with the agent stopped):
    per-granary summaries and the buffer."""
    stats = outbox.stats()
    return {
        "granaries": granary_summaries(outbox, granaries),
        "buffer": {"pending": stats.pending, "oldest": format_ts(stats.oldest) if stats.oldest else None,
                   "dropped_total": stats.dropped_total,
                   "pending_readings": outbox.pending_readings()},
    }


def granary_summaries(outbox: Outbox, codes: list[str]) -> list[dict]:
    """Per granary: last scan time, min/max/mean, faults (from the local history)."""
    out = []
    for code in codes:
        latest = outbox.history_latest(code)
        if latest is None:
            out.append({"granary": code, "last_scan": None})
            continue
        out.append({"granary": code, "last_scan": format_ts(latest.ts), **latest.summary(),
                    "indoor": None if latest.indoor is None else
                    {"temp_c": latest.indoor.temp_c, "rh_pct": latest.indoor.rh_pct}})
    return out

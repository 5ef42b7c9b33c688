"""What the agent reports about itself: the retained `status` message, the JSON behind
`grainlink edge status`, and the metrics read from other parts at scrape time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.metrics import Metrics
from protocols.mqtt.models import BusStatus, Status
from protocols.timefmt import format_ts

if TYPE_CHECKING:
    from edge.agent import EdgeAgent

AGENT_VERSION = "0.1.0"

HELP = {
    "scans_total": ("counter", "cable scans committed to the outbox, per granary"),
    "readings_total": ("counter", "readings (sensor values and air pairs) committed"),
    "polls_ok_total": ("counter", "unit polls that returned a reading"),
    "polls_failed_total": ("counter", "unit polls that failed after retries"),
    "polls_skipped_total": ("counter", "unit polls skipped while the unit is backed off"),
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


class StatusReporter:
    def __init__(self, agent: EdgeAgent):
        self.agent = agent

    def describe_metrics(self) -> None:
        m = self.agent.metrics
        for name, (kind, text) in HELP.items():
            m.describe(name, kind, text)
        m.add_collector(self._collect)

    def _collect(self, m: Metrics) -> None:
        agent = self.agent
        for (bus, unit, kind), n in agent.counters.failures().items():
            m.set("read_errors_total", n, bus=bus, unit=unit, kind=kind)
        for (bus, unit), n in agent.counters.retries().items():
            m.set("read_retries_total", n, bus=bus, unit=unit)
        for name, poller in agent.pollers.items():
            m.set("bus_ok", 1 if poller.ok else 0, bus=name)
        stats = agent.outbox.stats()
        m.set("outbox_pending", stats.pending)
        m.set("outbox_pending_readings", agent.outbox.pending_readings())
        m.set("readings_dropped_total", stats.dropped_total)
        age = (agent.wall() - stats.oldest).total_seconds() if stats.oldest else 0
        m.set("outbox_oldest_age_seconds", max(0.0, age))
        up = agent.uplink
        if up is not None:
            m.set("mqtt_connected", 1 if up.connected.is_set() else 0)
            m.set("published_total", up.counters.get("published_total", 0))
            m.set("acked_total", up.counters.get("acked_total", 0))
            if up.last_publish_latency_s is not None:
                m.set("publish_latency_seconds", up.last_publish_latency_s)

    def bus_statuses(self) -> list[BusStatus]:
        agent = self.agent
        return [
            BusStatus(bus=name, ok=poller.ok, errors_total=agent.counters.bus_total(name))
            for name, poller in agent.pollers.items()
        ]

    def status_message(self, state: str) -> Status:
        agent = self.agent
        return Status(
            depot=agent.code, state=state, ts=agent.wall(), agent_version=AGENT_VERSION,
            buffer=agent.outbox.stats(), buses=self.bus_statuses(),
            cameras=agent.cameras.statuses() if getattr(agent, "cameras", None) else [],
        )

    def status_dict(self) -> dict:
        """Everything `grainlink edge status` shows, as plain JSON data."""
        agent = self.agent
        stats = agent.outbox.stats()
        buses = []
        for name, poller in agent.pollers.items():
            units = []
            for unit in poller.bus.units:
                backoff = poller.backoff[unit.address]
                units.append({
                    "address": unit.address, "profile": unit.profile,
                    "errors": {k: n for (b, a, k), n in agent.counters.failures().items()
                               if b == name and a == unit.address},
                    "failing": backoff.dead, "failures_in_a_row": backoff.failures,
                })
            buses.append({"bus": name, "ok": poller.ok, "errors_total": agent.counters.bus_total(name),
                          "last_error": poller.health.last_error, "units": units})
        return {
            "depot": agent.code,
            "ts": format_ts(agent.wall()),
            "clock_synchronised": agent.collector.clock_ok(),
            "scans_held": agent.collector.held_count,
            "mqtt_connected": bool(agent.uplink and agent.uplink.connected.is_set()),
            "granaries": granary_summaries(agent.outbox, [g.code for g in agent.config.granaries]),
            "buffer": {"pending": stats.pending, "oldest": format_ts(stats.oldest) if stats.oldest else None,
                       "dropped_total": stats.dropped_total,
                       "pending_readings": agent.outbox.pending_readings()},
            "buses": buses,
        }


def granary_summaries(outbox, codes: list[str]) -> list[dict]:
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

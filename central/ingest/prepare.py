"""Pure part of ingest: one received MQTT message -> a decoded model and the rows to store.

No I/O here. The worker calls `prepare` on its network thread as messages arrive, so
decoding overlaps with the database work of the previous batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from central.db.aggregates import CLOCK_SKEWED, IMPLAUSIBLE_TIME
from protocols.mqtt import topics
from protocols.mqtt.codec import decode_message
from protocols.mqtt.errors import MessageError
from protocols.mqtt.models import Telemetry

# Grain temperatures are stored as exact hundredths of a degree (smallint), and the receive
# time lives once per batch in `batches`: both measured in bench/storage_columns.py.
GRAIN_COLUMNS = ("depot", "granary", "cable", "layer", "ts", "temp_x100", "fault", "batch",
                 "flags")
AIR_COLUMNS = ("depot", "granary", "place", "ts", "temp_c", "rh_pct", "batch", "flags",
               "received_at")


@dataclass(frozen=True)
class TimeLimits:
    """How far from the receive time a time may be before it is flagged."""

    skew_tolerance_s: float = 300.0
    max_age_days: float = 400.0

    @classmethod
    def from_settings(cls, settings) -> TimeLimits:
        return cls(settings.clock_skew_tolerance_s, settings.reading_max_age_days)


@dataclass
class Prepared:
    """One received message, decoded (or rejected), with its rows when it is telemetry."""

    topic: str
    payload: bytes
    received_at: datetime
    kind: str | None = None
    depot: str | None = None
    message: object | None = None
    error: MessageError | None = None
    grain_copy: bytes = b""         # COPY text rows in GRAIN_COLUMNS order
    air_copy: bytes = b""
    grain_count: int = 0
    air_count: int = 0
    skew_s: float | None = None     # sent_at (or status ts) minus receive time
    clock_ahead: bool = False       # skew beyond the tolerance into the future
    clock_off: bool = False         # skew beyond the tolerance either way (late or wrong)
    retained: bool = False
    mid: int = 0
    qos: int = 1
    generation: int = 0             # the broker connection it arrived on (for acks)
    hook_data: dict | None = None   # the telemetry preparers' results (hooks.py)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def cleared(self) -> bool:
        """An empty payload on a retained topic: someone cleared the retained message (MQTT's
        way to delete it). Understood and acknowledged; there is nothing to store."""
        return self.ok and self.message is None and self.kind in RETAINED_KINDS

    @property
    def reading_count(self) -> int:
        return self.grain_count + self.air_count


# the topics whose last message the broker keeps (contract: layout and status are retained)
RETAINED_KINDS = frozenset({topics.LAYOUT, topics.STATUS})


def topic_depot(topic: str) -> str | None:
    """The depot named by a topic, when it has a valid one (for dead-letter filing)."""
    try:
        return topics.parse_topic(topic)[0]
    except MessageError:
        parts = topic.split("/") if isinstance(topic, str) else []
        return parts[2] if len(parts) > 2 and topics.valid_code(parts[2]) else None


def prepare(topic: str, payload: bytes, received_at: datetime,
            limits: TimeLimits = TimeLimits(), *, retained: bool = False) -> Prepared:
    """Decode and validate one message; never raises for bad input (sets `error`)."""
    item = Prepared(topic=topic, payload=bytes(payload), received_at=received_at,
                    retained=retained)
    try:
        item.depot, item.kind = topics.parse_topic(topic)
        if not item.payload and item.kind in RETAINED_KINDS:
            return item
        item.message = decode_message(topic, item.payload)
    except MessageError as exc:
        item.error = exc
        item.depot = item.depot or topic_depot(topic)
        return item
    # A retained copy was sent whenever it was published: its time says nothing of the clock.
    sent = None if retained else _sent_time(item.message)
    if sent is not None:
        item.skew_s = (sent - received_at).total_seconds()
        item.clock_ahead = item.skew_s > limits.skew_tolerance_s
        item.clock_off = abs(item.skew_s) > limits.skew_tolerance_s
    if isinstance(item.message, Telemetry):
        (item.grain_copy, item.grain_count), (item.air_copy, item.air_count) = telemetry_copy(
            item.message, received_at, limits, item.clock_ahead)
    return item


def _sent_time(message) -> datetime | None:
    for name in ("sent_at", "generated_at", "ts", "done_at"):
        value = getattr(message, name, None)
        if isinstance(value, datetime):
            return value
    return None


def time_flags(ts: datetime, received_at: datetime, limits: TimeLimits) -> int:
    """IMPLAUSIBLE_TIME when a reading is from the future or older than the maximum age."""
    if ts - received_at > timedelta(seconds=limits.skew_tolerance_s):
        return IMPLAUSIBLE_TIME
    if received_at - ts > timedelta(days=limits.max_age_days):
        return IMPLAUSIBLE_TIME
    return 0


def telemetry_rows(msg: Telemetry, received_at: datetime, limits: TimeLimits = TimeLimits(),
                   clock_ahead: bool = False) -> tuple[list[tuple], list[tuple]]:
    """(grain rows, air rows) in GRAIN_COLUMNS / AIR_COLUMNS order."""
    depot, batch = msg.depot, msg.batch
    base = CLOCK_SKEWED if clock_ahead else 0
    flag_cache: dict[datetime, int] = {}
    grain: list[tuple] = []
    for scan in msg.grain:
        ts = scan.ts
        flags = flag_cache.get(ts)
        if flags is None:
            flags = flag_cache[ts] = base | time_flags(ts, received_at, limits)
        faults = set(scan.faults)
        granary, cable = scan.granary, scan.cable
        for layer, temp in enumerate(scan.temps_c, start=1):
            if temp is None and layer not in faults:
                continue  # no sensor at this position: nothing to store
            grain.append((depot, granary, cable, layer, ts, hundredths(temp), layer in faults,
                          batch, flags))
    air: list[tuple] = []
    for reading in msg.air:
        ts = reading.ts
        flags = flag_cache.get(ts)
        if flags is None:
            flags = flag_cache[ts] = base | time_flags(ts, received_at, limits)
        air.append((depot, reading.granary or "", reading.place, ts, reading.temp_c,
                    reading.rh_pct, batch, flags, received_at))
    return grain, air


def hundredths(temp: float | None) -> int | None:
    """°C -> the stored smallint (hundredths). The contract rounds to two decimals and bounds
    temperatures to -60..120 °C, so this is exact and fits."""
    return None if temp is None else round(temp * 100)


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def telemetry_copy(msg: Telemetry, received_at: datetime, limits: TimeLimits = TimeLimits(),
                   clock_ahead: bool = False) -> tuple[tuple[bytes, int], tuple[bytes, int]]:
    """The rows of `telemetry_rows` as COPY text, built in one pass.

    This runs on the network thread, so the writer only ships bytes to PostgreSQL. Codes are
    validated to [A-Za-z0-9_-], so no field needs COPY escaping.
    """
    depot, batch = msg.depot, msg.batch
    base = CLOCK_SKEWED if clock_ahead else 0
    recv = received_at.isoformat()
    ts_text: dict[datetime, tuple[str, int]] = {}

    def stamp(ts: datetime) -> tuple[str, int]:
        got = ts_text.get(ts)
        if got is None:
            got = ts_text[ts] = (ts.isoformat(), base | time_flags(ts, received_at, limits))
        return got

    lines: list[str] = []
    for scan in msg.grain:
        ts, flags = stamp(scan.ts)
        faults = scan.faults
        head = f"{depot}\t{scan.granary}\t{scan.cable}\t"
        tail = f"\t{batch}\t{flags}\n"
        for layer, temp in enumerate(scan.temps_c, start=1):
            if temp is not None:
                lines.append(f"{head}{layer}\t{ts}\t{hundredths(temp)}\tf{tail}")
            elif layer in faults:
                lines.append(f"{head}{layer}\t{ts}\t\\N\tt{tail}")
    air: list[str] = []
    for r in msg.air:
        ts, flags = stamp(r.ts)
        air.append("\t".join(_copy_value(v) for v in (
            depot, r.granary or "", r.place, ts, r.temp_c, r.rh_pct, batch, flags, recv)) + "\n")
    return ("".join(lines).encode(), len(lines)), ("".join(air).encode(), len(air))

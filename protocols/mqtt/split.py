"""Cut readings into chunks that each make a telemetry message within the size limit.

The edge splits BEFORE it numbers: every chunk becomes one message with its own batch
number, so chunks are sized for the longest batch number and `sent_at` a message can carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from protocols.mqtt import reasons_zh as zh
from protocols.mqtt.errors import MessageError
from protocols.mqtt.fields import MAX_AIR_READINGS, MAX_BATCH, MAX_GRAIN_SCANS
from protocols.mqtt.models import AirReading, GrainScan, Telemetry
from protocols.mqtt.wire import MAX_PAYLOAD_BYTES, dumps
from protocols.timefmt import format_ts

_WORST_SENT_AT = format_ts(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))

Chunk = tuple[list[GrainScan], list[AirReading]]


def _envelope_bytes(depot: str) -> int:
    empty = {
        "schema": Telemetry.SCHEMA_ID,
        "depot": depot,
        "batch": MAX_BATCH,
        "sent_at": _WORST_SENT_AT,
        "grain": [],
        "air": [],
    }
    return len(dumps(empty))


def _item_bytes(item: GrainScan | AirReading) -> int:
    return len(dumps(item.model_dump(mode="json", by_alias=True)))


def split_scans(
    depot: str,
    grain: Sequence[GrainScan],
    air: Sequence[AirReading],
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> list[Chunk]:
    """Split readings, in order, into greedy chunks whose message is at most `max_bytes`.

    Each chunk holds at least one reading; nothing is dropped or repeated; empty input gives
    no chunks. MessageError (naming the reading) if one reading alone cannot fit.
    """
    envelope = _envelope_bytes(depot)
    entries = [("grain", i, x) for i, x in enumerate(grain)]
    entries += [("air", i, x) for i, x in enumerate(air)]
    caps = {"grain": MAX_GRAIN_SCANS, "air": MAX_AIR_READINGS}
    chunks: list[Chunk] = []
    current: dict[str, list] = {"grain": [], "air": []}
    size = envelope
    for name, index, item in entries:
        item_size = _item_bytes(item)
        if envelope + item_size > max_bytes:
            raise MessageError(
                zh.READING_TOO_LARGE.format(size=envelope + item_size, limit=max_bytes),
                f"{name}[{index}]",
            )
        extra = item_size + (1 if current[name] else 0)  # the comma before it
        if size + extra > max_bytes or len(current[name]) >= caps[name]:
            chunks.append((current["grain"], current["air"]))
            current = {"grain": [], "air": []}
            size, extra = envelope, item_size
        current[name].append(item)
        size += extra
    if current["grain"] or current["air"]:
        chunks.append((current["grain"], current["air"]))
    return chunks


def message_size_bound(depot: str, grain: Sequence[GrainScan], air: Sequence[AirReading]) -> int:
    """Bytes of the telemetry message for these readings with the longest batch and sent_at."""
    items = sum(_item_bytes(x) for x in [*grain, *air])
    commas = max(len(grain) - 1, 0) + max(len(air) - 1, 0)
    return _envelope_bytes(depot) + items + commas

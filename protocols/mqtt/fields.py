"""Field types and limits of contract v1, shared by the message models."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)

from protocols.domain.units import round2
from protocols.mqtt.reasons_zh import json_type_name
from protocols.mqtt.topics import CODE_PATTERN
from protocols.timefmt import format_ts, parse_ts, to_utc

# Wire-level sanity bounds. A plausible-but-wrong value (the 85.0 power-on reading, -40 of a
# shorted sensor) is the Modbus codec's business; these only keep nonsense off the wire.
TEMP_MIN_C = -60.0
TEMP_MAX_C = 120.0
RH_MIN_PCT = 0.0
RH_MAX_PCT = 100.0

MAX_LAYERS = 64  # sensors on one cable
MAX_CABLE = 65535
MAX_SCAN_COUNTER = 65535  # the lst1812 unit's u16 register 4
MAX_BATCH = 2**63 - 1  # fits a PostgreSQL bigint
MAX_GRAIN_SCANS = 5000  # per telemetry message; 256 KiB holds ~3,300 of the smallest
MAX_AIR_READINGS = 5000
MAX_GRANARIES = 1000
MAX_CABLES_PER_GRANARY = 5000
MAX_CAMERAS = 2000
MAX_BUSES = 256
MAX_NAME = 200
MAX_DETAIL = 4000
MAX_JPEG_BYTES = 200 * 1024  # before base64


class FieldValueError(ValueError):
    """Raised inside a validator to point below the field being validated (`sub` = `faults[1]`)."""

    def __init__(self, sub: str, reason: str) -> None:
        self.sub = sub
        self.reason = reason
        super().__init__(f"{sub}: {reason}")


STRICT = ConfigDict(
    strict=True,
    extra="forbid",
    frozen=True,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
)


_EXAMPLE_TS = "2026-11-22T08:00:07Z"
_OFFSET_RE = re.compile(r"[+-]\d{2}:?\d{2}$")
# The shape parse_ts accepts; a string of this shape that it refused names a day that is not.
_TS_SHAPE_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z", re.ASCII)


def _utc_datetime(value: object) -> datetime:
    # protocols/timefmt.py speaks English to programmers; a rejected payload is read by people,
    # so its three cases are said again here in Chinese.
    if isinstance(value, str):
        try:
            return parse_ts(value)
        except ValueError:
            shown = value[:40]
            if _TS_SHAPE_RE.fullmatch(value):
                raise ValueError(f"时间 {shown!r} 不是有效的日期时间") from None
            if _OFFSET_RE.search(value):
                raise ValueError(f"时间 {shown!r} 带有时区偏移：须写成 UTC 时间并以 Z 结尾"
                                 f"（如 {_EXAMPLE_TS}）") from None
            raise ValueError(f"时间 {shown!r} 不是 RFC 3339 UTC 时间（如 {_EXAMPLE_TS}）") from None
    if isinstance(value, datetime):  # built in Python, never from a payload: a programmer's error
        return to_utc(value)
    raise ValueError(f"须为 RFC 3339 UTC 时间字符串（如 {_EXAMPLE_TS}），"
                     f"实际为{json_type_name(value)}")


UtcDatetime = Annotated[
    datetime,
    PlainValidator(_utc_datetime),
    PlainSerializer(format_ts, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$",
            "description": "RFC 3339 time in UTC with a Z",
        }
    ),
]

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]
GrainVariety = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]

# Values are rounded to the wire's two decimals rather than rejected: 14.800000001 is what
# float arithmetic makes of 14.8, not a broken sender.
Temperature = Annotated[
    float, Field(ge=TEMP_MIN_C, le=TEMP_MAX_C, allow_inf_nan=False), AfterValidator(round2)
]
Humidity = Annotated[
    float, Field(ge=RH_MIN_PCT, le=RH_MAX_PCT, allow_inf_nan=False), AfterValidator(round2)
]
Metres = Annotated[float, Field(ge=0.0, le=10_000.0, allow_inf_nan=False)]
PositiveMetres = Annotated[float, Field(gt=0.0, le=10_000.0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=MAX_BATCH)]


def _canonical_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"{value[:60]!r} 不是 UUID") from None


Uuid = Annotated[
    str,
    StringConstraints(min_length=32, max_length=45),
    AfterValidator(_canonical_uuid),
    WithJsonSchema({"type": "string", "format": "uuid"}),
]

"""Bytes <-> message models for contract v1, with every rejection naming its field.

`decode_message` raises only `MessageError`, whatever the bytes. Paths in errors use the
JSON's own 0-based list indices: `grain[3].temps_c[2]` is the third value of the fourth scan.
Temperatures and humidities with more than two decimals are rounded, not rejected.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import ValidationError

from protocols.mqtt import reasons_zh as zh
from protocols.mqtt import topics
from protocols.mqtt.errors import MessageError
from protocols.mqtt.fields import FieldValueError
from protocols.mqtt.models import (
    MODEL_BY_SCHEMA,
    Command,
    CommandResult,
    Event,
    Layout,
    Message,
    Snapshot,
    Status,
    Telemetry,
)
from protocols.mqtt.split import Chunk, message_size_bound, split_scans
from protocols.mqtt.wire import (
    MAX_PAYLOAD_BYTES,
    MAX_SNAPSHOT_PAYLOAD_BYTES,
    dumps,
    max_payload_bytes,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MAX_SNAPSHOT_PAYLOAD_BYTES",
    "AnyMessage",
    "Chunk",
    "MessageError",
    "decode_message",
    "encode_message",
    "max_payload_bytes",
    "message_size_bound",
    "split_scans",
    "topic_of",
    "validate_payload",
    "validation_error",
]

MODEL_BY_KIND: dict[str, type[Message]] = {
    topics.TELEMETRY: Telemetry,
    topics.LAYOUT: Layout,
    topics.STATUS: Status,
    topics.EVENTS: Event,
    topics.SNAPSHOT: Snapshot,
    topics.CMD: Command,
    topics.CMD_RESULT: CommandResult,
}
KIND_BY_SCHEMA: dict[str, str] = {m.SCHEMA_ID: k for k, m in MODEL_BY_KIND.items()}

AnyMessage = Telemetry | Layout | Status | Event | Snapshot | Command | CommandResult


def topic_of(message: Message) -> str:
    """The topic a message is published on: `grainlink/v1/{its depot}/{its kind}`."""
    return topics.topic_for(message.depot, KIND_BY_SCHEMA[message.SCHEMA_ID])


# ---- decoding --------------------------------------------------------------------------


class _Refused(ValueError):
    """Raised by our json.loads hooks, with the Chinese reason; any other ValueError out of
    json.loads is Python's integer-length limit."""


def _reject_constant(name: str) -> Any:
    raise _Refused(zh.CONSTANT_NOT_ALLOWED.format(name=name))


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(zh.NUMBER_OUT_OF_RANGE.format(text=text[:40]))
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _Refused(zh.KEY_TWICE.format(key=key))
        obj[key] = value
    return obj


# Escapes json.loads accepts but a database or a UTF-8 encoder does not: NUL, and UTF-16
# surrogates (a proper pair decodes to one character; a lone half stays behind).
_SUSPECT_ESCAPE = re.compile(r"\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _bad_string(value: str, is_key: bool = False) -> str | None:
    if "\x00" in value:
        return zh.KEY_NUL if is_key else zh.TEXT_NUL
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return zh.KEY_SURROGATE if is_key else zh.TEXT_SURROGATE
    return None


def _check_strings(node: Any, path: tuple[int | str, ...] = ()) -> None:
    if isinstance(node, str):
        problem = _bad_string(node)
        if problem:
            raise MessageError(problem, _path(path))
    elif isinstance(node, dict):
        for key, value in node.items():
            problem = _bad_string(key, is_key=True)
            if problem:
                raise MessageError(problem, _path(path))
            _check_strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_strings(value, (*path, index))


def _parse_json(payload: bytes) -> Any:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(zh.NOT_UTF8.format(byte=exc.start + 1)) from None
    try:
        obj = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_no_duplicate_keys,
        )
    except json.JSONDecodeError as exc:
        raise MessageError(zh.not_json(exc.msg, exc.lineno, exc.colno)) from None
    except RecursionError:
        raise MessageError(zh.NOT_JSON_ACCEPTED.format(detail=zh.NESTED_TOO_DEEPLY)) from None
    except _Refused as exc:
        raise MessageError(zh.NOT_JSON_ACCEPTED.format(detail=exc)) from None
    except ValueError:  # Python's limit on the digits of an integer
        raise MessageError(zh.NOT_JSON_ACCEPTED.format(detail=zh.NUMBER_TOO_LONG)) from None
    if _SUSPECT_ESCAPE.search(text):
        _check_strings(obj)
    return obj


def _path(loc: tuple[int | str, ...], sub: str | None = None) -> str | None:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    if sub:
        text += sub if sub.startswith("[") or not text else f".{sub}"
    return text or None


def _reason(error: dict[str, Any]) -> tuple[str | None, str]:
    ctx_error = (error.get("ctx") or {}).get("error")
    if isinstance(ctx_error, FieldValueError):
        return _path(error["loc"], ctx_error.sub), ctx_error.reason
    return _path(error["loc"]), zh.pydantic_reason(error)


def validation_error(exc: ValidationError) -> MessageError:
    """A pydantic ValidationError as a MessageError naming every field at fault."""
    problems = [_reason(e) for e in exc.errors(include_url=False)]
    field, reason = problems[0]
    return MessageError(reason, field, problems)


def validate_payload(obj: Any, expected_schema: str | None = None) -> AnyMessage:
    """Validate a parsed JSON object against its `schema` (which must equal `expected_schema`, if given)."""
    if not isinstance(obj, dict):
        raise MessageError(zh.NOT_OBJECT.format(kind=zh.json_type_name(obj)))
    schema_id = obj.get("schema")
    if schema_id is None:
        raise MessageError(zh.PAYLOAD_TEMPLATES["missing"], "schema")
    if not isinstance(schema_id, str) or schema_id not in MODEL_BY_SCHEMA:
        known = "、".join(MODEL_BY_SCHEMA)
        raise MessageError(zh.SCHEMA_UNKNOWN.format(schema=str(schema_id)[:80], known=known),
                           "schema")
    if expected_schema is not None and schema_id != expected_schema:
        raise MessageError(
            zh.SCHEMA_WRONG_TOPIC.format(schema=schema_id, expected=expected_schema), "schema")
    model = MODEL_BY_SCHEMA[schema_id]
    try:
        return model.model_validate(obj)  # type: ignore[return-value]
    except ValidationError as exc:
        raise validation_error(exc) from None


def decode_message(topic: str, payload: bytes) -> AnyMessage:
    """Decode and validate one payload received on `topic`; MessageError on anything wrong."""
    try:
        return _decode(topic, payload)
    except MessageError:
        raise
    except Exception as exc:  # a receiver must never crash on input: last-resort wrapping
        raise MessageError(zh.UNEXPECTED.format(kind=type(exc).__name__, detail=exc)) from None


def _decode(topic: str, payload: bytes) -> AnyMessage:
    depot, kind = topics.parse_topic(topic)
    if isinstance(payload, (bytearray, memoryview)):
        payload = bytes(payload)
    if not isinstance(payload, bytes):
        raise MessageError(zh.NOT_BYTES.format(kind=type(payload).__name__))
    limit = max_payload_bytes(kind)
    if len(payload) > limit:
        raise MessageError(zh.TOO_LARGE.format(size=len(payload), limit=limit))
    model = MODEL_BY_KIND[kind]
    message = validate_payload(_parse_json(payload), model.SCHEMA_ID)
    if message.depot != depot:
        raise MessageError(
            zh.DEPOT_DIFFERS.format(depot=message.depot, topic_depot=depot), "depot")
    return message


# ---- encoding --------------------------------------------------------------------------


def encode_message(model: Message) -> bytes:
    """UTF-8 JSON with `schema` first and times as `...Z`; MessageError if over the size limit."""
    if not isinstance(model, tuple(MODEL_BY_KIND.values())):
        raise MessageError(zh.NOT_A_MESSAGE.format(kind=type(model).__name__))
    data = model.model_dump(mode="json", by_alias=True)
    data = {"schema": data.pop("schema"), **data}
    try:
        payload = dumps(data)
    except UnicodeEncodeError:
        raise MessageError(zh.TEXT_SURROGATE) from None
    kind = KIND_BY_SCHEMA[model.SCHEMA_ID]
    limit = max_payload_bytes(kind)
    if len(payload) > limit:
        raise MessageError(zh.TOO_LARGE.format(size=len(payload), limit=limit))
    return payload

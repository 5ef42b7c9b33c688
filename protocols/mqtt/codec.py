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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"key {key!r} appears twice in one object")
        obj[key] = value
    return obj


# Escapes json.loads accepts but a database or a UTF-8 encoder does not: NUL, and UTF-16
# surrogates (a proper pair decodes to one character; a lone half stays behind).
_SUSPECT_ESCAPE = re.compile(r"\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _bad_string(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired UTF-16 surrogate"
    return None


def _check_strings(node: Any, path: tuple[int | str, ...] = ()) -> None:
    if isinstance(node, str):
        problem = _bad_string(node)
        if problem:
            raise MessageError(f"text {problem}", _path(path))
    elif isinstance(node, dict):
        for key, value in node.items():
            problem = _bad_string(key)
            if problem:
                raise MessageError(f"a key {problem}", _path(path))
            _check_strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_strings(value, (*path, index))


def _parse_json(payload: bytes) -> Any:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(f"payload is not valid UTF-8 (byte {exc.start})") from None
    try:
        obj = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_no_duplicate_keys,
        )
    except json.JSONDecodeError as exc:
        raise MessageError(
            f"payload is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise MessageError("payload is not JSON this receiver accepts: nested too deeply") from None
    except ValueError as exc:  # our hooks, or an integer too long to convert
        raise MessageError(f"payload is not JSON this receiver accepts: {exc}") from None
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
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if error["type"] == "extra_forbidden":
        message = "unknown field (not in the contract)"
    elif error["type"] == "missing":
        message = "required field is missing"
    return _path(error["loc"]), message


def validation_error(exc: ValidationError) -> MessageError:
    """A pydantic ValidationError as a MessageError naming every field at fault."""
    problems = [_reason(e) for e in exc.errors(include_url=False)]
    field, reason = problems[0]
    return MessageError(reason, field, problems)


def validate_payload(obj: Any, expected_schema: str | None = None) -> AnyMessage:
    """Validate a parsed JSON object against its `schema` (which must equal `expected_schema`, if given)."""
    if not isinstance(obj, dict):
        raise MessageError(f"payload must be a JSON object, not {type(obj).__name__}")
    schema_id = obj.get("schema")
    if schema_id is None:
        raise MessageError("required field is missing", "schema")
    if not isinstance(schema_id, str) or schema_id not in MODEL_BY_SCHEMA:
        known = ", ".join(MODEL_BY_SCHEMA)
        raise MessageError(f"unknown schema {str(schema_id)[:80]!r}; known: {known}", "schema")
    if expected_schema is not None and schema_id != expected_schema:
        raise MessageError(
            f"schema {schema_id!r} does not belong on this topic, which carries {expected_schema!r}",
            "schema",
        )
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
        raise MessageError(f"payload could not be validated: {type(exc).__name__}: {exc}") from None


def _decode(topic: str, payload: bytes) -> AnyMessage:
    depot, kind = topics.parse_topic(topic)
    if isinstance(payload, (bytearray, memoryview)):
        payload = bytes(payload)
    if not isinstance(payload, bytes):
        raise MessageError(f"payload must be bytes, not {type(payload).__name__}")
    limit = max_payload_bytes(kind)
    if len(payload) > limit:
        raise MessageError(f"payload is {len(payload)} bytes, over the limit of {limit}")
    model = MODEL_BY_KIND[kind]
    message = validate_payload(_parse_json(payload), model.SCHEMA_ID)
    if message.depot != depot:
        raise MessageError(
            f"depot {message.depot!r} differs from the topic's depot {depot!r}", "depot"
        )
    return message


# ---- encoding --------------------------------------------------------------------------


def encode_message(model: Message) -> bytes:
    """UTF-8 JSON with `schema` first and times as `...Z`; MessageError if over the size limit."""
    if not isinstance(model, tuple(MODEL_BY_KIND.values())):
        raise MessageError(f"cannot encode {type(model).__name__}: not a contract message")
    data = model.model_dump(mode="json", by_alias=True)
    data = {"schema": data.pop("schema"), **data}
    try:
        payload = dumps(data)
    except UnicodeEncodeError:
        raise MessageError("text contains an unpaired UTF-16 surrogate") from None
    kind = KIND_BY_SCHEMA[model.SCHEMA_ID]
    limit = max_payload_bytes(kind)
    if len(payload) > limit:
        raise MessageError(f"payload is {len(payload)} bytes, over the limit of {limit}")
    return payload

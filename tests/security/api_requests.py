"""Requests built from the app's own OpenAPI document: every operation, its path filled
with one side's ids, a body that fits the operation's schema, and hypothesis strategies that
spoil bodies, queries and paths the ways issue 16 found (NaN/Infinity, ±1e308, NUL, lone
surrogates, non-UTF-8 bytes, far dates, formula text, wrong types, deep nesting).

`Tally` counts what the suite sent and what came back, for the README's figures."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

SKIP_PATHS = ("/healthz", "/metrics", "/openapi.json")
# A command waits this long for the edge's answer: never, in these tests.
FORCED = {("/api/v1/depots/{depot}/commands", "wait_s"): 0,
          ("/api/v1/depots/{depot}/cameras/{camera}/live", "wait_s"): 0}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[str, ...]
    query: tuple[tuple[str, dict], ...]
    body: dict | None        # the resolved JSON schema of the body, None without one
    path_schemas: dict = field(default_factory=dict, compare=False)
    required_query: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        return self.method != "GET"


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    leaks: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def note(self, status: int) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status >= 500:
            self.server_errors += 1


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def operations(spec: dict) -> list[Operation]:
    components = spec.get("components", {}).get("schemas", {})
    out = []
    for path, ops in spec["paths"].items():
        if path in SKIP_PATHS or not path.startswith("/api/"):
            continue
        for method, op in ops.items():
            params = tuple(p["name"] for p in op.get("parameters", []) if p["in"] == "path")
            path_schemas = {p["name"]: p.get("schema", {}) for p in op.get("parameters", [])
                            if p["in"] == "path"}
            required = tuple(p["name"] for p in op.get("parameters", [])
                             if p["in"] == "query" and p.get("required"))
            query = tuple((p["name"], p.get("schema", {})) for p in op.get("parameters", [])
                          if p["in"] == "query")
            body = (op.get("requestBody", {}).get("content", {})
                    .get("application/json", {}).get("schema"))
            if body is not None:
                body = _resolve(_first(body, components), components)
            out.append(Operation(method.upper(), path, params, query, body, path_schemas,
                                 required))
    return out


def _first(schema: dict, components: dict) -> dict:
    """A nullable body (`anyOf: [X, null]`) is X."""
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return _resolve(option, components)
    return schema


def fill_path(op: Operation, ids: dict[str, str]) -> str:
    def value(m: re.Match) -> str:
        name = m.group(1)
        if name in ids:
            return ids[name]
        return str(op.path_schemas.get(name, {}).get("enum", ["1"])[0])

    return re.sub(r"\{(\w+)\}", value, op.path)


def valid_query(op: Operation, ids: dict[str, str]) -> dict:
    """The required query parameters, with values that fit."""
    schemas = dict(op.query)
    out = {}
    for name in op.required_query:
        schema = schemas.get(name, {})
        if name == "period":
            out[name] = "2026-10"
        elif name in ("from", "start"):
            out[name] = "2026-11-01"
        else:
            out[name] = valid_value(name, schema, ids)
    return out


# --- a body that fits the schema -----------------------------------------------------------

def _number(schema: dict) -> float:
    low = schema.get("minimum", schema.get("ge", schema.get("gt", schema.get("exclusiveMinimum"))))
    high = schema.get("maximum", schema.get("le", schema.get("lt", schema.get("exclusiveMaximum"))))
    low = float(low) if low is not None else 0.0
    high = float(high) if high is not None else low + 100
    return round(low + (high - low) / 3 + 0.5, 1) if high - low > 1 else low + (high - low) / 2


def valid_value(name: str, schema: dict, ids: dict[str, str]) -> Any:
    if name in ids and name != "granary" or name in ("depot", "scope"):
        return ids.get(name, ids["depot"])
    if name == "granary":
        return "P02" if "transfer" in ids.get("_path", "") else ids["granary"]
    if "enum" in schema:
        return schema["enum"][-1] if name == "scope_kind" else schema["enum"][0]
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        merged = {**schema, **options[0]} if options else {}
        merged.pop("anyOf", None)
        return valid_value(name, merged, ids) if options else None
    kind = schema.get("type")
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return "2026-11-20"
        if fmt == "date-time":
            return "2026-11-20T08:00:00Z"
        if schema.get("pattern", "").startswith("^20"):
            return "2025-10"
        return f"v{name}"[: max(1, schema.get("maxLength", 64))]
    if kind == "integer":
        return int(_number(schema))
    if kind == "number":
        return _number(schema)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return 1


def valid_body(op: Operation, ids: dict[str, str]) -> dict | None:
    if op.body is None:
        return None
    ids = {**ids, "_path": op.path}
    props = op.body.get("properties", {})
    body = {k: valid_value(k, s, ids) for k, s in props.items()}
    for (path, key), value in FORCED.items():
        if op.path == path and key in body:
            body[key] = value
    return body


# --- what spoils it ------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
HOSTILE_SCALARS = [
    NAN, INF, -INF, 1e308, -1e308, 10**30, -(10**30), 0, -1, 2**63, 1e-320,
    "", "\x00", "a\x00b", "\ud800", "x\udfffy", "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)",
    "\t=1", "0001-01-01", "9999-12-31", "2026-02-30", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z", "2026-11-20T08:00:00", "NaN", "Infinity", "1e308", "../../etc",
    "<script>alert(1)</script>", "' OR 1=1 --", "x" * 5000, "粮" * 300, True, None, [], {},
]
hostile_scalar = st.sampled_from(HOSTILE_SCALARS)
hostile_json = st.recursive(
    hostile_scalar | st.text(max_size=20) | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8)


def encode(value: Any, *, raw: bool) -> bytes:
    """JSON text with NaN/Infinity as bare tokens; `raw` writes non-ASCII as UTF-8 and a lone
    surrogate as the bytes no UTF-8 decoder accepts."""
    text = json.dumps(value, allow_nan=True, ensure_ascii=not raw)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def hostile_body(draw, op: Operation, ids: dict[str, str]) -> bytes:
    body = valid_body(op, ids) or {}
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return encode(draw(hostile_json), raw=draw(st.booleans()))
    if shape == 1:
        spoilt = draw(st.sampled_from([
            b"\xff\xfe{\x00}", b'{"a": "\xc3\x28"}', "{\"a\": 1}".encode("utf-16"),
            b'{"a": 1', b"[" * 3000 + b"]" * 3000, b"null", b"\x00", b'{"a": NaN}',
            b'{"a": 1e99999}', b'{"a": ' + b"9" * 5000 + b"}",
        ]))
        return spoilt
    keys = list(body) or ["x"]
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True)):
        body[key] = draw(hostile_json)
    if draw(st.booleans()):
        body[draw(st.sampled_from(["\x00", "\ud800", "extra", "=x"]))] = draw(hostile_scalar)
    return encode(body, raw=draw(st.booleans()))


QUERY_VALUES = st.sampled_from([
    "\x00", "%00", "0001-01-01", "9999-12-31", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "NaN", "inf", "-1", "1e308", "99999999999999999999999", "x" * 3000, "\ud800", "2026-02-30",
    "csv", "xlsx", "html", "=1+1", "open",
])
PATH_SEGMENTS = st.sampled_from([
    "%00", "a%00b", "%ED%A0%80", "%FF", "x" * 300, "..", "%2e%2e", "P01%0A", "-1",
    "99999999999999999999999", "1e308", "NaN", "%F0%9F%8C%BE", "%20",
])

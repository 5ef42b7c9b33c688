"""The input rules every route shares (contracts/api.md, "Input rules"), checked once before
routing so that a route added tomorrow is covered too:

- a body over `MAX_BODY_BYTES` is refused with 413, whether it announces its length or
  arrives chunked (reading stops at the limit; nothing larger is ever buffered);
- a JSON body must be UTF-8, and no value in it may be NaN/Infinity (PostgreSQL jsonb and
  strict JSON have neither), contain a NUL (PostgreSQL text cannot hold one) or a lone
  surrogate (not encodable as UTF-8), in a value or a key;
- no NUL in the path or in a query parameter, for the same reason.

Each refusal names the field. Range and meaning checks stay with each route's models.
"""

from __future__ import annotations

import json
import math
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.api.errors import printable

MAX_BODY_BYTES = 1024 * 1024

_NO_BODY_METHODS = ("GET", "HEAD", "OPTIONS", "DELETE")


class _Refused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def text_problem(text: str) -> str | None:
    """Why this text cannot be stored, or None."""
    if "\x00" in text:
        return "含有 NUL 字符"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "含有无效的 Unicode 字符（单独的代理项）"
    return None


def json_problem(value) -> tuple[str, str] | None:
    """(where, why) of the first value PostgreSQL or strict JSON cannot take, or None."""
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where, "不接受 NaN 或 Infinity"
        if isinstance(item, str):
            why = text_problem(item)
            if why:
                return where, why
        elif isinstance(item, dict):
            for key, inner in item.items():
                name = f"{where}.{printable(key)}" if where else printable(key)
                why = text_problem(key)
                if why:
                    return name, f"字段名{why}"
                stack.append((name, inner))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", inner) for i, inner in enumerate(item))
    return None


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # FastAPI reads a body without a type as JSON
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def check_body(body: bytes, content_type: str | None) -> None:
    if not body or not _is_json(content_type):
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(400, "请求正文不是 UTF-8 编码") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise _Refused(422, "正文：嵌套层数过多") from None
    except ValueError:
        return  # not JSON: the route's validation answers it, naming the body
    found = json_problem(value)
    if found:
        where, why = found
        raise _Refused(422, f"正文 {where}：{why}" if where else f"正文：{why}")


def check_target(scope: Scope) -> None:
    if "\x00" in scope.get("path", ""):
        raise _Refused(400, "路径含有 NUL 字符")
    query = scope.get("query_string", b"")
    if not query:
        return
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        why = text_problem(name) or text_problem(value)
        if why:
            raise _Refused(422, f"查询参数 {printable(name)}：{why}")


class InputGuard:
    """ASGI middleware applying the rules above; everything else passes untouched."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            check_target(scope)
            if not self._may_carry_body(scope, headers):
                await self.app(scope, receive, send)
                return
            body = await self._read(receive, headers)
            check_body(body, headers.get("content-type"))
        except _Refused as refused:
            response = JSONResponse({"detail": refused.detail}, status_code=refused.status)
            if refused.status == 413:
                response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    def _may_carry_body(scope: Scope, headers: Headers) -> bool:
        if scope["method"] not in _NO_BODY_METHODS:
            return True
        return "content-length" in headers or "transfer-encoding" in headers

    async def _read(self, receive: Receive, headers: Headers) -> bytes:
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise _Refused(400, "请求头 Content-Length 无效")
            if int(declared) > self.max_body:
                raise _Refused(413, f"请求正文超过 {self.max_body // 1024} KiB 的上限")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _Refused(413, f"请求正文超过 {self.max_body // 1024} KiB 的上限")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

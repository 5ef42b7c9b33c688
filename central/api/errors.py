"""Every error leaves the API as JSON `{"detail": "…"}` in Chinese; never a stack trace.

A validation error names the field and what it must be, and never echoes what the client
sent: a NaN, a lone surrogate or a NUL copied into the answer is what used to turn a 422
into a 500, and a reflected value is a gift to whoever probes the API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("central.api")

# How much of a client-chosen key (it can appear in a field's location) goes back.
_KEY_CHARS = 40
_MAX_ERRORS = 3


class BadRequest(ValueError):
    """A request the API understood but cannot serve (answered 400 with this message)."""


def printable(text: object, limit: int = _KEY_CHARS) -> str:
    """`text` made safe to put in an answer: no NUL, no control character, no lone
    surrogate, at most `limit` characters."""
    out = []
    for ch in str(text)[:limit]:
        code = ord(ch)
        out.append("?" if code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF else ch)
    return "".join(out)


_WHERE = {"body": "正文", "query": "查询参数", "path": "路径参数", "header": "请求头"}


def field_name(loc: Iterable) -> str:
    """`body.thresholds.x` style name of a validation error's location."""
    parts = [printable(p) for p in loc]
    if parts and parts[0] in _WHERE:
        where, rest = _WHERE[parts[0]], parts[1:]
        return f"{where} {'.'.join(rest)}" if rest else where
    return ".".join(parts) or "请求"


def _limit(ctx: Mapping, key: str) -> str:
    return printable(ctx.get(key, ""), 32)


def reason(error: Mapping) -> str:
    """What the field must be, in Chinese, from a pydantic error (type and context only)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    simple = {
        "missing": "必须填写",
        "extra_forbidden": "不是可接受的字段",
        "json_invalid": "不是有效的 JSON",
        "json_type": "不是有效的 JSON",
        "finite_number": "不接受 NaN 或 Infinity",
        "float_parsing": "应为数字", "float_type": "应为数字",
        "decimal_parsing": "应为数字", "decimal_type": "应为数字",
        "int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数",
        "bool_parsing": "应为 true 或 false", "bool_type": "应为 true 或 false",
        "string_type": "应为文本", "dict_type": "应为 JSON 对象", "model_type": "应为 JSON 对象",
        "model_attributes_type": "应为 JSON 对象", "list_type": "应为 JSON 数组",
        "date_parsing": "应为日期（YYYY-MM-DD）", "date_type": "应为日期（YYYY-MM-DD）",
        "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
        "date_from_datetime_inexact": "应为日期（YYYY-MM-DD）",
        "datetime_parsing": "应为带时区的时间（RFC 3339，如 2026-11-22T08:00:00Z）",
        "datetime_type": "应为带时区的时间（RFC 3339，如 2026-11-22T08:00:00Z）",
        "datetime_from_date_parsing": "应为带时区的时间（RFC 3339，如 2026-11-22T08:00:00Z）",
        "timezone_aware": "须带时区（如 2026-11-22T08:00:00Z）",
        "string_pattern_mismatch": "格式不符",
        "decimal_max_places": f"小数最多 {_limit(ctx, 'decimal_places')} 位",
        "decimal_max_digits": f"最多 {_limit(ctx, 'max_digits')} 位数字",
        "decimal_whole_digits": "整数部分位数过多",
        "uuid_parsing": "格式不符",
        "enum": f"只能是 {printable(ctx.get('expected', ''), 200)}",
        "literal_error": f"只能是 {printable(ctx.get('expected', ''), 200)}",
        "greater_than": f"须大于 {_limit(ctx, 'gt')}",
        "greater_than_equal": f"须不小于 {_limit(ctx, 'ge')}",
        "less_than": f"须小于 {_limit(ctx, 'lt')}",
        "less_than_equal": f"须不大于 {_limit(ctx, 'le')}",
        "string_too_short": f"至少 {_limit(ctx, 'min_length')} 个字符",
        "string_too_long": f"最多 {_limit(ctx, 'max_length')} 个字符",
        "too_short": f"至少 {_limit(ctx, 'min_length')} 项",
        "too_long": f"最多 {_limit(ctx, 'max_length')} 项",
    }
    if kind in simple:
        return simple[kind]
    if kind in ("value_error", "assertion_error") and ctx.get("error") is not None:
        # Raised by our own validators, whose messages name a rule, not the input.
        return printable(ctx["error"], 200)
    return "取值无效"


def validation_detail(errors: Iterable[Mapping]) -> str:
    errors = list(errors)
    parts = [f"{field_name(e.get('loc', ()))}：{reason(e)}" for e in errors[:_MAX_ERRORS]]
    more = len(errors) - _MAX_ERRORS
    return "；".join(parts) + (f"（另有 {more} 处错误）" if more > 0 else "")


async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": validation_detail(exc.errors())}, status_code=422)


_STATUS_TEXT = {400: "请求无效", 401: "未认证", 403: "无权操作", 404: "不存在",
                405: "不支持此请求方法", 406: "不支持所请求的格式", 409: "冲突",
                413: "请求正文过大", 415: "不支持的正文类型"}


def _framework_text(status: int, detail: object) -> bool:
    """Whether `detail` is Starlette's or FastAPI's own English text, not a route's."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = None
    return not isinstance(detail, str) or detail in (phrase, *_FRAMEWORK_TEXTS)


_FRAMEWORK_TEXTS = ("There was an error parsing the body",)


async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail
    if _framework_text(exc.status_code, detail):
        detail = _STATUS_TEXT.get(exc.status_code, "请求无效")
    return JSONResponse({"detail": printable(detail, 500)}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _bad_request(_request: Request, exc: BadRequest) -> JSONResponse:
    return JSONResponse({"detail": printable(exc, 500)}, status_code=400)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "服务器内部错误"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(BadRequest, _bad_request)
    app.add_exception_handler(Exception, _unexpected)

"""pydantic's validation errors in the Chinese depot staff read, one template per error `type`.

pydantic only speaks English; its error `type` and `ctx` are stable, so each type gets its own
Chinese template here, filled from `ctx`. A type this table does not know still gets a Chinese
message that names the type, so a pydantic upgrade never leaks English into `edge check`.
"""

from __future__ import annotations

import re
from typing import Any

_MAPPING = "须为映射，每行写 设置: 值"

# type → template; `{name}` fields come from the error's ctx.
TEMPLATES: dict[str, str] = {
    "missing": "缺少必填设置",
    "extra_forbidden": "未知设置",
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
    "list_type": "须为列表，每项以 - 开头",
    "string_type": "须为文字",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "不符合格式 {pattern}",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数，不能带小数",
    "int_parsing_size": "数字太大",
    "float_type": "须为数字",
    "float_parsing": "须为数字",
    "finite_number": "须为有限的数字",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须大于或等于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须小于或等于 {le}",
    "too_short": "至少要有 {min_length} 项（现有 {actual_length} 项）",
    "too_long": "最多 {max_length} 项（现有 {actual_length} 项）",
    "literal_error": "须为 {expected}",
    "enum": "须为 {expected}",
    "union_tag_invalid": "须为 {expected_tags}（实际为 {tag}）",
    "union_tag_not_found": "缺少必填设置",
    "value_error": "{error}",
    "assertion_error": "{error}",
}

FALLBACK = "取值无效（校验错误类型 {type}）"

# A pattern means nothing to depot staff: say what the setting wants instead.
PATTERN_HINTS: dict[str, str] = {
    r"^\d{6}$": "须为 6 位数字的行政区划代码（如 430102）",
    r"^[a-z][a-z0-9_]{0,31}$": "须为小写字母开头、只含 a-z 0-9 _ 的代码，最多 32 个字符（如 wheat）",
    r"^mqtts?://[^/\s]+": "须以 mqtt:// 或 mqtts:// 开头，后接主机（如 mqtt://127.0.0.1:1883）",
    r"^rtmps?://": "须以 rtmp:// 或 rtmps:// 开头",
}

# The input itself is shown after these ("（实际为 300）"); the others say it already or it is a
# whole section, which would be noise.
_NO_INPUT = {"missing", "extra_forbidden", "value_error", "assertion_error", "union_tag_invalid",
             "union_tag_not_found", "too_short", "too_long"}


def show_value(value: Any) -> str:
    """A value as the depot file writes it (YAML spelling for true/false/null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _choices(expected: str) -> str:
    """pydantic's "'N', 'E' or 'O'" → "'N'、'E' 或 'O'"; one choice stays as it is."""
    parts = [p for p in re.split(r", | or ", expected) if p]
    if len(parts) < 2:
        return expected
    return "、".join(parts[:-1]) + " 或 " + parts[-1]


def _ctx(err: dict) -> dict[str, Any]:
    ctx = dict(err.get("ctx") or {})
    for key in ("gt", "ge", "lt", "le"):
        if key in ctx:
            ctx[key] = show_value(ctx[key])
    for key in ("expected", "expected_tags"):
        if key in ctx:
            ctx[key] = _choices(str(ctx[key]))
    if "tag" in ctx:
        ctx["tag"] = show_value(ctx["tag"])
    if "error" in ctx:
        ctx["error"] = str(ctx["error"])
    return ctx


def translate(err: dict) -> str:
    """The Chinese message for one entry of `ValidationError.errors()`."""
    kind = err["type"]
    ctx = _ctx(err)
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_HINTS:
        text = PATTERN_HINTS[ctx["pattern"]]
    elif kind == "string_too_short" and ctx.get("min_length") == 1:
        text = "不能为空"
    else:
        try:
            text = TEMPLATES.get(kind, FALLBACK).format(type=kind, **ctx)
        except (KeyError, IndexError, ValueError):
            text = FALLBACK.format(type=kind)
    given = err.get("input")
    if kind in _NO_INPUT or isinstance(given, dict | list) or "input" not in err:
        return text
    return f"{text}（实际为 {show_value(given)}）"


def is_known(kind: str) -> bool:
    return kind in TEMPLATES


# Words for the types a union member failed on, when several members fail for one setting.
UNION_WORDS: dict[str, str] = {
    "dict_type": "映射", "model_type": "映射", "model_attributes_type": "映射",
    "list_type": "列表", "string_type": "文字", "int_type": "整数", "float_type": "数字",
    "bool_type": "true 或 false",
}


def union_message(errors: list[dict]) -> str:
    """One message for a setting whose every union member failed (`profiles: 5`)."""
    words = list(dict.fromkeys(UNION_WORDS.get(e["type"], "") for e in errors))
    if "" in words or not words:
        return "；".join(dict.fromkeys(translate(e) for e in errors))
    given = errors[0].get("input")
    tail = "" if isinstance(given, dict | list) else f"（实际为 {show_value(given)}）"
    return "须为" + "、".join(words[:-1]) + ("或" if len(words) > 1 else "") + words[-1] + tail

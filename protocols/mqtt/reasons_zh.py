"""The Chinese of MQTT rejection reasons: what `protocols validate` prints and what central's
dead letters keep (supervisors read them), one place for every text.

pydantic's errors go through the same by-type table as the depot file (protocols/pydantic_zh.py);
only the words that are about YAML there ("设置", "每行写 设置: 值", "以 - 开头") are replaced by
the words of a JSON payload ("字段", "JSON 对象", "JSON 数组"). The field path stays outside
the text (MessageError.field), so no reason loses which field failed.
"""

from __future__ import annotations

from typing import Any

from protocols.mqtt.topics import CODE_PATTERN
from protocols.pydantic_zh import translate

# pydantic types whose depot-file wording does not fit a JSON payload.
_OBJECT = "须为 JSON 对象"
PAYLOAD_TEMPLATES: dict[str, str] = {
    "missing": "缺少必填字段",
    "union_tag_not_found": "缺少必填字段",
    "extra_forbidden": "未知字段（契约中没有）",
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "list_type": "须为 JSON 数组",
}

# A pattern means little to a reader: say what the field wants instead.
PAYLOAD_PATTERN_HINTS: dict[str, str] = {
    CODE_PATTERN: "须为 1 到 64 个字符，只含 A-Z a-z 0-9 _ -",
    r"^[0-9]{6}$": "须为 6 位数字的行政区划代码（如 430102）",
    r"^[A-Za-z0-9_-]{16,64}$": "须为 16 到 64 个字符，只含 A-Z a-z 0-9 _ -",
}

# A rejected value is shown after the reason; a 270 KB base64 string must not be.
MAX_SHOWN_INPUT = 60


def _shortened(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_SHOWN_INPUT:
        return value[:MAX_SHOWN_INPUT] + "…"
    return value


def pydantic_reason(error: dict[str, Any]) -> str:
    """The Chinese reason for one entry of `ValidationError.errors()` about a payload."""
    kind = error["type"]
    if kind in PAYLOAD_TEMPLATES:
        return PAYLOAD_TEMPLATES[kind]
    pattern = (error.get("ctx") or {}).get("pattern")
    if kind == "string_pattern_mismatch" and pattern in PAYLOAD_PATTERN_HINTS:
        text = PAYLOAD_PATTERN_HINTS[pattern]
        return text if "input" not in error else f"{text}（实际为 {_shortened(error['input'])!r}）"
    if "input" in error:
        error = {**error, "input": _shortened(error["input"])}
    return translate(error)


# json.JSONDecodeError.msg → Chinese; the line and column are added by the caller.
_JSON_MESSAGES: dict[str, str] = {
    "Expecting value": "此处应为一个值",
    "Expecting property name enclosed in double quotes": "键须用双引号括起",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "缺少冒号",
    "Extra data": "值之后还有多余内容",
    "Unterminated string starting at": "字符串没有结束",
    "Invalid control character at": "字符串中有控制字符",
    "Invalid \\escape": "无效的转义",
    "Invalid \\uXXXX escape": "无效的 \\u 转义",
    "Illegal trailing comma before end of object": "对象末尾多了逗号",
    "Illegal trailing comma before end of array": "数组末尾多了逗号",
}


def not_json(msg: str, line: int, column: int) -> str:
    what = _JSON_MESSAGES.get(msg, "格式有误")
    return f"消息不是 JSON（第 {line} 行第 {column} 列）：{what}"


def json_type_name(value: Any) -> str:
    """What a JSON value is called, for "须为 JSON 对象，实际为 数组"."""
    if isinstance(value, bool):
        return "布尔值"
    if value is None:
        return "空值（null）"
    return {list: "数组", str: "字符串", int: "整数", float: "数字", dict: "对象"}.get(
        type(value), type(value).__name__)


# The codec's own reasons (whole payload or `schema`/`depot`), filled with str.format.
NOT_UTF8 = "消息不是有效的 UTF-8（第 {byte} 个字节有误）"
NOT_JSON_ACCEPTED = "消息中的 JSON 本接收方不接受：{detail}"
NESTED_TOO_DEEPLY = "嵌套过深"
NUMBER_TOO_LONG = "整数位数过多"
CONSTANT_NOT_ALLOWED = "{name} 不是 JSON 允许的数字"
NUMBER_OUT_OF_RANGE = "数字 {text} 超出范围"
KEY_TWICE = "同一对象中键 {key!r} 出现了两次"
TEXT_NUL = "文字中含有 NUL 字符"
KEY_NUL = "键中含有 NUL 字符"
TEXT_SURROGATE = "文字中含有不成对的 UTF-16 代理项"
KEY_SURROGATE = "键中含有不成对的 UTF-16 代理项"
NOT_OBJECT = "消息须为 JSON 对象，实际为{kind}"
SCHEMA_UNKNOWN = "未知的 schema {schema!r}；已知：{known}"
SCHEMA_WRONG_TOPIC = "schema {schema!r} 不属于此主题，此主题只收 {expected!r}"
DEPOT_DIFFERS = "depot {depot!r} 与主题中的库点 {topic_depot!r} 不一致"
NOT_BYTES = "消息须为字节串，实际为 {kind}"
TOO_LARGE = "消息有 {size} 字节，超过上限 {limit} 字节"
UNEXPECTED = "消息无法校验（内部错误 {kind}：{detail}）"
NOT_A_MESSAGE = "无法编码 {kind}：不是契约中的消息"
READING_TOO_LARGE = "仅这一条读数就组成 {size} 字节的消息，超过上限 {limit} 字节"

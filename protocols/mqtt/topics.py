"""MQTT topic names of contract v1: builders and a strict parser."""

from __future__ import annotations

import re

from protocols.mqtt.errors import TopicError

PREFIX = "grainlink/v1"

TELEMETRY = "telemetry"
LAYOUT = "layout"
STATUS = "status"
EVENTS = "events"
SNAPSHOT = "snapshot"
CMD = "cmd"
CMD_RESULT = "cmd/result"
KINDS = (TELEMETRY, LAYOUT, STATUS, EVENTS, SNAPSHOT, CMD, CMD_RESULT)

INGEST_SHARED_GROUP = "grainlink-ingest"

# `grainlink/v1/alarms/{depot}` lives beside the depot topics, so a depot may not be called
# "alarms" or its topics would collide with the alarm feed.
RESERVED_DEPOT_CODES = frozenset({"alarms"})

CODE_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_CODE_RE = re.compile(CODE_PATTERN)


def valid_code(s: object) -> bool:
    """True for a depot/granary/camera code: 1-64 characters of A-Z a-z 0-9 _ -."""
    return isinstance(s, str) and _CODE_RE.fullmatch(s) is not None


def _check_depot(depot: object) -> str:
    if not valid_code(depot):
        raise TopicError(
            f"库点代码 {depot!r} 须为 1 到 64 个字符，只含 A-Z a-z 0-9 _ -", "topic"
        )
    if depot in RESERVED_DEPOT_CODES:
        raise TopicError(f"库点代码 {depot!r} 是保留字，不能用作库点代码", "topic")
    return depot  # type: ignore[return-value]


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise TopicError(f"未知的主题类别 {kind!r}；已知：{'、'.join(KINDS)}", "topic")
    return kind


def topic_for(depot: str, kind: str) -> str:
    """`grainlink/v1/{depot}/{kind}`."""
    return f"{PREFIX}/{_check_depot(depot)}/{_check_kind(kind)}"


def parse_topic(topic: str) -> tuple[str, str]:
    """Split a depot topic into (depot, kind); TopicError when it is not one of contract v1."""
    if not isinstance(topic, str):
        raise TopicError(f"主题须为字符串，实际为 {type(topic).__name__}", "topic")
    head = PREFIX + "/"
    if not topic.startswith(head):
        raise TopicError(f"主题 {topic!r} 不以 {head!r} 开头", "topic")
    depot, sep, kind = topic[len(head):].partition("/")
    if not sep:
        raise TopicError(f"主题 {topic!r} 在库点代码之后缺少类别", "topic")
    return _check_depot(depot), _check_kind(kind)


def subscription(kind: str = TELEMETRY) -> str:
    """Topic filter for one kind from every depot: `grainlink/v1/+/{kind}`."""
    return f"{PREFIX}/+/{_check_kind(kind)}"


def shared_subscription(kind: str = TELEMETRY, group: str = INGEST_SHARED_GROUP) -> str:
    """`$share/{group}/grainlink/v1/+/{kind}`: workers of one group split the messages."""
    if not valid_code(group):
        raise TopicError(f"共享订阅组名 {group!r} 无效", "group")
    return f"$share/{group}/{subscription(kind)}"


def alarms_topic(depot: str) -> str:
    """`grainlink/v1/alarms/{depot}`: where central publishes a depot's alarm changes."""
    return f"{PREFIX}/alarms/{_check_depot(depot)}"

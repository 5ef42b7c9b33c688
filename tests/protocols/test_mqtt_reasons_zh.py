"""Every reason a payload can be rejected for is Chinese (protocols/mqtt/reasons_zh.py): each
field of each contract example, given each kind of wrong value, left out, or joined by an
unknown one. These texts are what `protocols validate` prints and what dead letters keep."""

from __future__ import annotations

import pytest

from protocols.mqtt.codec import decode_message
from protocols.mqtt.errors import MessageError
from protocols.mqtt.reasons_zh import MAX_SHOWN_INPUT, pydantic_reason
from tests.protocols.mqtt_support import EXAMPLES, chinese_reason, example, payload, topic

WRONG_VALUES = ["zz x", -1, 0, 10**30, 1.5, True, [1], [], {"a": 1}, "", "x" * 300, None]


def _paths(node, path=()):
    """Every key path of a JSON document, parents before children."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list) and node:
        yield (*path, 0)
        yield from _paths(node[0], (*path, 0))


def _reasons(kind: str, obj) -> list[tuple[str | None, str]]:
    try:
        decode_message(topic(kind), payload(obj))
    except MessageError as exc:
        return exc.problems
    return []


def _at(obj, path):
    for key in path[:-1]:
        obj = obj[key]
    return obj


@pytest.mark.parametrize("stem", list(EXAMPLES))
def test_every_wrong_value_is_rejected_in_chinese(stem):
    kind = EXAMPLES[stem]
    seen = 0
    for path in list(_paths(example(stem))):
        for value in [*WRONG_VALUES, "DELETE", "UNKNOWN"]:
            obj = example(stem)
            parent = _at(obj, path)
            if value == "DELETE":
                if isinstance(parent, list):
                    continue
                del parent[path[-1]]
            elif value == "UNKNOWN":
                if not isinstance(parent, dict):
                    continue
                parent["no_such_field"] = 1
            else:
                parent[path[-1]] = value
            for field, reason in _reasons(kind, obj):
                seen += 1
                assert chinese_reason(reason), (path, value, field, reason)
                assert len(reason) < 400, (path, value, reason)  # a long value is cut short
    assert seen > 50  # the loop reached the fields, not only the envelope


def test_long_rejected_value_is_cut_short():
    error = {"type": "string_pattern_mismatch", "loc": ("granary",), "input": "x" * 5000,
             "ctx": {"pattern": "^[A-Z]$"}}
    reason = pydantic_reason(error)
    assert "x" * MAX_SHOWN_INPUT + "…" in reason and "x" * (MAX_SHOWN_INPUT + 1) not in reason


def test_unknown_pydantic_type_still_chinese():
    reason = pydantic_reason({"type": "some_future_type", "loc": ("batch",), "input": 3})
    assert chinese_reason(reason) and "some_future_type" in reason

"""Shared helpers for the MQTT contract tests: the contract's example payloads."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "mqtt"
DEPOT = "HN-0731-001"

# example file stem -> topic kind
EXAMPLES = {
    "telemetry": "telemetry",
    "layout": "layout",
    "status": "status",
    "event": "events",
    "snapshot": "snapshot",
    "cmd": "cmd",
    "cmd-result": "cmd/result",
}


def example(stem: str) -> dict:
    return copy.deepcopy(json.loads((DATA / f"{stem}.json").read_text(encoding="utf-8")))


def topic(kind: str, depot: str = DEPOT) -> str:
    return f"grainlink/v1/{depot}/{kind}"


def payload(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


_CJK = re.compile(r"[\u4e00-\u9fff]")
# pydantic's and the codec's former English, which must not reach a reader of a rejection.
_ENGLISH = re.compile(r"Input should|Field required|should (be|have|match)|Extra inputs|Unable to|"
                      r"Value error|valid (integer|number|string|dictionary|list|boolean)|"
                      r"payload (is|must)|over the limit|not JSON|unknown (field|schema)")


def chinese_reason(reason: str) -> bool:
    """A rejection reason in Chinese, with none of pydantic's or the old codec's English."""
    # a value the reason quotes (a topic, a field's content) may be any text a sender chose
    own_words = re.sub(r"'[^']*'|\"[^\"]*\"", "", reason)
    return bool(_CJK.search(reason)) and not _ENGLISH.search(own_words)

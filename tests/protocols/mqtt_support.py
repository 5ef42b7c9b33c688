"""Shared helpers for the MQTT contract tests: the contract's example payloads."""

from __future__ import annotations

import copy
import json
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

"""Byte-level rules shared by the codec and the splitter: JSON form and size limits."""

from __future__ import annotations

import json
from typing import Any

from protocols.mqtt import topics

MAX_PAYLOAD_BYTES = 256 * 1024
# One still is up to 200 KiB of JPEG, which base64 makes ~273 KB: the snapshot topic needs
# more room than the 256 KiB of every other message.
MAX_SNAPSHOT_PAYLOAD_BYTES = 288 * 1024


def max_payload_bytes(kind: str) -> int:
    """The size limit of a payload on a topic of this kind."""
    return MAX_SNAPSHOT_PAYLOAD_BYTES if kind == topics.SNAPSHOT else MAX_PAYLOAD_BYTES


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, no NaN/Infinity: the one serialisation of contract v1."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()

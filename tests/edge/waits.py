"""Waiting for the uplink in tests."""

from __future__ import annotations

import time


def wait_empty(outbox, timeout: float, poll: float = 0.05) -> bool:
    """True once nothing is pending in `outbox` (within `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if outbox.stats().pending == 0:
            return True
        time.sleep(poll)
    return outbox.stats().pending == 0

"""Store each ingested `grainlink.snapshot/1` (runs inside the ingest transaction).

A still that is not a JPEG within the limit is logged and skipped (it raises, so the hooks'
savepoint rolls back and the error is counted); the message itself was already validated.
"""

from __future__ import annotations

from central.cameras.store import stills_dir, store_still
from central.ingest.hooks import register_message_hook


def store_snapshot(conn, depot: str, message) -> None:
    store_still(conn, message, stills_dir())


register_message_hook("snapshot", store_snapshot)

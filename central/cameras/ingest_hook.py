"""Store each ingested `grainlink.snapshot/1`: the `snapshot` ingest hook (runs inside the
ingest transaction; central/wiring.py hands it to the worker).

A still that is not a JPEG within the limit is logged and skipped (it raises, so the hooks'
savepoint rolls back and the error is counted); the message itself was already validated.
"""

from __future__ import annotations

from central.cameras.store import stills_dir, store_still


def store_snapshot(conn, depot: str, message) -> None:
    store_still(conn, message, stills_dir())

"""Store and find camera stills: the JPEG as a file, its metadata in `camera_stills`.

The stills directory and the retention are settings (`stills_dir`, `stills_retention_days`);
until central Settings carries them they come from GRAINLINK_STILLS_DIR (default ./var/stills)
and GRAINLINK_STILLS_RETENTION_DAYS (default 30).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from protocols.mqtt.models import Snapshot

log = logging.getLogger("central.cameras")

MAX_STILL_BYTES = 200 * 1024
JPEG_MAGIC = b"\xff\xd8\xff"


class StillRejected(ValueError):
    """The snapshot's picture is not a JPEG within the limit."""


def stills_dir(settings=None) -> Path:
    value = getattr(settings, "stills_dir", None) or os.environ.get("GRAINLINK_STILLS_DIR", "./var/stills")
    return Path(value)


def retention_days(settings=None) -> float:
    value = getattr(settings, "stills_retention_days", None)
    return float(value if value is not None else os.environ.get("GRAINLINK_STILLS_RETENTION_DAYS", "30"))


def decode_jpeg(msg: Snapshot) -> bytes:
    try:
        data = base64.b64decode(msg.jpeg_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StillRejected(f"jpeg_b64: not valid base64 ({exc})") from None
    if len(data) > MAX_STILL_BYTES:
        raise StillRejected(f"jpeg_b64: {len(data)} bytes of JPEG, over the {MAX_STILL_BYTES} limit")
    if not data.startswith(JPEG_MAGIC):
        raise StillRejected("jpeg_b64: the picture is not a JPEG")
    return data


def relative_path(depot: str, camera: str, ts: datetime) -> str:
    return f"{depot}/{camera}/{ts:%Y%m%d}/{ts:%Y%m%dT%H%M%S%f}Z.jpg"


def store_still(conn, msg: Snapshot, root: Path) -> bool:
    """Write the file (atomically) and its row; False when this still is already stored."""
    data = decode_jpeg(msg)
    rel = relative_path(msg.depot, msg.camera, msg.ts)
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    row = conn.execute(
        "INSERT INTO camera_stills (depot, camera, granary, ts, overlay, path, bytes, sha256) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (depot, camera, ts) DO NOTHING RETURNING id",
        (msg.depot, msg.camera, msg.granary, msg.ts, msg.overlay, rel, len(data),
         hashlib.sha256(data).hexdigest())).fetchone()
    return row is not None


def latest_still(conn, depot: str, camera: str) -> dict | None:
    row = conn.execute(
        "SELECT camera, granary, ts, overlay, path, bytes, sha256 FROM camera_stills "
        "WHERE depot = %s AND camera = %s ORDER BY ts DESC LIMIT 1", (depot, camera)).fetchone()
    if row is None:
        return None
    keys = ("camera", "granary", "ts", "overlay", "path", "bytes", "sha256")
    return dict(zip(keys, row, strict=True))


def camera_health(conn, depot: str) -> list[dict]:
    """Each camera known for the depot (layout or stills or events): last event, last still."""
    rows = conn.execute(
        """
        WITH cams AS (
            SELECT unnest(cameras) AS camera, granary FROM granaries WHERE depot = %(d)s
            UNION SELECT camera, granary FROM camera_stills WHERE depot = %(d)s
            UNION SELECT subject, NULL FROM events
                  WHERE depot = %(d)s AND kind IN ('camera_offline', 'camera_online') AND subject <> ''
        ), named AS (SELECT camera, max(granary) AS granary FROM cams GROUP BY camera)
        SELECT n.camera, n.granary,
               (SELECT kind FROM events e WHERE e.depot = %(d)s AND e.subject = n.camera
                  AND e.kind IN ('camera_offline', 'camera_online') ORDER BY e.ts DESC LIMIT 1),
               (SELECT ts FROM events e WHERE e.depot = %(d)s AND e.subject = n.camera
                  AND e.kind IN ('camera_offline', 'camera_online') ORDER BY e.ts DESC LIMIT 1),
               (SELECT max(ts) FROM camera_stills s WHERE s.depot = %(d)s AND s.camera = n.camera)
        FROM named n ORDER BY n.camera
        """, {"d": depot}).fetchall()
    return [{"camera": cam, "granary": gran, "online": kind != "camera_offline",
             "since": since, "last_still_at": still} for cam, gran, kind, since, still in rows]


def delete_older_than(conn, root: Path, cutoff: datetime) -> int:
    """Remove stills (rows and files) taken before `cutoff`; returns how many."""
    rows = conn.execute("DELETE FROM camera_stills WHERE ts < %s RETURNING path", (cutoff,)).fetchall()
    for (rel,) in rows:
        try:
            (root / rel).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("cannot remove still %s: %s", rel, exc)
    return len(rows)


def cutoff_for(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)

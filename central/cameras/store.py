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

from central.cameras.alarm_stills import link_still
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
    if row is None:
        return False
    link_still(conn, row[0], msg.depot, msg.camera, msg.granary, msg.ts)
    return True


STILL_KEYS = ("id", "camera", "granary", "ts", "overlay", "path", "bytes", "sha256")


def latest_still(conn, depot: str, camera: str) -> dict | None:
    row = conn.execute(
        f"SELECT {', '.join(STILL_KEYS)} FROM camera_stills "
        "WHERE depot = %s AND camera = %s ORDER BY ts DESC LIMIT 1", (depot, camera)).fetchone()
    return None if row is None else dict(zip(STILL_KEYS, row, strict=True))


def still_by_id(conn, depot: str, still_id: int) -> dict | None:
    row = conn.execute(f"SELECT {', '.join(STILL_KEYS)} FROM camera_stills WHERE depot = %s AND id = %s",
                       (depot, still_id)).fetchone()
    return None if row is None else dict(zip(STILL_KEYS, row, strict=True))


def still_history(conn, depot: str, camera: str, since: datetime, until: datetime, limit: int) -> list[dict]:
    """The camera's stills between two times, newest first, with the alarms each is kept with."""
    rows = conn.execute(
        """SELECT c.id, c.ts, c.overlay, c.bytes, c.granary,
                  coalesce(array_agg(s.alarm_id ORDER BY s.alarm_id) FILTER (WHERE s.alarm_id IS NOT NULL), '{}')
           FROM camera_stills c LEFT JOIN alarm_stills s ON s.still_id = c.id
           WHERE c.depot = %s AND c.camera = %s AND c.ts >= %s AND c.ts < %s
           GROUP BY c.id ORDER BY c.ts DESC LIMIT %s""", (depot, camera, since, until, limit)).fetchall()
    keys = ("id", "ts", "overlay", "bytes", "granary", "alarms")
    return [dict(zip(keys, r, strict=True)) for r in rows]


STATE_NAMES = {"online": "在线", "offline": "离线", "never_reached": "从未连通"}


def camera_health(conn, depot: str, granary: str | None = None) -> list[dict]:
    """Every camera of the depot (its layout, granary lists, stills, events), at gates and oil
    tanks as in granaries. Online only when the newest sign of it says reached: a still, a
    camera_online event, or the agent's status reporting it ok; a camera_offline event or a
    status reporting it failing says offline; no sign at all is `never_reached`, not online."""
    rows = conn.execute(
        """
        WITH cams AS (
            SELECT unnest(cameras) AS camera, granary, NULL::text AS name FROM granaries
                WHERE depot = %(d)s AND active
            UNION SELECT c->>'camera', c->>'granary', c->>'name' FROM depots dp,
                jsonb_array_elements(coalesce(dp.layout->'cameras', '[]')) AS c WHERE dp.code = %(d)s
            UNION SELECT camera, granary, NULL FROM camera_stills WHERE depot = %(d)s
            UNION SELECT subject, NULL, NULL FROM events
                  WHERE depot = %(d)s AND kind IN ('camera_offline', 'camera_online') AND subject <> ''
        ), named AS (SELECT camera, max(granary) AS granary, max(name) AS name FROM cams GROUP BY camera),
        status AS (
            SELECT ts, payload FROM depot_status WHERE depot = %(d)s ORDER BY ts DESC LIMIT 1
        )
        SELECT n.camera, n.granary, n.name, ev.kind, ev.ts, st.ok, st.ts, ls.id, ls.ts, ls.overlay
        FROM named n
        LEFT JOIN LATERAL (SELECT kind, ts FROM events e WHERE e.depot = %(d)s AND e.subject = n.camera
                  AND e.kind IN ('camera_offline', 'camera_online') ORDER BY e.ts DESC LIMIT 1) ev ON true
        LEFT JOIN LATERAL (SELECT (c->>'ok')::boolean AS ok, status.ts FROM status,
                  jsonb_array_elements(coalesce(status.payload->'cameras', '[]')) AS c
                  WHERE c->>'camera' = n.camera) st ON true
        LEFT JOIN LATERAL (SELECT id, ts, overlay FROM camera_stills s WHERE s.depot = %(d)s
                  AND s.camera = n.camera ORDER BY ts DESC LIMIT 1) ls ON true
        WHERE %(g)s::text IS NULL OR n.granary = %(g)s
        ORDER BY n.granary NULLS LAST, n.camera
        """, {"d": depot, "g": granary}).fetchall()
    out = []
    for cam, gran, name, kind, kind_ts, ok, ok_ts, still_id, still_ts, overlay in rows:
        signs = [(t, up) for t, up in ((kind_ts, kind == "camera_online" if kind else None),
                                       (ok_ts, ok), (still_ts, True if still_id else None))
                 if t is not None and up is not None]
        newest = max(signs, key=lambda s: s[0]) if signs else None
        state = "never_reached" if newest is None else ("online" if newest[1] else "offline")
        out.append({"camera": cam, "granary": gran, "name": name or "", "online": state == "online",
                    "state": state, "state_name": STATE_NAMES[state],
                    "since": newest[0] if newest else None, "last_still_at": still_ts,
                    "latest_still": None if still_id is None else {"id": still_id, "ts": still_ts,
                                                                    "overlay": overlay}})
    return out


def delete_older_than(conn, root: Path, cutoff: datetime) -> int:
    """Remove stills (rows and files) taken before `cutoff`, except those kept with an alarm;
    returns how many."""
    rows = conn.execute(
        "DELETE FROM camera_stills c WHERE ts < %s AND NOT EXISTS "
        "(SELECT 1 FROM alarm_stills s WHERE s.still_id = c.id) RETURNING path", (cutoff,)).fetchall()
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

"""Stills on alarm: a granary that raises an alarm gets a still of each of its cameras, kept
with the alarm.

The `alarm_stills` job (central/wiring.py schedules it with the offline checks) finds alarms
of a granary opened within the last hour that have not asked yet, records the request and
publishes one `grainlink.cmd/1` `snapshot` per granary; the edge takes the stills and they
arrive like any other. As each still is stored (the snapshot ingest hook), it is linked to
the alarms whose request it answers: the first still of each camera of that granary taken
from a minute before the request (edge clocks drift) to fifteen minutes after it. Stills
linked to an alarm are not removed by the stills retention.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from protocols.mqtt import topics
from protocols.mqtt.codec import encode_message
from protocols.mqtt.models import Command

log = logging.getLogger("central.cameras")

Publish = Callable[[str, bytes], None]

# Cameras of a granary: the granary's own list and the layout's cameras placed in it.
_GRANARY_CAMERAS = """
    SELECT unnest(g.cameras) FROM granaries g WHERE g.depot = {d} AND g.granary = {g}
    UNION SELECT c->>'camera' FROM depots dp, jsonb_array_elements(coalesce(dp.layout->'cameras', '[]'))
          AS c WHERE dp.code = {d} AND c->>'granary' = {g}
"""


# Granary alarms opened within the hour that have not asked for stills and have cameras.
_NEW_ALARMS = f"""
    FROM alarms a WHERE a.granary IS NOT NULL AND a.opened_at > %(now)s - interval '1 hour'
      AND NOT EXISTS (SELECT 1 FROM alarm_still_requests r WHERE r.alarm_id = a.id)
      AND EXISTS ({_GRANARY_CAMERAS.format(d="a.depot", g="a.granary")})
"""


def request_stills(conn, publish: Publish, now: datetime | None = None) -> list[Command]:
    """Ask for the stills of newly raised granary alarms; the commands sent. The requests are
    recorded in the same transaction as the publish, so a broker that is down means a retry."""
    now = now or datetime.now(UTC)
    sent: list[Command] = []
    with conn.transaction():
        rows = conn.execute(
            f"""
            INSERT INTO alarm_still_requests (alarm_id, depot, granary, cmd_id, requested_at)
            SELECT a.id, a.depot, a.granary, gen_random_uuid(), %(now)s {_NEW_ALARMS}
            ORDER BY a.id
            ON CONFLICT DO NOTHING
            RETURNING depot, granary
            """, {"now": now}).fetchall()
        for depot, granary in sorted(set(rows)):
            cmd = Command(depot=depot, id=str(uuid.uuid4()), action="snapshot", granary=granary,
                          issued_at=now.replace(microsecond=0))
            publish(topics.topic_for(depot, topics.CMD), encode_message(cmd))
            sent.append(cmd)
    for cmd in sent:
        log.info("alarm in %s/%s: asked the edge for stills (cmd %s)", cmd.depot, cmd.granary, cmd.id)
    return sent


def link_still(conn, still_id: int, depot: str, camera: str, granary: str | None, ts: datetime) -> int:
    """Keep a just-stored still with the alarms it answers; how many."""
    if granary is None:
        return 0
    rows = conn.execute(
        """
        INSERT INTO alarm_stills (alarm_id, still_id)
        SELECT r.alarm_id, %(id)s FROM alarm_still_requests r
        WHERE r.depot = %(d)s AND r.granary = %(g)s
          AND %(ts)s BETWEEN r.requested_at - interval '1 minute' AND r.requested_at + interval '15 minutes'
          AND NOT EXISTS (SELECT 1 FROM alarm_stills s JOIN camera_stills c ON c.id = s.still_id
                          WHERE s.alarm_id = r.alarm_id AND c.camera = %(cam)s)
        ON CONFLICT DO NOTHING RETURNING alarm_id
        """, {"id": still_id, "d": depot, "g": granary, "ts": ts, "cam": camera}).fetchall()
    return len(rows)


def stills_of_alarm(conn, alarm_id: int) -> list[dict]:
    rows = conn.execute(
        """SELECT c.id, c.camera, c.granary, c.ts, c.overlay, c.bytes FROM alarm_stills s
           JOIN camera_stills c ON c.id = s.still_id WHERE s.alarm_id = %s ORDER BY c.ts, c.camera""",
        (alarm_id,)).fetchall()
    keys = ("id", "camera", "granary", "ts", "overlay", "bytes")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def mqtt_publisher(settings) -> tuple[Publish, Callable[[], None]]:
    """(publish, close) over one broker connection; publish waits for the broker's ack."""
    from central.broker import broker_client

    client = broker_client(settings, f"grainlink-stills-{uuid.uuid4().hex[:8]}")
    client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=30)
    client.loop_start()

    def publish(topic: str, payload: bytes) -> None:
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        if not info.is_published():
            raise ConnectionError(f"the broker did not acknowledge the command on {topic}")

    def close() -> None:
        client.disconnect()
        client.loop_stop()

    return publish, close


def alarm_stills_job(conn, settings) -> int:
    """The scheduled job: request stills for new granary alarms; how many commands."""
    if conn.execute(f"SELECT 1 {_NEW_ALARMS} LIMIT 1", {"now": datetime.now(UTC)}).fetchone() is None:
        return 0  # the usual case: no broker connection at all
    publish, close = mqtt_publisher(settings)
    try:
        return len(request_stills(conn, publish))
    finally:
        close()

"""One-time publish keys of live view (issue 18).

`live_start` (central/api/routes/cameras.py) issues a key for one stream, `<depot>.<camera>`
(codes are letters, digits, `_` and `-`, so the dot cannot be part of either: `A_B`+`C` and
`A`+`B_C` are different streams),
and sends it to the depot's edge in the command; the edge publishes to `<url>/<stream>?key=…`.
nginx's RTMP module asks central before it accepts the publisher (`on_publish`), every few
seconds while it publishes (`on_update`) and when it stops (`on_publish_done`); the answers
come from `verdict` below, so the media server accepts a stream only from whoever central
asked for it, for the time central allows:

- no key, an unknown key, or the key of another stream (another camera, another depot's) is
  refused;
- a key is good once: a second publish with it while the first runs, or after it ended, is
  refused;
- a key expires `ttl` after it was issued; a renewal (`live_start` while the stream is still
  allowed) moves its end and hands back the same key, so the running relay goes on; once
  expired, the next `on_update` ends the stream.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

CALLS = ("publish", "update_publish", "publish_done")  # nginx RTMP's `call` values


SEPARATOR = "."  # in no depot or camera code (protocols/mqtt/topics.py CODE_PATTERN)


def stream_name(depot: str, camera: str) -> str:
    """The media server's name of one camera's stream (the edge's live_name() is the same)."""
    return f"{depot}{SEPARATOR}{camera}"


def stream_parts(stream: str) -> tuple[str, str] | None:
    """(depot, camera) of a stream name, None when it is not one."""
    depot, dot, camera = stream.partition(SEPARATOR)
    return (depot, camera) if dot and depot and camera and SEPARATOR not in camera else None


@dataclass(frozen=True)
class Session:
    depot: str
    camera: str
    stream: str
    key: str
    expires_at: datetime
    published_at: datetime | None = None
    ended_at: datetime | None = None


def media_clients(raw: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of the `live_hook_clients` setting (the media server's addresses, comma
    separated); ValueError (Chinese) on a part that is no address or network, or none at all."""
    try:
        nets = [ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise ValueError(f"须为以逗号分隔的地址或网段（如 127.0.0.1/32,10.0.0.0/24）：{exc}") from None
    if not nets:
        raise ValueError("至少写一个地址或网段")
    return nets


def new_key() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 random bits


def verdict(call: str, stream: str, key: str | None, session: Session | None, now: datetime) -> str | None:
    """Why the media server must refuse this publisher (in Chinese, for its log), or None.
    `session` is the one the key was issued for (None: no such key)."""
    if call not in CALLS:
        return f"未知的回调 {call!r}"
    if call == "publish_done":
        return None  # the end is always taken note of
    if not key:
        return f"视频流 {stream} 推流未带密钥"
    if session is None:
        return f"视频流 {stream} 的推流密钥无效"
    if session.stream != stream or stream_parts(stream) != (session.depot, session.camera):
        return f"推流密钥不属于视频流 {stream}"
    if session.ended_at is not None:
        return f"视频流 {stream} 的推流密钥已用过"
    if now >= session.expires_at:
        return f"视频流 {stream} 的推流密钥已过期"
    if call == "publish" and session.published_at is not None:
        return f"视频流 {stream} 的推流密钥正在使用中"
    if call == "update_publish" and session.published_at is None:
        return f"视频流 {stream} 未经许可即在推流"
    return None


# --- the database --------------------------------------------------------------------------

_COLUMNS = "depot, camera, stream, key, expires_at, published_at, ended_at"


def issue(conn, depot: str, camera: str, now: datetime, ttl: timedelta) -> tuple[str, datetime]:
    """The stream's key and its end: the running session's, renewed, or a new one. Two
    live_start at once: a transaction lock on the stream's name makes the second wait and then
    renew the session the first one made (without it the second would withdraw the first's
    fresh key and make its own); the unique index of open sessions (migration 0059) is the
    database's own guard behind it, and a caller it turns away tries again."""
    for _ in range(3):
        try:
            return _issue_once(conn, depot, camera, now, ttl)
        except psycopg.errors.UniqueViolation:
            continue
    raise RuntimeError(f"视频流 {stream_name(depot, camera)} 的推流密钥无法签发（并发冲突）")


def _issue_once(conn, depot: str, camera: str, now: datetime, ttl: timedelta) -> tuple[str, datetime]:
    stream = stream_name(depot, camera)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 18))", ("live:" + stream,))
        row = conn.execute(
            "SELECT id, key FROM live_sessions WHERE stream = %s AND depot = %s AND camera = %s"
            " AND ended_at IS NULL AND expires_at > %s ORDER BY issued_at DESC LIMIT 1 FOR UPDATE",
            (stream, depot, camera, now)).fetchone()
        if row is not None:
            conn.execute("UPDATE live_sessions SET expires_at = %s WHERE id = %s", (now + ttl, row[0]))
            return row[1], now + ttl
        # a stream has one key at a time: an older one still unused is withdrawn
        conn.execute("UPDATE live_sessions SET ended_at = %s, ended_why = 'replaced'"
                     " WHERE stream = %s AND ended_at IS NULL", (now, stream))
        key = new_key()
        conn.execute("INSERT INTO live_sessions (depot, camera, stream, key, issued_at, expires_at)"
                     " VALUES (%s, %s, %s, %s, %s, %s)", (depot, camera, stream, key, now, now + ttl))
        return key, now + ttl


def end_stream(conn, depot: str, camera: str, now: datetime, why: str) -> int:
    """End the stream's session (live_stop): its key is good no more; the next on_update
    stops a publisher that is still on."""
    with conn.transaction():
        return conn.execute("UPDATE live_sessions SET ended_at = %s, ended_why = %s"
                            " WHERE stream = %s AND depot = %s AND camera = %s AND ended_at IS NULL",
                            (now, why, stream_name(depot, camera), depot, camera)).rowcount


def viewable(conn, depot: str, camera: str, now: datetime) -> bool:
    """Whether the stream has a session that is on (issued, not ended, not expired): only then
    does the media server hand its HLS to a viewer (routes/live_hooks.py)."""
    return conn.execute(
        "SELECT 1 FROM live_sessions WHERE stream = %s AND depot = %s AND camera = %s"
        " AND ended_at IS NULL AND expires_at > %s LIMIT 1",
        (stream_name(depot, camera), depot, camera, now)).fetchone() is not None


def check(conn, call: str, stream: str, key: str | None, now: datetime) -> str | None:
    """The media server's question answered, and the session's state moved on."""
    with conn.transaction():
        row = conn.execute(f"SELECT {_COLUMNS} FROM live_sessions WHERE key = %s FOR UPDATE",
                           (key or "",)).fetchone()
        session = Session(*row) if row is not None else None
        refusal = verdict(call, stream, key, session, now)
        if session is None or session.stream != stream or stream_parts(stream) != (session.depot, session.camera):
            return refusal
        if call == "publish" and refusal is None:
            conn.execute("UPDATE live_sessions SET published_at = %s WHERE key = %s", (now, key))
        elif call == "publish_done" or (call == "update_publish" and refusal is not None):
            conn.execute("UPDATE live_sessions SET ended_at = %s, ended_why = %s"
                         " WHERE key = %s AND ended_at IS NULL",
                         (now, "publish_done" if call == "publish_done" else "expired", key))
        return refusal

"""One-time publish keys of live view (issue 18).

`live_start` (central/api/routes/cameras.py) issues a key for one stream, `<depot>_<camera>`,
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

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

# The edge ends a stream after its depot's live.duration (5 min by default); central allows a
# key a little longer so that the edge, not the media server, ends a stream on time.
DEFAULT_TTL_S = 330.0
TTL_ENV = "GRAINLINK_LIVE_KEY_TTL_S"

CALLS = ("publish", "update_publish", "publish_done")  # nginx RTMP's `call` values


@dataclass(frozen=True)
class Session:
    stream: str
    key: str
    expires_at: datetime
    published_at: datetime | None = None
    ended_at: datetime | None = None


def key_ttl(environ: dict[str, str] | None = None) -> timedelta:
    """How long a key is good for (GRAINLINK_LIVE_KEY_TTL_S, seconds)."""
    raw = (os.environ if environ is None else environ).get(TTL_ENV, "")
    try:
        seconds = float(raw) if raw else DEFAULT_TTL_S
    except ValueError:
        raise ValueError(f"{TTL_ENV}：须为秒数，收到 {raw!r}") from None
    if not 0 < seconds <= 24 * 3600:
        raise ValueError(f"{TTL_ENV}：须在 0 到 86400 秒之间，收到 {raw!r}")
    return timedelta(seconds=seconds)


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
    if session.stream != stream:
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

_COLUMNS = "stream, key, expires_at, published_at, ended_at"


def issue(conn, depot: str, camera: str, stream: str, now: datetime, ttl: timedelta) -> str:
    """The stream's key: the running session's, renewed, or a new one."""
    with conn.transaction():
        row = conn.execute(
            "SELECT id, key FROM live_sessions WHERE stream = %s AND ended_at IS NULL AND expires_at > %s"
            " ORDER BY issued_at DESC LIMIT 1 FOR UPDATE", (stream, now)).fetchone()
        if row is not None:
            conn.execute("UPDATE live_sessions SET expires_at = %s WHERE id = %s", (now + ttl, row[0]))
            return row[1]
        # a stream has one key at a time: an older one still unused is withdrawn
        conn.execute("UPDATE live_sessions SET ended_at = %s, ended_why = 'replaced'"
                     " WHERE stream = %s AND ended_at IS NULL", (now, stream))
        key = new_key()
        conn.execute("INSERT INTO live_sessions (depot, camera, stream, key, issued_at, expires_at)"
                     " VALUES (%s, %s, %s, %s, %s, %s)", (depot, camera, stream, key, now, now + ttl))
        return key


def end_stream(conn, stream: str, now: datetime, why: str) -> int:
    """End the stream's session (live_stop): its key is good no more; the next on_update
    stops a publisher that is still on."""
    with conn.transaction():
        return conn.execute("UPDATE live_sessions SET ended_at = %s, ended_why = %s"
                            " WHERE stream = %s AND ended_at IS NULL", (now, why, stream)).rowcount


def check(conn, call: str, stream: str, key: str | None, now: datetime) -> str | None:
    """The media server's question answered, and the session's state moved on."""
    with conn.transaction():
        row = conn.execute(f"SELECT {_COLUMNS} FROM live_sessions WHERE key = %s FOR UPDATE",
                           (key or "",)).fetchone()
        session = Session(*row) if row is not None else None
        refusal = verdict(call, stream, key, session, now)
        if session is None or session.stream != stream:
            return refusal
        if call == "publish" and refusal is None:
            conn.execute("UPDATE live_sessions SET published_at = %s WHERE key = %s", (now, key))
        elif call == "publish_done" or (call == "update_publish" and refusal is not None):
            conn.execute("UPDATE live_sessions SET ended_at = %s, ended_why = %s"
                         " WHERE key = %s AND ended_at IS NULL",
                         (now, "publish_done" if call == "publish_done" else "expired", key))
        return refusal

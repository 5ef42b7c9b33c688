"""Live view's one-time publish keys: the pure rule, the hook endpoint's caller check, and the
real media server (nginx RTMP, on_publish/on_update/on_publish_done to central) turning away a
publisher with no key, a wrong key, another depot's key, an expired or used-up key, and taking
the right one — then ending it once its key expires."""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from central.api.routes.live_hooks import HOOK_PATH, allowed_clients, client_refusal, form_fields
from central.cameras import live_keys
from central.cameras.live_keys import Session, verdict
from edge.camera.live import publish_target, redacted
from tests.cameras.live_support import missing_parts

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
KEY = "k" * 32


def session(**kw) -> Session:
    return Session(**{"stream": "D1_CAM-1", "key": KEY, "expires_at": NOW + timedelta(minutes=5), **kw})


# --- the rule -------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "stream", "key", "sess", "why"), [
    ("publish", "D1_CAM-1", None, None, "未带密钥"),
    ("publish", "D1_CAM-1", "", None, "未带密钥"),
    ("publish", "D1_CAM-1", "x" * 32, None, "密钥无效"),
    ("publish", "D2_CAM-1", KEY, session(), "不属于视频流 D2_CAM-1"),
    ("publish", "D1_CAM-1", KEY, session(expires_at=NOW), "已过期"),
    ("publish", "D1_CAM-1", KEY, session(ended_at=NOW - timedelta(seconds=1)), "已用过"),
    ("publish", "D1_CAM-1", KEY, session(published_at=NOW), "正在使用中"),
    ("update_publish", "D1_CAM-1", KEY, session(), "未经许可"),
    ("update_publish", "D1_CAM-1", KEY, session(published_at=NOW, expires_at=NOW), "已过期"),
    ("play", "D1_CAM-1", KEY, session(), "未知的回调"),
])
def test_refusals(call, stream, key, sess, why):
    assert why in verdict(call, stream, key, sess, NOW)


def test_acceptances():
    assert verdict("publish", "D1_CAM-1", KEY, session(), NOW) is None
    assert verdict("update_publish", "D1_CAM-1", KEY, session(published_at=NOW), NOW) is None
    assert verdict("publish_done", "D1_CAM-1", None, None, NOW) is None


def test_key_ttl_setting():
    assert live_keys.key_ttl({}) == timedelta(seconds=live_keys.DEFAULT_TTL_S)
    assert live_keys.key_ttl({live_keys.TTL_ENV: "60"}) == timedelta(seconds=60)
    for bad in ("soon", "0", "-5", "100000"):
        with pytest.raises(ValueError, match=live_keys.TTL_ENV):
            live_keys.key_ttl({live_keys.TTL_ENV: bad})


def test_edge_target_carries_the_key_and_logs_hide_it():
    target = publish_target("rtmp://media:1935/live/", "D1_CAM-1", KEY)
    assert target == f"rtmp://media:1935/live/D1_CAM-1?key={KEY}"
    assert publish_target("rtmp://media/live", "D1_CAM-1", None) == "rtmp://media/live/D1_CAM-1"
    assert KEY not in redacted(target) and redacted(target).startswith("rtmp://media:1935/live/D1_CAM-1")


def test_only_the_media_server_may_ask():
    allowed = allowed_clients({})
    assert client_refusal("127.0.0.1", {}, allowed) is None
    assert client_refusal("::1", {}, allowed) is None
    assert "不是媒体服务器" in client_refusal("10.8.0.12", {}, allowed)  # a depot on the VPN
    assert "代理" in client_refusal("127.0.0.1", {"x-forwarded-for": "10.8.0.12"}, allowed)
    assert "无法识别" in client_refusal("testclient", {}, allowed)
    media_host = allowed_clients({"GRAINLINK_LIVE_HOOK_CLIENTS": "192.168.5.0/24"})
    assert client_refusal("192.168.5.7", {}, media_host) is None
    assert client_refusal("127.0.0.1", {}, media_host) is not None
    assert form_fields(b"call=publish&name=D1_CAM-1&key=abc%2B") == {"call": "publish", "name": "D1_CAM-1",
                                                                     "key": "abc+"}


# --- the database and the endpoint ----------------------------------------------------------

@pytest.fixture(scope="module")
def migrated(database_url):
    from central.db.migrate import migrate

    migrate(database_url)
    return database_url


@pytest.fixture
def conn(migrated):
    from central.db.pool import connect

    with connect(migrated, autocommit=True) as c:
        yield c


def test_renewal_keeps_the_key_and_stop_ends_it(conn):
    stream = f"R{uuid.uuid4().hex[:6]}_CAM-1"
    ttl = timedelta(minutes=5)
    first = live_keys.issue(conn, "R", "CAM-1", stream, NOW, ttl)
    assert live_keys.issue(conn, "R", "CAM-1", stream, NOW + timedelta(minutes=1), ttl) == first
    assert conn.execute("SELECT expires_at FROM live_sessions WHERE key = %s", (first,)).fetchone()[0] \
        == NOW + timedelta(minutes=6)
    assert live_keys.check(conn, "publish", stream, first, NOW) is None
    assert "正在使用中" in live_keys.check(conn, "publish", stream, first, NOW)  # one publisher per key
    assert live_keys.end_stream(conn, stream, NOW, "stopped") == 1
    assert "已用过" in live_keys.check(conn, "update_publish", stream, first, NOW)
    assert live_keys.issue(conn, "R", "CAM-1", stream, NOW, ttl) != first


def test_the_endpoint_answers_only_loopback(migrated, conn):
    from fastapi.testclient import TestClient

    from central.wiring import build_app
    from tests.central.api_support import migrated_settings

    stream = f"E{uuid.uuid4().hex[:6]}_CAM-1"
    key = live_keys.issue(conn, "E", "CAM-1", stream, datetime.now(UTC), timedelta(minutes=5))
    form = {"call": "publish", "name": stream, "key": key, "addr": "10.8.0.12"}
    app = build_app(migrated_settings(migrated))
    with TestClient(app, client=("10.8.0.12", 50000)) as depot_side:
        r = depot_side.post(HOOK_PATH, data=form)
        assert r.status_code == 403 and "不是媒体服务器" in r.text
    with TestClient(app, client=("127.0.0.1", 50000)) as media:
        r = media.post(HOOK_PATH, data=form, headers={"X-Forwarded-For": "10.8.0.12"})
        assert r.status_code == 403 and "代理" in r.text
        assert media.post(HOOK_PATH, data={**form, "key": "w" * 32}).status_code == 403
        r = media.post(HOOK_PATH, data=form)
        assert r.status_code == 200, r.text
        assert media.post(HOOK_PATH, data=form).status_code == 403  # good once


# --- the real media server ------------------------------------------------------------------

needs_media = pytest.mark.skipif(missing_parts() is not None, reason=str(missing_parts()))


@pytest.fixture(scope="module")
def hooked_media(migrated):
    """nginx RTMP asking a real central (the app under uvicorn) about every publisher."""
    import uvicorn

    from central.wiring import build_app
    from tests.cameras.live_support import start_media_server
    from tests.central.api_support import migrated_settings
    from tests.support import services

    port = services.free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(migrated_settings(migrated)), host="127.0.0.1", port=port,
                                          log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    services.wait_for_port("127.0.0.1", port)
    media = start_media_server(central_url=f"http://127.0.0.1:{port}")
    yield media
    media.stop()
    server.should_exit = True
    thread.join(10)


def publish(url: str, seconds: float) -> subprocess.Popen:
    """A camera-like H.264 publisher (FFmpeg's test picture), in real time."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-f", "flv", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def refused(proc: subprocess.Popen, within: float = 15.0) -> bool:
    try:
        proc.wait(within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False
    return proc.returncode != 0


def has_fragment(playlist: str, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if ".ts" in urllib.request.urlopen(playlist, timeout=2).read().decode():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


@needs_media
def test_media_server_takes_only_the_streams_own_live_key(hooked_media, conn):
    media = hooked_media
    a, b = f"A{uuid.uuid4().hex[:5]}", f"B{uuid.uuid4().hex[:5]}"
    stream_a, stream_b = f"{a}_CAM-1", f"{b}_CAM-1"
    now = datetime.now(UTC)
    key_a = live_keys.issue(conn, a, "CAM-1", stream_a, now, timedelta(minutes=5))
    key_b = live_keys.issue(conn, b, "CAM-1", stream_b, now, timedelta(minutes=5))
    expired = live_keys.issue(conn, a, "CAM-2", f"{a}_CAM-2", now - timedelta(minutes=6), timedelta(minutes=5))
    attempts = {
        "no key": publish(media.publish_url(stream_a), 20),
        "wrong key": publish(publish_target(media.rtmp_url, stream_a, "w" * 32), 20),
        "another depot's key": publish(publish_target(media.rtmp_url, stream_a, key_b), 20),
        "expired key": publish(publish_target(media.rtmp_url, f"{a}_CAM-2", expired), 20),
    }
    assert {why: refused(p) for why, p in attempts.items()} == dict.fromkeys(attempts, True)
    assert not has_fragment(media.playlist_url(stream_a), timeout=1)
    # through the media server's front door the pages and the API are central's, the check is not
    front = f"http://127.0.0.1:{media.http_port}"
    assert urllib.request.urlopen(f"{front}/healthz", timeout=5).status == 200
    with pytest.raises(urllib.error.HTTPError) as no_entry:
        urllib.request.urlopen(urllib.request.Request(f"{front}{HOOK_PATH}", data=b"call=publish", method="POST"),
                               timeout=5)
    assert no_entry.value.code == 404

    right = publish(publish_target(media.rtmp_url, stream_a, key_a), 6)
    assert has_fragment(media.playlist_url(stream_a)), "the right key did not play"
    assert right.wait(30) == 0
    # publish_done used the key up: the same key again is refused
    time.sleep(0.5)
    row = conn.execute("SELECT published_at IS NOT NULL, ended_why FROM live_sessions WHERE key = %s",
                       (key_a,)).fetchone()
    assert row == (True, "publish_done")
    assert refused(publish(publish_target(media.rtmp_url, stream_a, key_a), 20))


@needs_media
def test_an_expiring_key_ends_the_stream(hooked_media, conn):
    stream = f"X{uuid.uuid4().hex[:5]}_CAM-1"
    key = live_keys.issue(conn, "X", "CAM-1", stream, datetime.now(UTC), timedelta(seconds=4))
    started = time.monotonic()
    proc = publish(publish_target(hooked_media.rtmp_url, stream, key), 60)
    assert has_fragment(hooked_media.playlist_url(stream))
    # on_update every 10 s: the first after the key's end cuts the publisher off
    assert refused(proc, within=30), "the stream outlived its key"
    assert time.monotonic() - started < 25
    assert conn.execute("SELECT ended_why FROM live_sessions WHERE key = %s", (key,)).fetchone()[0] == "expired"

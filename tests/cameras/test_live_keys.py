"""Live view's one-time publish keys: the pure rule, the hook endpoint's caller check, and the
real media server (nginx RTMP, on_publish/on_update/on_publish_done to central) turning away a
publisher with no key, a wrong key, another depot's key, an expired or used-up key, and taking
the right one — then ending it once its key expires; and the same media server handing a
stream's HLS only to a viewer entitled to its depot (auth_request to central)."""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from central.api.routes.live_hooks import (
    HOOK_PATH,
    VIEW_PATH,
    client_refusal,
    form_fields,
    viewed_stream,
)
from central.cameras import live_keys
from central.cameras.hls_base import playlist_url
from central.cameras.live_keys import Session, stream_name, verdict
from central.settings import SettingsError, load_settings
from central.users import add_user, revoke_user
from edge.camera.live import live_name, publish_target, redacted
from tests.cameras.live_support import missing_parts
from tests.central.api_support import insert_depot

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
KEY = "k" * 32


def session(**kw) -> Session:
    return Session(**{"depot": "D1", "camera": "CAM-1", "stream": "D1.CAM-1", "key": KEY, "expires_at": NOW + timedelta(minutes=5), **kw})


# --- the rule -------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "stream", "key", "sess", "why"), [
    ("publish", "D1.CAM-1", None, None, "未带密钥"),
    ("publish", "D1.CAM-1", "", None, "未带密钥"),
    ("publish", "D1.CAM-1", "x" * 32, None, "密钥无效"),
    ("publish", "D2.CAM-1", KEY, session(), "不属于视频流 D2.CAM-1"),
    ("publish", "D1.CAM-1", KEY, session(expires_at=NOW), "已过期"),
    ("publish", "D1.CAM-1", KEY, session(ended_at=NOW - timedelta(seconds=1)), "已用过"),
    ("publish", "D1.CAM-1", KEY, session(published_at=NOW), "正在使用中"),
    ("update_publish", "D1.CAM-1", KEY, session(), "未经许可"),
    ("update_publish", "D1.CAM-1", KEY, session(published_at=NOW, expires_at=NOW), "已过期"),
    ("play", "D1.CAM-1", KEY, session(), "未知的回调"),
])
def test_refusals(call, stream, key, sess, why):
    assert why in verdict(call, stream, key, sess, NOW)


def test_stream_names_are_unambiguous():
    # codes may hold '_': with it as the joint, depot A_B camera C and depot A camera B_C met
    assert stream_name("A_B", "C") != stream_name("A", "B_C")
    assert live_name("A_B", "C") == stream_name("A_B", "C") == "A_B.C"
    assert playlist_url("/hls", "A_B", "C") == "/hls/A_B.C/index.m3u8"
    assert playlist_url("/hls", "A", "B_C") != playlist_url("/hls", "A_B", "C")
    assert live_keys.stream_parts("A_B.C") == ("A_B", "C")
    assert live_keys.stream_parts("A_B_C") is None
    # a key of depot A camera B_C is not one for A_B/C, whatever its stream column says
    other = session(depot="A", camera="B_C", stream="A_B.C")
    assert "不属于" in verdict("publish", "A_B.C", KEY, other, NOW)


def test_viewed_stream_is_read_from_the_file_address():
    assert viewed_stream("/hls/D1.CAM-1/index.m3u8") == ("D1", "CAM-1")
    assert viewed_stream("/hls/A_B.C/12.ts?x=1") == ("A_B", "C")
    for bad in ("/hls/D1_CAM-1/index.m3u8", "/hls/", "/hls/D1.CAM-1/", "/hls/../D1.CAM-1/x", "/hls/a/b/c"):
        assert viewed_stream(bad) is None, bad


def test_acceptances():
    assert verdict("publish", "D1.CAM-1", KEY, session(), NOW) is None
    assert verdict("update_publish", "D1.CAM-1", KEY, session(published_at=NOW), NOW) is None
    assert verdict("publish_done", "D1.CAM-1", None, None, NOW) is None


def test_key_ttl_setting():
    assert load_settings(env={}).live_key_ttl_s == 330
    assert load_settings(env={"GRAINLINK_LIVE_KEY_TTL_S": "60"}).live_key_ttl_s == 60
    for bad in ("soon", "0", "-5", "100000"):
        with pytest.raises(SettingsError, match="live_key_ttl_s"):
            load_settings(env={"GRAINLINK_LIVE_KEY_TTL_S": bad})


def test_edge_target_carries_the_key_and_logs_hide_it():
    target = publish_target("rtmp://media:1935/live/", "D1.CAM-1", KEY)
    assert target == f"rtmp://media:1935/live/D1.CAM-1?key={KEY}"
    assert publish_target("rtmp://media/live", "D1.CAM-1", None) == "rtmp://media/live/D1.CAM-1"
    assert KEY not in redacted(target) and redacted(target).startswith("rtmp://media:1935/live/D1.CAM-1")


def test_only_the_media_server_may_ask():
    allowed = live_keys.media_clients(load_settings(env={}).live_hook_clients)
    assert client_refusal("127.0.0.1", {}, allowed) is None
    assert client_refusal("::1", {}, allowed) is None
    assert "不是媒体服务器" in client_refusal("10.8.0.12", {}, allowed)  # a depot on the VPN
    assert "代理" in client_refusal("127.0.0.1", {"x-forwarded-for": "10.8.0.12"}, allowed)
    assert "无法识别" in client_refusal("testclient", {}, allowed)
    media_host = live_keys.media_clients(load_settings(env={"GRAINLINK_LIVE_HOOK_CLIENTS": "192.168.5.0/24"}).live_hook_clients)
    assert client_refusal("192.168.5.7", {}, media_host) is None
    assert client_refusal("127.0.0.1", {}, media_host) is not None
    for bad in ("media-host", "10.0.0.300", " , "):
        with pytest.raises(SettingsError, match="live_hook_clients"):
            load_settings(env={"GRAINLINK_LIVE_HOOK_CLIENTS": bad})
    assert form_fields(b"call=publish&name=D1.CAM-1&key=abc%2B") == {"call": "publish", "name": "D1.CAM-1",
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
    depot = f"R{uuid.uuid4().hex[:6]}"
    stream = stream_name(depot, "CAM-1")
    ttl = timedelta(minutes=5)
    first, until = live_keys.issue(conn, depot, "CAM-1", NOW, ttl)
    assert until == NOW + ttl
    assert live_keys.issue(conn, depot, "CAM-1", NOW + timedelta(minutes=1), ttl) == (first, NOW + timedelta(minutes=6))
    assert conn.execute("SELECT expires_at FROM live_sessions WHERE key = %s", (first,)).fetchone()[0] \
        == NOW + timedelta(minutes=6)
    assert live_keys.check(conn, "publish", stream, first, NOW) is None
    assert "正在使用中" in live_keys.check(conn, "publish", stream, first, NOW)  # one publisher per key
    assert live_keys.end_stream(conn, depot, "CAM-1", NOW, "stopped") == 1
    assert "已用过" in live_keys.check(conn, "update_publish", stream, first, NOW)
    assert live_keys.issue(conn, depot, "CAM-1", NOW, ttl)[0] != first


def test_colliding_codes_keep_their_own_keys(conn):
    t = uuid.uuid4().hex[:6]
    ttl = timedelta(minutes=5)
    key_ab_c, _ = live_keys.issue(conn, f"A{t}_B", "C", NOW, ttl)
    key_a_bc, _ = live_keys.issue(conn, f"A{t}", "B_C", NOW, ttl)
    assert key_ab_c != key_a_bc  # the second did not renew (or withdraw) the first's key
    assert live_keys.check(conn, "publish", stream_name(f"A{t}_B", "C"), key_a_bc, NOW) is not None
    assert live_keys.check(conn, "publish", stream_name(f"A{t}_B", "C"), key_ab_c, NOW) is None
    assert live_keys.end_stream(conn, f"A{t}", "B_C", NOW, "stopped") == 1
    assert "正在使用中" in live_keys.check(conn, "publish", stream_name(f"A{t}_B", "C"), key_ab_c, NOW)


def test_two_live_starts_at_once_make_one_key(migrated):
    from central.db.pool import connect

    barrier = threading.Barrier(2)

    def start(depot: str, keys: list[str]) -> None:
        with connect(migrated, autocommit=True) as c:
            barrier.wait()
            keys.append(live_keys.issue(c, depot, "CAM-1", NOW, timedelta(minutes=5))[0])

    for _ in range(8):  # the race is a matter of timing: several fresh streams
        depot, keys = f"T{uuid.uuid4().hex[:6]}", []
        threads = [threading.Thread(target=start, args=(depot, keys)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        with connect(migrated, autocommit=True) as c:
            open_keys = [k for (k,) in c.execute("SELECT key FROM live_sessions WHERE stream = %s"
                                                  " AND ended_at IS NULL", (stream_name(depot, "CAM-1"),))]
        assert len(keys) == 2 and keys[0] == keys[1] and open_keys == keys[:1], (keys, open_keys)


def test_the_endpoint_answers_only_loopback(migrated, conn):
    from fastapi.testclient import TestClient

    from central.wiring import build_app
    from tests.central.api_support import migrated_settings

    depot = f"E{uuid.uuid4().hex[:6]}"
    stream = stream_name(depot, "CAM-1")
    key, _ = live_keys.issue(conn, depot, "CAM-1", datetime.now(UTC), timedelta(minutes=5))
    form = {"call": "publish", "name": stream, "key": key, "addr": "10.8.0.12"}
    app = build_app(migrated_settings(migrated))
    # the media server's addresses are parsed once, when the app is built, not per request:
    # a setting changed (or broken) afterwards is not read again
    assert app.state.live_hook_clients == live_keys.media_clients("127.0.0.1/32,::1/128")
    app.state.settings = app.state.settings.model_copy(update={"live_hook_clients": "not an address"})
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


def view(url: str, token: str | None) -> int:
    """The HTTP status a viewer gets for one HLS file from the media server."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


def has_fragment(playlist: str, token: str, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    request = urllib.request.Request(playlist, headers={"Authorization": f"Bearer {token}"})
    while time.monotonic() < end:
        try:
            if ".ts" in urllib.request.urlopen(request, timeout=2).read().decode():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


@pytest.fixture
def viewers(conn):
    """Depots a (province 430000) and b (650000), a viewer of each region, a revoked user."""
    a, b = f"A{uuid.uuid4().hex[:5]}", f"B{uuid.uuid4().hex[:5]}"
    insert_depot(conn, a, {"province": "430000"}, {})
    insert_depot(conn, b, {"province": "650000"}, {})
    tokens = {"a": add_user(conn, f"v-{a}", "province", "430000", can_write=False),
              "b": add_user(conn, f"v-{b}", "province", "650000", can_write=False),
              "revoked": add_user(conn, f"r-{a}", "province", "430000", can_write=False)}
    revoke_user(conn, f"r-{a}")
    return a, b, tokens


@needs_media
def test_media_server_takes_only_the_streams_own_live_key(hooked_media, conn, viewers):
    media = hooked_media
    a, b, tokens = viewers
    stream_a = stream_name(a, "CAM-1")
    now = datetime.now(UTC)
    key_a, _ = live_keys.issue(conn, a, "CAM-1", now, timedelta(minutes=5))
    key_b, _ = live_keys.issue(conn, b, "CAM-1", now, timedelta(minutes=5))
    expired, _ = live_keys.issue(conn, a, "CAM-2", now - timedelta(minutes=6), timedelta(minutes=5))
    attempts = {
        "no key": publish(media.publish_url(stream_a), 20),
        "wrong key": publish(publish_target(media.rtmp_url, stream_a, "w" * 32), 20),
        "another depot's key": publish(publish_target(media.rtmp_url, stream_a, key_b), 20),
        "expired key": publish(publish_target(media.rtmp_url, stream_name(a, "CAM-2"), expired), 20),
    }
    assert {why: refused(p) for why, p in attempts.items()} == dict.fromkeys(attempts, True)
    assert not has_fragment(media.playlist_url(stream_a), tokens["a"], timeout=1)
    # through the media server's front door the pages and the API are central's, the checks are not
    front = f"http://127.0.0.1:{media.http_port}"
    assert urllib.request.urlopen(f"{front}/healthz", timeout=5).status == 200
    for path in (HOOK_PATH, VIEW_PATH):
        with pytest.raises(urllib.error.HTTPError) as no_entry:
            urllib.request.urlopen(urllib.request.Request(f"{front}{path}", data=b"call=publish", method="POST"),
                                   timeout=5)
        assert no_entry.value.code == 404

    # longer than notify_update_timeout (10 s): the right key survives the first on_update
    started = time.monotonic()
    right = publish(publish_target(media.rtmp_url, stream_a, key_a), 15)
    playlist = media.playlist_url(stream_a)
    assert has_fragment(playlist, tokens["a"]), "the right key did not play"
    # watching: only a user who may see depot a, with a valid token
    assert {who: view(playlist, tokens.get(who)) for who in ("nobody", "b", "revoked", "a")} \
        == {"nobody": 401, "b": 403, "revoked": 401, "a": 200}
    fragment = next(ln for ln in urllib.request.urlopen(urllib.request.Request(
        playlist, headers={"Authorization": f"Bearer {tokens['a']}"}), timeout=5).read().decode().splitlines()
        if ln.endswith(".ts"))
    fragment_url = playlist.rsplit("/", 1)[0] + "/" + fragment
    assert (view(fragment_url, None), view(fragment_url, tokens["b"]), view(fragment_url, tokens["a"])) \
        == (401, 403, 200)
    time.sleep(max(0.0, 12 - (time.monotonic() - started)))
    assert right.poll() is None, "the right key's stream ended at the first on_update"
    assert right.wait(30) == 0
    # publish_done used the key up: the same key again is refused, and nobody watches any more
    time.sleep(0.5)
    row = conn.execute("SELECT published_at IS NOT NULL, ended_why FROM live_sessions WHERE key = %s",
                       (key_a,)).fetchone()
    assert row == (True, "publish_done")
    assert view(playlist, tokens["a"]) == 403
    assert refused(publish(publish_target(media.rtmp_url, stream_a, key_a), 20))


@needs_media
def test_an_expiring_key_ends_the_stream(hooked_media, conn, viewers):
    a, _, tokens = viewers
    stream = stream_name(a, "CAM-1")
    key, _ = live_keys.issue(conn, a, "CAM-1", datetime.now(UTC), timedelta(seconds=7))
    started = time.monotonic()
    proc = publish(publish_target(hooked_media.rtmp_url, stream, key), 60)
    assert has_fragment(hooked_media.playlist_url(stream), tokens["a"])
    # on_update every 10 s: the first after the key's end cuts the publisher off
    assert refused(proc, within=30), "the stream outlived its key"
    assert time.monotonic() - started < 25
    assert conn.execute("SELECT ended_why FROM live_sessions WHERE key = %s", (key,)).fetchone()[0] == "expired"

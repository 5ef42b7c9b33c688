"""Live view with real parts: the simulated camera's RTSP H.264 (GStreamer, the OSD drawn
where the OSD says) → the edge's FFmpeg relay (`-c copy`) → nginx's RTMP module → HLS. The
first fragment arrives within seconds, holds H.264 as the camera sent it and shows the OSD
text top-left; the stream ends by itself when its time is up, renews, and a depot never runs
more streams than its limit."""

from __future__ import annotations

import subprocess
import time
import urllib.request
import uuid
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from edge.camera.live import LiveError, LiveRelays
from edge.camera.onvif import OnvifCamera
from tests.cameras.live_support import missing_parts, start_media_server

pytestmark = pytest.mark.skipif(missing_parts() is not None, reason=str(missing_parts()))

TEXT = "仓温 17.9℃ 仓湿 63.5%"


@pytest.fixture(scope="module")
def media():
    server = start_media_server()
    yield server
    server.stop()


@pytest.fixture
def camera():
    from simulators.onvif.server import SimulatedCamera

    sim = SimulatedCamera(rtsp=True, channels=2).start()
    yield sim
    sim.stop()


def first_fragment(playlist_url: str, timeout: float = 10.0) -> str | None:
    """The URL of the playlist's first fragment once there is one."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            text = urllib.request.urlopen(playlist_url, timeout=2).read().decode()
        except OSError:
            text = ""
        names = [line for line in text.splitlines() if line.endswith(".ts")]
        if names:
            return playlist_url.rsplit("/", 1)[0] + "/" + names[0]
        time.sleep(0.1)
    return None


def frame_of(fragment_url: str, tmp_path) -> tuple[np.ndarray, set[str]]:
    seg = tmp_path / "seg.ts"
    seg.write_bytes(urllib.request.urlopen(fragment_url, timeout=5).read())
    codec = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=codec_name", "-of", "csv=p=0", str(seg)],
                           capture_output=True, text=True, timeout=20).stdout.split()
    png = tmp_path / "frame.png"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(seg), "-frames:v", "1", "-y", str(png)],
                   check=True, timeout=20)
    return cv2.imread(str(png)), set(codec)


def test_live_relay_shows_the_osd_top_left_and_is_bounded(media, camera, tmp_path):
    onvif = OnvifCamera(camera.url, "admin", "admin123")
    onvif.create_osd("vsc_profile_1", TEXT)
    relays = LiveRelays(max_streams=1, duration_s=8.0)
    try:
        started = time.monotonic()
        detail = relays.start("CAM-1", onvif.stream_uri("profile_1"), "admin", "admin123",
                              media.publish_url("D1_CAM-1"))
        assert detail == "摄像机 CAM-1 实时视频已开始，8 秒后自动结束"
        fragment = first_fragment(media.playlist_url("D1_CAM-1"))
        assert fragment is not None, "no HLS fragment"
        assert time.monotonic() - started <= 5.0
        frame, codec = frame_of(fragment, tmp_path)
        assert codec == {"h264"}
        # SMPTE bars are white top-left; the OSD's shaded band darkens where the text is and
        # nowhere on the right or the bottom
        band = frame[28:62, 22:86].astype(int).mean()
        assert band < 200 and frame[100:200, 22:86].astype(int).mean() > 200, band

        with pytest.raises(LiveError, match="最多 1 路"):
            relays.start("CAM-2", onvif.stream_uri("profile_2"), "admin", "admin123",
                         media.publish_url("D1_CAM-2"))
        assert "已续期" in relays.start("CAM-1", onvif.stream_uri("profile_1"), "admin", "admin123",
                                       media.publish_url("D1_CAM-1"))
        renewed = time.monotonic()
        time.sleep(max(0.0, started + 8.5 - time.monotonic()))  # past the first end
        assert list(relays.active()) == ["CAM-1"]
        proc = relays.streams["CAM-1"].proc
        assert proc.args[proc.args.index("-c") + 1] == "copy"
        while relays.active() and time.monotonic() < renewed + 12:
            time.sleep(0.2)
        assert relays.active() == {} and proc.poll() is not None
        assert "CAM-2" in relays.start("CAM-2", onvif.stream_uri("profile_2"), "admin", "admin123",
                                       media.publish_url("D1_CAM-2"))
        assert relays.stop("CAM-2") == "摄像机 CAM-2 实时视频已结束" and relays.active() == {}
    finally:
        relays.close()


def test_the_osd_position_is_honoured_in_the_stream(media, camera, tmp_path):
    onvif = OnvifCamera(camera.url, "admin", "admin123")
    token = onvif.create_osd("vsc_profile_2", TEXT)
    onvif._call(onvif._media(), (  # move it lower right, as a standard client may
        f'<trt:SetOSD><tt:OSD token="{token}"><tt:VideoSourceConfigurationToken>vsc_profile_2'
        "</tt:VideoSourceConfigurationToken><tt:Type>Text</tt:Type><tt:Position><tt:Type>LowerRight"
        "</tt:Type></tt:Position><tt:TextString><tt:Type>Plain</tt:Type>"
        f"<tt:PlainText>{TEXT}</tt:PlainText></tt:TextString></tt:OSD></trt:SetOSD>"))
    relays = LiveRelays(max_streams=1, duration_s=10.0)
    try:
        relays.start("CAM-2", onvif.stream_uri("profile_2"), "admin", "admin123", media.publish_url("D2_CAM-2"))
        time.sleep(1.0)  # the overlay follows the camera's OSD within half a second
        fragment = first_fragment(media.playlist_url("D2_CAM-2"))
        assert fragment is not None
        frame, _ = frame_of(fragment, tmp_path)
        assert frame[28:62, 22:86].astype(int).mean() > 200  # top-left: plain white bar
    finally:
        relays.close()


def test_live_view_from_the_api_through_the_edge(database_url, broker, worker, media, camera, tmp_path):
    """The page's 实时 button: POST …/live → cmd live_start over the broker → the edge's uplink
    → the camera service's relay → HLS at the address the API answered; DELETE ends it; both
    commands are in the depot's command log."""
    from fastapi.testclient import TestClient

    from central.wiring import build_app
    from edge.camera.service import CameraService
    from edge.outbox.outbox import Outbox
    from edge.uplink.broker import BrokerSettings
    from edge.uplink.commands import dispatch
    from edge.uplink.uplink import Uplink
    from protocols.depot.model import Camera, LiveView
    from tests.central.api_support import bearer, new_user
    from tests.central.ingest_support import Publisher, layout, scalar, settings_for, wait_for

    code = f"LIVE-{uuid.uuid4().hex[:6]}"
    pub = Publisher(broker.url)
    pub.publish(f"grainlink/v1/{code}/layout", layout(code), retain=True)
    pub.flush()
    pub.close()
    assert wait_for(lambda: scalar(database_url, "SELECT count(*) FROM depots WHERE code = %s", (code,)), 1) == 1
    cam = Camera(camera="CAM-P01-1", granary="P01", url=camera.url, username="admin", password_env="P",
                 health_interval=0.2, timeout=2.0)
    svc = CameraService([cam], code, lambda k, m: None, lambda: datetime.now(UTC), environ={"P": "admin123"},
                        live=LiveView(url=f"rtmp://127.0.0.1:{media.rtmp_port}/live", max_streams=1,
                                      duration=60)).start()
    outbox = Outbox(tmp_path / "edge.sqlite", code)
    uplink = Uplink(BrokerSettings.from_url(broker.url, reconnect_min_s=0.1, reconnect_max_s=0.5), code, outbox,
                    on_command=dispatch({"live_start": svc.live_command, "live_stop": svc.live_command}))
    uplink.start()
    try:
        assert wait_for(lambda: svc.details()[0]["ok"], True, timeout=5)
        # central's key (30 s) ends before the depot's live.duration (60 s): the edge stops then
        app = build_app(settings_for(database_url, broker.url, live_key_ttl_s=30.0))
        with TestClient(app) as client:
            auth = bearer(new_user(database_url, "depot", code))
            r = client.post(f"/api/v1/depots/{code}/cameras/CAM-P01-1/live", headers=auth)
            assert r.status_code == 200, r.text
            answer = r.json()
            assert answer["state"] == "done" and "实时视频已开始" in answer["result"]["detail"], answer
            assert answer["hls_url"] == f"/hls/{code}.CAM-P01-1/index.m3u8"
            assert 20 < svc.relays.active()["CAM-P01-1"] <= 30
            playlist = f"http://127.0.0.1:{media.http_port}{answer['hls_url']}"
            assert first_fragment(playlist) is not None
            # the command carried central's one-time key and the relay publishes with it
            key = scalar(database_url, "SELECT key FROM live_sessions WHERE stream = %s AND ended_at IS NULL",
                         (f"{code}.CAM-P01-1",))
            assert svc.relays.streams["CAM-P01-1"].target.endswith(f"/{code}.CAM-P01-1?key={key}")
            r = client.post(f"/api/v1/depots/{code}/cameras/NO-SUCH/live", headers=auth)
            assert r.status_code == 404 and "没有摄像机 NO-SUCH" in r.json()["detail"]
            r = client.delete(f"/api/v1/depots/{code}/cameras/CAM-P01-1/live", headers=auth)
            assert r.status_code == 200 and r.json()["result"]["detail"] == "摄像机 CAM-P01-1 实时视频已结束"
            assert svc.relays is not None and svc.relays.active() == {}
            # both are in the depot's command log, with who pressed them and the edge's answer
            logged = client.get(f"/api/v1/depots/{code}/commands", headers=auth).json()
            assert [(c["action"], c["state"]) for c in logged][:2] == [("live_stop", "done"), ("live_start", "done")]
            assert logged[0]["issued_by"] and logged[0]["issued_by"] == logged[1]["issued_by"], logged
    finally:
        uplink.stop()
        outbox.close()
        svc.stop()

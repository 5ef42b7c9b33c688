"""Edge camera service against the simulated NVR over real HTTP, through a real broker and
the real ingest worker into PostgreSQL, stills on disk, the API, and the camera_offline alarm."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from central.alarms.scheduled import jobs as alarm_jobs
from central.cameras import jobs as camera_jobs
from central.db.pool import connect
from central.wiring import build_app
from edge.camera.service import CameraService
from edge.camera.still import MAX_STILL_BYTES
from edge.outbox.outbox import Outbox
from edge.uplink.broker import BrokerSettings
from edge.uplink.uplink import Uplink
from protocols.depot.model import Camera
from protocols.mqtt.codec import decode_message
from protocols.mqtt.models import AirReading
from simulators.onvif import picture
from simulators.onvif.server import SimulatedCamera
from tests.cameras.support import Subscriber
from tests.central.api_support import bearer, new_user
from tests.central.ingest_support import (
    Publisher,
    layout,
    scalar,
    settings_for,
    wait_for,
)

TEXT = "仓温 17.9℃ 仓湿 63.5%"


def edge(broker_url, depot, sim, db, **cam):
    outbox = Outbox(db, depot)
    uplink = Uplink(BrokerSettings.from_url(broker_url, reconnect_min_s=0.1, reconnect_max_s=0.5), depot, outbox)
    uplink.start()

    def publish(kind, model):
        outbox.add_message(kind, model)
        uplink.kick()

    camera = Camera(camera="CAM-P01-1", granary="P01", url=sim.url, username="admin",
                    password_env="CAM_PASS", health_interval=0.2, offline_after=0.6, timeout=1.0, **cam)
    svc = CameraService([camera], depot, publish, lambda: datetime.now(UTC),
                        environ={"CAM_PASS": "admin123"}).start()
    return svc, uplink, outbox


def indoor(temp, rh):
    return [AirReading(ts=datetime.now(UTC), granary="P01", place="indoor", temp_c=temp, rh_pct=rh)]


def top_left_changed(jpeg: bytes) -> tuple[float, float]:
    """Mean pixel difference to the same scene without OSD: (top-left, bottom-right)."""
    got = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE).astype(int)
    blank = cv2.imdecode(np.frombuffer(picture.render([]), np.uint8), cv2.IMREAD_GRAYSCALE).astype(int)
    diff = np.abs(got - blank)
    return float(diff[:45, :300].mean()), float(diff[300:, 340:].mean())


def test_osd_still_at_central_api_and_offline_alarm(database_url, broker, worker, stills, monkeypatch,
                                                    tmp_path):
    monkeypatch.setenv("GRAINLINK_STILLS_DIR", str(stills))  # read by the ingest hook and the API
    depot = f"CAM-{uuid.uuid4().hex[:8]}"
    pub = Publisher(broker.url)
    pub.publish(f"grainlink/v1/{depot}/layout", layout(depot), retain=True)
    pub.flush()
    assert wait_for(lambda: scalar(database_url, "SELECT count(*) FROM depots WHERE code = %s", (depot,)), 1) == 1
    sub = Subscriber(broker.url, f"grainlink/v1/{depot}/snapshot")
    sim = SimulatedCamera().start()
    svc, uplink, outbox = edge(broker.url, depot, sim, tmp_path / "edge.sqlite")
    try:
        assert wait_for(lambda: svc.details()[0]["ok"], True, timeout=5)
        svc.on_air(indoor(17.9, 63.5))
        assert "已抓拍 1 张" in svc.snapshot("P01", timeout=10)
        assert sim.osd_text() == TEXT  # the camera's OSD holds the last indoor reading
        assert sub.got.wait(10), "no snapshot reached the broker"
        msg = decode_message(f"grainlink/v1/{depot}/snapshot", sub.messages[0])
        jpeg = base64.b64decode(msg.jpeg_b64)
        assert msg.overlay == TEXT and msg.camera == "CAM-P01-1" and len(jpeg) <= MAX_STILL_BYTES
        tl, br = top_left_changed(jpeg)
        assert tl > 8 * max(br, 0.5), (tl, br)  # the text is in the picture, top-left

        # a new reading updates the same OSD (created once, then set)
        svc.on_air(indoor(18.4, 61.0))
        assert wait_for(lambda: sim.osd_text(), "仓温 18.4℃ 仓湿 61.0%", timeout=5) == "仓温 18.4℃ 仓湿 61.0%"
        assert len(sim.state.osds) == 1 and sim.state.calls.count("CreateOSD") == 1

        # central stored it: file on disk + row, served by the API (scoped)
        assert wait_for(lambda: scalar(database_url, "SELECT count(*) FROM camera_stills WHERE depot = %s",
                                       (depot,)) >= 1, True)
        app = build_app(settings_for(database_url, broker.url))
        with TestClient(app) as client:
            token = new_user(database_url, "depot", depot)
            r = client.get(f"/api/v1/depots/{depot}/cameras/CAM-P01-1/still", headers=bearer(token))
            assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
            assert r.content.startswith(b"\xff\xd8")
            r = client.get(f"/api/v1/depots/{depot}/cameras", headers=bearer(token))
            assert r.status_code == 200
            assert r.json()["cameras"][0]["camera"] == "CAM-P01-1"
            other = new_user(database_url, "depot", depot + "-X")
            r = client.get(f"/api/v1/depots/{depot}/cameras/CAM-P01-1/still", headers=bearer(other))
            assert r.status_code == 404

        # motion through the pull-point subscription
        sim.motion()
        assert wait_for(lambda: scalar(database_url, "SELECT count(*) FROM events WHERE depot = %s AND kind = "
                                       "'motion'", (depot,)), 1) == 1

        # offline -> camera_offline event at central -> alarm after the central hold time
        sim.set_offline(True)
        assert wait_for(lambda: scalar(database_url, "SELECT count(*) FROM events WHERE depot = %s AND kind = "
                                       "'camera_offline' AND subject = 'CAM-P01-1'", (depot,)), 1) == 1
        assert svc.details()[0]["error_kind"] in ("unreachable", "timeout")
        with connect(database_url, autocommit=True) as conn:
            alarm_jobs.time_rules_job(conn, now=datetime.now(UTC) + timedelta(minutes=11), only={depot})
            rows = conn.execute("SELECT rule, subject, state FROM alarms WHERE depot = %s", (depot,)).fetchall()
        assert ("camera_offline", "CAM-P01-1", "active") in rows

        # retention removes row and file
        path = stills / scalar(database_url, "SELECT path FROM camera_stills WHERE depot = %s LIMIT 1", (depot,))
        assert path.exists()
        with connect(database_url, autocommit=True) as conn:
            camera_jobs.stills_retention_job(conn, now=datetime.now(UTC) + timedelta(days=31))
        assert not path.exists()
        assert scalar(database_url, "SELECT count(*) FROM camera_stills WHERE depot = %s", (depot,)) == 0
    finally:
        svc.stop()
        uplink.stop()
        outbox.close()
        sim.stop()
        sub.close()
        pub.close()


def test_wrong_password_is_a_clear_error_and_polling_goes_on(tmp_path):
    sim = SimulatedCamera(password="changed-by-installer").start()
    published = []
    camera = Camera(camera="CAM-X", granary="P01", url=sim.url, username="admin", password_env="P",
                    health_interval=0.2, offline_after=0.4, timeout=1.0)
    svc = CameraService([camera], "CAM-T", lambda k, m: published.append((k, m)),
                        lambda: datetime.now(UTC), environ={"P": "admin123"}).start()
    polls = []
    stop = threading.Event()

    def poll():  # stands in for the temperature polling, which feeds the cameras
        while not stop.is_set():
            t = time.monotonic()
            svc.on_air(indoor(17.0, 60.0))
            polls.append(time.monotonic() - t)
            time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        assert wait_for(lambda: any(getattr(m, "kind", None) == "camera_offline" for _, m in published), True, 5)
        d = svc.details()[0]
        assert not d["ok"] and d["error_kind"] == "auth"
        assert "认证失败" in d["last_error"] and "CAM-X" in d["last_error"]
        assert "admin123" not in d["last_error"]
        with pytest.raises(RuntimeError, match="用户“admin”认证失败"):
            svc.snapshot(timeout=5)
        n = len(polls)
        time.sleep(0.3)
        assert len(polls) > n and max(polls) < 0.05  # polling was never held up by the camera
    finally:
        stop.set()
        poller.join()
        svc.stop()
        sim.stop()


def test_camera_without_osd_gets_the_text_stamped_on_stills():
    sim = SimulatedCamera(osd_supported=False).start()
    published = []
    camera = Camera(camera="CAM-N", granary="P01", url=sim.url, username="admin", password_env="P",
                    health_interval=0.2, timeout=1.0)
    svc = CameraService([camera], "CAM-T", lambda k, m: published.append((k, m)),
                        lambda: datetime.now(UTC), environ={"P": "admin123"}).start()
    try:
        assert wait_for(lambda: svc.details()[0]["ok"], True, timeout=5)
        svc.on_air(indoor(17.9, 63.5))
        svc.snapshot(timeout=10)
        snap = next(m for k, m in published if k == "snapshot")
        jpeg = base64.b64decode(snap.jpeg_b64)
        assert snap.overlay == TEXT and sim.osd_text() is None and len(jpeg) <= MAX_STILL_BYTES
        tl, br = top_left_changed(jpeg)
        assert tl > 8 * max(br, 0.5), (tl, br)
    finally:
        svc.stop()
        sim.stop()


def test_no_snapshot_uri_falls_back_to_one_stream_frame(tmp_path):
    # OpenCV's capture reads rtsp:// and files alike; a file stands in for the stream here.
    video = tmp_path / "stream.avi"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (640, 480))
    frame = cv2.imdecode(np.frombuffer(picture.render([]), np.uint8), cv2.IMREAD_COLOR)
    for _ in range(3):
        out.write(frame)
    out.release()
    sim = SimulatedCamera(snapshot_supported=False, osd_supported=False, stream_uri=str(video)).start()
    published = []
    camera = Camera(camera="CAM-S", granary="P01", url=sim.url, username="admin", password_env="P",
                    health_interval=0.2, timeout=2.0)
    svc = CameraService([camera], "CAM-T", lambda k, m: published.append((k, m)),
                        lambda: datetime.now(UTC), environ={"P": "admin123"}).start()
    try:
        assert wait_for(lambda: svc.details()[0]["ok"], True, timeout=5)
        svc.on_air(indoor(17.9, 63.5))
        svc.snapshot(timeout=10)
        snap = next(m for k, m in published if k == "snapshot")
        jpeg = base64.b64decode(snap.jpeg_b64)
        assert len(jpeg) <= MAX_STILL_BYTES
        tl, br = top_left_changed(jpeg)
        assert tl > 8 * max(br, 0.5), (tl, br)  # stamped, as the device has no OSD
    finally:
        svc.stop()
        sim.stop()

"""Live view end to end, as a person sees it (shared by tests/cameras/test_live_browser.py and
bench/video_live.py): `grainlink central serve` (the real app, database, ingest) in its own
process; the media server (nginx RTMP) asking central about publish keys and serving the pages
and their HLS on one origin; the simulated camera's
RTSP H.264 with its OSD; the depot's edge parts (camera service, outbox, uplink) over a broker;
Debian's chromium opening the 视频 page and pressing 实时视频.

`play` measures from the click to the first frame the <video> element has decoded
(requestVideoFrameCallback, else the first `timeupdate` with currentTime > 0), inside the page."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from tests.cameras.live_support import MediaServer, start_media_server
from tests.support import services

ROOT = Path(__file__).resolve().parents[2]
TEXT = "仓温 17.9℃ 仓湿 63.5%"
CAMERA = "CAM-P01-1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]

# Installed before the page's own scripts: the moment of the click on 实时视频 and of the first
# decoded frame of any <video> that appears, on the page's own clock.
FIRST_FRAME_PROBE = """
window.__live = {clickAt: null, frameAt: null, how: null};
document.addEventListener('click', (e) => {
  const b = e.target.closest && e.target.closest('button');
  if (b && b.textContent.includes('实时视频')) window.__live.clickAt = performance.now();
}, true);
new MutationObserver(() => {
  for (const v of document.querySelectorAll('video:not([data-probed])')) {
    v.dataset.probed = '1';
    const seen = (how) => { if (window.__live.frameAt === null) { window.__live.frameAt = performance.now(); window.__live.how = how; } };
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => seen('requestVideoFrameCallback'));
    v.addEventListener('timeupdate', () => { if (v.currentTime > 0 && v.readyState >= 2) seen('timeupdate'); });
  }
}).observe(document, {childList: true, subtree: true});
"""


@dataclass
class LiveSite:
    url: str
    depot: str
    token: str
    media: MediaServer
    camera: object  # the SimulatedCamera
    onvif: object  # an OnvifCamera on it
    service: object  # the edge's CameraService
    osd_token: str
    central: subprocess.Popen
    log: Path


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"central serve exited {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f} s")


@contextmanager
def live_site(database_url: str, broker_url: str, workdir: Path, max_streams: int = 1):
    """Everything of live view running for one depot with one camera (CAM-P01-1)."""
    from edge.camera.onvif import OnvifCamera
    from edge.camera.service import CameraService
    from edge.outbox.outbox import Outbox
    from edge.uplink.broker import BrokerSettings
    from edge.uplink.commands import dispatch
    from edge.uplink.uplink import Uplink
    from protocols.depot.model import Camera, LiveView
    from simulators.onvif.server import SimulatedCamera
    from tests.central.api_support import new_user
    from tests.central.ingest_support import Publisher, layout, scalar, wait_for

    with ExitStack() as stack:
        port = services.free_port()
        media = start_media_server(central_url=f"http://127.0.0.1:{port}")
        stack.callback(media.stop)
        log = workdir / "central.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRAINLINK_")}
        env.update(GRAINLINK_DATABASE_URL=database_url, GRAINLINK_MQTT_URL=broker_url,
                   GRAINLINK_AUTO_PROVISION="true", GRAINLINK_TIMESCALE="off",
                   GRAINLINK_MQTT_CLIENT_ID=f"grainlink-ingest-live-{uuid.uuid4().hex[:6]}",
                   PYTHONUNBUFFERED="1")  # HLS at /hls: the media server passes the rest to central
        with open(log, "ab") as out:
            central = subprocess.Popen([sys.executable, "-m", "grainlink", "central", "serve", "--host", "127.0.0.1",
                                        "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(lambda: (central.terminate(), central.wait(15)))
        _wait_http(f"http://127.0.0.1:{port}/healthz", central, log)

        sim = SimulatedCamera(rtsp=True).start()
        stack.callback(sim.stop)
        onvif = OnvifCamera(sim.url, "admin", "admin123")
        osd_token = onvif.create_osd("vsc_profile_1", TEXT)

        code = f"LIVE-{uuid.uuid4().hex[:6]}"
        pub = Publisher(broker_url)
        pub.publish(f"grainlink/v1/{code}/layout", layout(code), retain=True)
        pub.flush()
        pub.close()
        if wait_for(lambda: scalar(database_url, "SELECT count(*) FROM depots WHERE code = %s", (code,)), 1) != 1:
            raise RuntimeError(f"central did not register depot {code}:\n{log.read_text(errors='replace')[-3000:]}")
        cam = Camera(camera=CAMERA, granary="P01", url=sim.url, username="admin", password_env="P",
                     health_interval=0.5, timeout=2.0)
        svc = CameraService([cam], code, lambda k, m: None, lambda: datetime.now(UTC), environ={"P": "admin123"},
                            live=LiveView(url=media.rtmp_url, max_streams=max_streams, duration=300)).start()
        stack.callback(svc.stop)
        outbox = Outbox(workdir / "edge.sqlite", code)
        stack.callback(outbox.close)
        uplink = Uplink(BrokerSettings.from_url(broker_url, reconnect_min_s=0.1, reconnect_max_s=0.5), code, outbox,
                        on_command=dispatch({"live_start": svc.live_command, "live_stop": svc.live_command}))
        uplink.start()
        stack.callback(uplink.stop)
        wait_for(lambda: svc.details()[0]["ok"], True, timeout=10)
        yield LiveSite(media.web_url, code, new_user(database_url, "depot", code), media,
                       sim, onvif, svc, osd_token, central, log)


def open_video_page(browser, site: LiveSite):
    """A signed-in page on 视频 with the depot chosen and its camera listed; `site` is
    anything with `url`, `token` and `depot` (a LiveSite, or the demo's printed address)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: m.type == "error" and print("console:", m.text))
    page.add_init_script(FIRST_FRAME_PROBE)
    page.goto(site.url + "/video")
    page.wait_for_selector("#token")
    page.fill("#token", site.token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#video .el-select__wrapper")
    page.click("#video .el-select__wrapper")
    page.click(f".el-select-dropdown__item:visible:has-text('{site.depot}')")
    page.wait_for_selector(f".cam[data-camera='{CAMERA}'] button:has-text('实时视频')")
    return page


def play(page, timeout_s: float = 30.0) -> dict:
    """Press 实时视频 and wait for the first decoded frame: {"seconds", "how", "player"}."""
    page.evaluate("() => { window.__live.clickAt = null; window.__live.frameAt = null; }")
    page.click(f".cam[data-camera='{CAMERA}'] button:has-text('实时视频')")
    page.wait_for_function("() => window.__live.frameAt !== null", timeout=timeout_s * 1000)
    live = page.evaluate("() => window.__live")
    player = page.evaluate("""() => { const v = document.querySelector('video');
      return {src: v.currentSrc.slice(0, 5), width: v.videoWidth, height: v.videoHeight,
              native: !!v.src && !v.src.startsWith('blob:')}; }""")
    return {"seconds": (live["frameAt"] - live["clickAt"]) / 1000, "how": live["how"], "player": player}


def video_picture(page) -> np.ndarray:
    """What the <video> element shows now, as a BGR image scaled to the camera's 640x480."""
    png = page.locator("video").screenshot()
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return cv2.resize(img, (640, int(img.shape[0] * 640 / img.shape[1])))


def osd_band(img: np.ndarray) -> tuple[float, float]:
    """Mean brightness where the camera draws its top-left OSD text, and in the same columns
    below it (SMPTE bars: white there, unless the shaded OSD band darkens it)."""
    return float(img[28:62, 22:86].mean()), float(img[100:200, 22:86].mean())


def stop(page) -> None:
    page.keyboard.press("Escape")  # the dialog closes: the page sends DELETE …/live

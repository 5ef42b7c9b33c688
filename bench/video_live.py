"""Live view: time from pressing 实时视频 in Chromium to the first frame the page's <video> has
decoded, bytes per second on the depot's uplink while one stream is live, and the edge relay's
CPU.

The whole path runs for real on this machine (tests/cameras/live_site.py): `grainlink central
serve` with its database and ingest, a private Mosquitto, the media server (Debian's nginx with
its RTMP module; it checks each publisher's one-time key with central and serves the pages and
their HLS on one origin), the simulated camera's RTSP H.264 (GStreamer, OSD drawn), the edge's
camera service and uplink, whose FFmpeg relay copies the stream (`-c copy`), and Debian's
chromium opening the 视频 page. "Play → first frame" runs from the click, on the page's own
clock, to the first requestVideoFrameCallback of the <video> (hls.js over Media Source
Extensions, H.264 as the camera sent it); the answer of POST …/live and the first playlist with
a fragment are timed on the way. Uplink bytes are what the relay sends towards central (TCP bytes
to the RTMP port, from `ss`); CPU is the relay's user+system time over the window, as a share of
one core.

    .venv/bin/python bench/video_live.py [--rounds 3] [--seconds 20]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cameras.live_site import CAMERA, CHROMIUM_ARGS, live_site, open_video_page, play, stop  # noqa: E402
from tests.cameras.live_support import missing_parts  # noqa: E402
from tests.e2e.web_support import BUILT, CHROMIUM  # noqa: E402
from tests.support import services  # noqa: E402


def bytes_sent_to(port: int) -> int:
    """Bytes the kernel has sent on TCP connections to this local port (the relay's RTMP)."""
    out = subprocess.run(["ss", "-tinH", "dst", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout
    return sum(int(n) for n in re.findall(r"bytes_sent:(\d+)", out))


def fragment_codec(playlist: str, token: str) -> str:
    """codec/profile of the newest HLS fragment, as FFprobe reads it (the media server hands
    HLS only to an entitled user: the site's token)."""
    auth = {"Authorization": f"Bearer {token}"}
    text = urllib.request.urlopen(urllib.request.Request(playlist, headers=auth), timeout=5).read().decode()
    name = [ln for ln in text.splitlines() if ln.endswith(".ts")][-1]
    with tempfile.NamedTemporaryFile(suffix=".ts") as seg:
        seg.write(urllib.request.urlopen(urllib.request.Request(playlist.rsplit("/", 1)[0] + "/" + name,
                                                                headers=auth), timeout=5).read())
        seg.flush()
        return subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                               "stream=codec_name,profile,width,height", "-of", "csv=p=0", seg.name],
                              capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]


def gone(playlist: Path, timeout: float = 40.0) -> None:
    """Wait until the media server has cleaned up the ended stream's playlist: until then a new
    press would first replay its last fragments, and the next round would time a stale frame.
    Read from the HLS folder: over HTTP an ended stream is refused (403) before it is gone."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not playlist.exists():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{playlist} is still there after {timeout:.0f} s")


def timed_round(page) -> dict:
    """One press of 实时视频: seconds to the API's answer, to the first playlist with a fragment,
    to the first decoded frame (all from the click)."""
    marks: dict[str, float] = {}

    def on_response(r):
        if r.url.endswith("/live") and r.request.method == "POST":
            marks.setdefault("api", time.monotonic())
        elif r.url.endswith("index.m3u8") and r.ok:
            try:
                if "#EXTINF" in r.text():
                    marks.setdefault("playlist", time.monotonic())
            except Exception:  # noqa: BLE001 (a body already gone: the next answer counts)
                pass

    page.on("response", on_response)
    clicked = time.monotonic()
    try:
        result = play(page)
    finally:
        page.remove_listener("response", on_response)
    return {**result, **{k: v - clicked for k, v in marks.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to measure the live stream")
    parser.add_argument("--rounds", type=int, default=3, help="play → first frame, this many times")
    args = parser.parse_args()
    missing = missing_parts() or (None if CHROMIUM else "no chromium (apt-get install chromium)") \
        or (None if BUILT.is_file() else "the web front end is not built (cd central/web && npm run build)")
    if missing:
        print(f"cannot run: {missing}")
        return 2
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="bench-video-"))
    broker = services.start_private_mosquitto(workdir / "broker")
    try:
        with services.scratch_database(services.shared_database_server_url(), "grainlink_bench_video") as db, \
                live_site(db, broker.url, workdir) as site, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = open_video_page(browser, site)
                rounds = []
                for i in range(args.rounds):
                    rounds.append(timed_round(page))
                    if i < args.rounds - 1:
                        stop(page)  # DELETE …/live: the relay ends, the next press gets a new key
                        gone(site.media.run_dir / "hls" / f"{site.depot}.{CAMERA}" / "index.m3u8")
                relay = site.service.relays.streams[CAMERA]
                proc = psutil.Process(relay.proc.pid)
                sent0, cpu0, t0 = bytes_sent_to(site.media.rtmp_port), proc.cpu_times(), time.monotonic()
                time.sleep(args.seconds)
                sent1, cpu1, t1 = bytes_sent_to(site.media.rtmp_port), proc.cpu_times(), time.monotonic()
                codec = fragment_codec(site.media.playlist_url(f"{site.depot}.{CAMERA}"), site.token)
                copy = relay.proc.args[relay.proc.args.index("-c") + 1] == "copy"
            finally:
                browser.close()
    finally:
        broker.stop()
    rate = (sent1 - sent0) / (t1 - t0)
    cpu = ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / (t1 - t0)
    firsts = [r["seconds"] for r in rounds]
    print(f"load average {', '.join(f'{x:.1f}' for x in psutil.getloadavg())} on {psutil.cpu_count()} cores")
    print(f"player in Chromium: {rounds[0]['how']}, {rounds[0]['player']}")
    print("play → first frame in Chromium: " + ", ".join(f"{s:.2f}" for s in firsts)
          + f" s (median {statistics.median(firsts):.2f} s; goal ≤ 5 s)")
    print("  of which POST …/live answered: " + ", ".join(f"{r.get('api', float('nan')):.2f}" for r in rounds)
          + " s; first playlist with a fragment: "
          + ", ".join(f"{r.get('playlist', float('nan')):.2f}" for r in rounds) + " s")
    print(f"uplink while one stream is live: {rate / 1000:.1f} kB/s ({rate * 8 / 1000:.0f} kbit/s)")
    print(f"relay CPU: {cpu * 100:.1f} % of one core (goal ≤ 15 %); FFmpeg -c copy: {copy}; "
          f"HLS fragment: {codec} (the camera sends h264 baseline 640x480)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

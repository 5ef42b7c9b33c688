"""Live view: time from "play" to the first frame, bytes per second on the depot's uplink while
one stream is live, and the edge relay's CPU.

The whole path runs for real on this machine: the simulated camera's RTSP H.264 (GStreamer,
OSD drawn), the edge's FFmpeg relay (`-c copy`) to nginx's RTMP module, HLS out. "Play → first
frame" is measured as a player sees it: from the live_start to the first HLS fragment decoded
to a picture (a browser adds its own start-up on top). Uplink bytes are what the relay writes
towards central (TCP bytes sent to the RTMP port, from `ss`); CPU is its user+system time over the
window, as a share of one core.

    .venv/bin/python bench/video_live.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.camera.live import LiveRelays  # noqa: E402
from edge.camera.onvif import OnvifCamera  # noqa: E402
from simulators.onvif.server import SimulatedCamera  # noqa: E402
from tests.cameras.live_support import missing_parts, start_media_server  # noqa: E402


def bytes_sent_to(port: int) -> int:
    """Bytes the kernel has sent on TCP connections to this local port (the relay's RTMP)."""
    out = subprocess.run(["ss", "-tinH", "dst", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout
    return sum(int(n) for n in re.findall(r"bytes_sent:(\d+)", out))


def first_frame(playlist: str, timeout: float = 15.0) -> bool:
    """Wait for the first fragment and decode a picture from it."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            text = urllib.request.urlopen(playlist, timeout=2).read().decode()
        except OSError:
            text = ""
        names = [line for line in text.splitlines() if line.endswith(".ts")]
        if names:
            data = urllib.request.urlopen(playlist.rsplit("/", 1)[0] + "/" + names[0], timeout=5).read()
            with tempfile.NamedTemporaryFile(suffix=".ts") as seg:
                seg.write(data)
                seg.flush()
                out = subprocess.run(["ffmpeg", "-v", "error", "-i", seg.name, "-frames:v", "1", "-f", "null", "-"],
                                     capture_output=True, timeout=20)
            return out.returncode == 0
        time.sleep(0.05)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to measure the live stream")
    parser.add_argument("--rounds", type=int, default=3, help="play → first frame, this many times")
    args = parser.parse_args()
    missing = missing_parts()
    if missing:
        print(f"cannot run: {missing}")
        return 2
    media = start_media_server()
    sim = SimulatedCamera(rtsp=True).start()
    relays = LiveRelays(max_streams=1, duration_s=args.seconds + 60)
    try:
        onvif = OnvifCamera(sim.url, "admin", "admin123")
        onvif.create_osd("vsc_profile_1", "仓温 17.9℃ 仓湿 63.5%")
        uri = onvif.stream_uri("profile_1")
        starts = []
        for i in range(args.rounds):
            name = f"BENCH_CAM-{i}"
            t = time.monotonic()
            relays.start(name, uri, "admin", "admin123", media.publish_url(name))
            if not first_frame(media.playlist_url(name)):
                print("no frame arrived")
                return 1
            starts.append(time.monotonic() - t)
            if i < args.rounds - 1:
                relays.stop(name)
        proc = psutil.Process(relays.streams[name].proc.pid)
        sent0, cpu0, t0 = bytes_sent_to(media.rtmp_port), proc.cpu_times(), time.monotonic()
        time.sleep(args.seconds)
        sent1, cpu1, t1 = bytes_sent_to(media.rtmp_port), proc.cpu_times(), time.monotonic()
        rate = (sent1 - sent0) / (t1 - t0)
        cpu = ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / (t1 - t0)
        print(f"play → first frame (to a decoded HLS fragment): "
              f"{', '.join(f'{s:.2f}' for s in starts)} s (goal ≤ 5 s)")
        print(f"uplink while one stream is live: {rate / 1000:.1f} kB/s ({rate * 8 / 1000:.0f} kbit/s)")
        print(f"relay CPU: {cpu * 100:.1f} % of one core (goal ≤ 15 %), no re-encoding (-c copy)")
        return 0
    finally:
        relays.close()
        sim.stop()
        media.stop()


if __name__ == "__main__":
    sys.exit(main())

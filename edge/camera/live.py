"""Live view: relay a camera's RTSP H.264 to central's media server with FFmpeg, for a bounded
time.

FFmpeg (Debian's package) copies the stream (`-c copy`): no decoding or re-encoding at the
edge, so the relay costs little CPU and the picture central shows is the camera's own,
its OSD text included. The edge dials out (RTMP to central); nothing at the depot accepts a
connection. Each stream ends by itself after `duration_s` unless renewed (another start for
the same camera moves its end), and a depot runs at most `max_streams` at once, because a
depot's uplink is thin: one more is refused with the reason, never queued.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from common.processes import stop_process
from edge.camera.shown import shown_text
from edge.camera.stream import with_credentials

log = logging.getLogger("edge.camera.live")

DEFAULT_DURATION_S = 300.0


class LiveError(Exception):
    """A live stream could not be started (limit reached, FFmpeg missing, bad target)."""


@dataclass
class Stream:
    camera: str
    target: str
    proc: subprocess.Popen
    ends_at: float


def live_name(depot: str, camera: str) -> str:
    """The stream's name at the media server (and its HLS folder): <depot>.<camera>; the dot
    is in no code, so `A_B`+`C` and `A`+`B_C` stay apart (central/cameras/live_keys.py)."""
    return f"{depot}.{camera}"


def publish_target(url: str, stream: str, key: str | None) -> str:
    """Where FFmpeg publishes: <url>/<stream>, with central's one-time key when the command
    carried one (the media server asks central whether it is this stream's key)."""
    target = f"{url.rstrip('/')}/{stream}"
    return f"{target}?key={quote(key, safe='')}" if key else target


def redacted(target: str) -> str:
    """The target for logs: the key is a credential while the stream runs."""
    return shown_text(target)


def stream_span(duration_s: float, key_left_s: float | None) -> float:
    """How long a stream runs from now: the depot's live.duration, cut to what is left of
    central's key (live_start's live_until) when central says; central's key decides, since
    the media server ends the stream then anyway."""
    return duration_s if key_left_s is None else max(0.0, min(duration_s, key_left_s))


def _span(seconds: float) -> str:
    return f"{seconds / 60:g} 分钟" if seconds >= 60 else f"{seconds:g} 秒"


def relay_command(ffmpeg: str, source: str, target: str) -> list[str]:
    """The FFmpeg command line: RTSP over TCP in, the first video stream copied out as FLV."""
    return [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp",
            "-i", source, "-map", "0:v:0", "-c", "copy", "-f", "flv", target]


class LiveRelays:
    def __init__(self, max_streams: int = 1, duration_s: float = DEFAULT_DURATION_S,
                 ffmpeg: str | None = None, clock: Callable[[], float] = time.monotonic):
        self.max_streams, self.duration_s, self.clock = max_streams, duration_s, clock
        self.ffmpeg = ffmpeg or shutil.which("ffmpeg")
        self.streams: dict[str, Stream] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, daemon=True, name="live-reaper")
        self._reaper.start()

    def start(self, camera: str, source_uri: str, username: str, password: str, target: str,
              key_left_s: float | None = None) -> str:
        """Start (or renew) the camera's stream; the detail for the command's answer.
        `key_left_s`: seconds left of central's publish key (None: not said)."""
        span = stream_span(self.duration_s, key_left_s)
        with self._lock:
            self._reap_locked()
            now = self.clock()
            running = self.streams.get(camera)
            if running is not None and running.target == target:
                running.ends_at = now + span
                return f"摄像机 {camera} 实时视频已续期 {_span(span)}"
            if running is None and len(self.streams) >= self.max_streams:
                raise LiveError(f"本库同时最多 {self.max_streams} 路实时视频，正在播放："
                                f"{'、'.join(sorted(self.streams))}")
            if not self.ffmpeg:
                raise LiveError("边缘机未安装 FFmpeg（apt-get install ffmpeg），无法转发实时视频")
            if not target.startswith(("rtmp://", "rtmps://")):
                raise LiveError(f"实时视频的推流地址须为 rtmp://…，收到 {redacted(target)!r}")
            if running is not None:
                self._end(running, "target changed")
            argv = relay_command(self.ffmpeg, with_credentials(source_uri, username, password), target)
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            self.streams[camera] = Stream(camera, target, proc, now + span)
        log.info("camera %s: live relay to %s for %g s", camera, redacted(target), span)
        return f"摄像机 {camera} 实时视频已开始，{_span(span)}后自动结束"

    def stop(self, camera: str) -> str:
        with self._lock:
            stream = self.streams.pop(camera, None)
        if stream is None:
            return f"摄像机 {camera} 没有正在播放的实时视频"
        self._end(stream, "stopped")
        return f"摄像机 {camera} 实时视频已结束"

    def active(self) -> dict[str, float]:
        """camera -> seconds left."""
        with self._lock:
            self._reap_locked()
            now = self.clock()
            return {c: max(0.0, s.ends_at - now) for c, s in self.streams.items()}

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            streams, self.streams = list(self.streams.values()), {}
        for s in streams:
            self._end(s, "agent stopping")

    def _reap_loop(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                self._reap_locked()

    def _reap_locked(self) -> None:
        now = self.clock()
        for camera, s in list(self.streams.items()):
            if s.proc.poll() is not None:
                err = (s.proc.stderr.read() if s.proc.stderr else b"").decode(errors="replace").strip()
                err = shown_text(err)  # FFmpeg names its URLs: the camera's password, the key
                log.warning("camera %s: live relay ended (exit %s): %s", camera, s.proc.returncode, err[-300:])
                del self.streams[camera]
            elif now >= s.ends_at:
                del self.streams[camera]
                self._end(s, "time is up")

    @staticmethod
    def _end(stream: Stream, why: str) -> None:
        stop_process(stream.proc, 5)
        if stream.proc.stderr:
            stream.proc.stderr.close()
        log.info("camera %s: live relay ended (%s)", stream.camera, why)

"""All cameras of a depot: start/stop their workers, feed them indoor readings, take stills.

The agent builds one `CameraService` (only for a depot with cameras), hands it the outbox's
`publish` and subscribes its `on_air` to the polled air readings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from datetime import datetime

from common.secrets import SecretError, resolve_secret
from edge.camera.live import LiveError, LiveRelays, live_name, publish_target
from edge.camera.still import overlay_text
from edge.camera.worker import CameraWorker, Publish
from protocols.depot.model import Camera, LiveView
from protocols.mqtt.models import AirReading, CameraStatus, Command

log = logging.getLogger("edge.camera")


def camera_password(cam: Camera, base_dir: str | os.PathLike = ".",
                    environ: dict[str, str] | None = None) -> str | None:
    """The password from `password_env` or `password_file` (relative to the depot file's folder)."""
    try:
        password = resolve_secret(cam.password_env, cam.password_file, base_dir=base_dir,
                                  environ=environ)
    except SecretError as exc:
        # The worker reports the missing password as the camera's state; the log says why.
        if exc.source == "file":
            log.error("camera %s: %s", cam.camera, exc)
        return None
    return "" if password is None else password


def indoor_overlays(cameras: Iterable[Camera], air: Iterable[AirReading]) -> dict[str, str]:
    """camera -> overlay text from the newest indoor reading of its granary."""
    latest: dict[str, AirReading] = {}
    for a in air:
        if a.place == "indoor" and a.granary and (a.granary not in latest or a.ts >= latest[a.granary].ts):
            latest[a.granary] = a
    return {c.camera: overlay_text(latest[c.granary].temp_c, latest[c.granary].rh_pct)
            for c in cameras if c.granary in latest}


class CameraService:
    def __init__(self, cameras: list[Camera], depot: str, publish: Publish, wall: Callable[[], datetime],
                 base_dir: str | os.PathLike = ".", environ: dict[str, str] | None = None,
                 live: LiveView | None = None, **worker_kw):
        self.depot, self.wall = depot, wall
        self.workers = {c.camera: CameraWorker(c, camera_password(c, base_dir, environ), depot, publish, wall,
                                               **worker_kw) for c in cameras}
        self.live = live or LiveView()
        self.relays: LiveRelays | None = None

    def start(self) -> CameraService:
        for w in self.workers.values():
            w.start()
        return self

    def stop(self) -> None:
        if self.relays is not None:
            self.relays.close()
        for w in self.workers.values():
            w.stop()

    def on_air(self, air: Iterable[AirReading]) -> None:
        """After each air reading: queue the OSD text of the cameras of those granaries."""
        for camera, text in indoor_overlays((w.cam for w in self.workers.values()), air).items():
            self.workers[camera].set_overlay(text)

    def snapshot(self, granary: str | None = None, timeout: float = 30.0) -> str:
        """Take a still now from every camera (of `granary`); a summary, or RuntimeError if none worked."""
        chosen = [w for w in self.workers.values() if granary is None or w.cam.granary == granary]
        if not chosen:
            raise ValueError(f"{'仓房 ' + granary + ' ' if granary else ''}未配置摄像机")
        futures: dict[str, Future] = {w.cam.camera: w.request_snapshot() for w in chosen}
        wait(futures.values(), timeout)
        ok = [c for c, f in futures.items() if f.done() and f.exception() is None]
        failed = [f"{c}：{f.exception() if f.done() else '无应答'}" for c, f in futures.items() if c not in ok]
        detail = f"已抓拍 {len(ok)} 张" + (f"；失败：{'；'.join(failed)}" if failed else "")
        if not ok:
            raise RuntimeError(detail)
        return detail

    def snapshot_command(self, command: Command) -> str:
        return self.snapshot(command.granary)

    def live_command(self, command: Command) -> str:
        """live_start / live_stop of one camera (central's 实时 button); the answer's detail,
        or ValueError/LiveError with the reason in Chinese."""
        worker = self.workers.get(command.camera or "")
        if worker is None:
            raise ValueError(f"本库没有摄像机 {command.camera}")
        if command.action == "live_stop":
            return self.relays.stop(worker.cam.camera) if self.relays else f"摄像机 {worker.cam.camera} 没有实时视频"
        if not self.live.url:
            raise LiveError("边缘配置未设置 live.url（中心媒体服务器地址），无法实时查看")
        if not worker.ready or not worker.profile:
            raise LiveError(f"摄像机 {worker.cam.camera} 当前不可达：{worker.health.last_error or '尚未连通'}")
        uri = worker.client.stream_uri(worker.profile)
        if not uri.startswith(("rtsp://", "rtsps://")):
            raise LiveError(f"摄像机 {worker.cam.camera} 没有 RTSP 视频流地址")
        if self.relays is None:
            self.relays = LiveRelays(self.live.max_streams, self.live.duration)
        target = publish_target(self.live.url, live_name(self.depot, worker.cam.camera), command.live_key)
        # central's key ends at live_until (its clock; the edge's wall clock is kept in step)
        key_left = (command.live_until - self.wall()).total_seconds() if command.live_until else None
        return self.relays.start(worker.cam.camera, uri, worker.client.username, worker.client.password, target,
                                 key_left)

    def statuses(self) -> list[CameraStatus]:
        return [w.status() for w in self.workers.values()]

    def details(self) -> list[dict]:
        return [w.details() for w in self.workers.values()]

"""All cameras of a depot: start/stop their workers, feed them indoor readings, take stills.

`start_cameras(agent)` is the one call the agent makes; it returns the running service (or
None when the depot has no cameras).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from datetime import datetime
from pathlib import Path

from edge.camera.still import overlay_text
from edge.camera.worker import CameraWorker, Publish
from protocols.depot.model import Camera
from protocols.mqtt.models import AirReading, CameraStatus, Command

log = logging.getLogger("edge.camera")


def camera_password(cam: Camera, base_dir: str | os.PathLike = ".",
                    environ: dict[str, str] | None = None) -> str | None:
    """The password from `password_env` or `password_file` (relative to the depot file's folder)."""
    env = os.environ if environ is None else environ
    if cam.password_env:
        return env.get(cam.password_env)
    if cam.password_file:
        path = Path(base_dir, cam.password_file)
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            log.error("camera %s: cannot read password_file %s: %s", cam.camera, path, exc)
            return None
    return ""


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
                 base_dir: str | os.PathLike = ".", environ: dict[str, str] | None = None, **worker_kw):
        self.workers = {c.camera: CameraWorker(c, camera_password(c, base_dir, environ), depot, publish, wall,
                                               **worker_kw) for c in cameras}

    def start(self) -> CameraService:
        for w in self.workers.values():
            w.start()
        return self

    def stop(self) -> None:
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
            raise ValueError(f"no camera configured{' for granary ' + granary if granary else ''}")
        futures: dict[str, Future] = {w.cam.camera: w.request_snapshot() for w in chosen}
        wait(futures.values(), timeout)
        ok = [c for c, f in futures.items() if f.done() and f.exception() is None]
        failed = [f"{c}: {f.exception() if f.done() else 'no answer'}" for c, f in futures.items() if c not in ok]
        detail = f"{len(ok)} still(s) taken" + (f"; failed {'; '.join(failed)}" if failed else "")
        if not ok:
            raise RuntimeError(detail)
        return detail

    def snapshot_command(self, command: Command) -> str:
        return self.snapshot(command.granary)

    def statuses(self) -> list[CameraStatus]:
        return [w.status() for w in self.workers.values()]

    def details(self) -> list[dict]:
        return [w.details() for w in self.workers.values()]


def start_cameras(agent) -> CameraService | None:
    """Start the depot's cameras for `agent` (an edge.agent.EdgeAgent).

    Indoor readings reach the cameras by wrapping the agent's collector's `messages` on the
    instance (every reading the agent commits passes there once), so the agent needs no other
    change.
    """
    cameras = agent.config.cameras
    if not cameras:
        return None

    def publish(kind, model):
        agent.outbox.add_message(kind, model)
        agent._kick()

    service = CameraService(cameras, agent.code, publish, agent.wall,
                            base_dir=os.path.dirname(os.path.abspath(agent.cfg.source))).start()
    original = agent.collector.messages

    def messages(results):
        grain, air = original(results)
        if air:
            service.on_air(air)
        return grain, air

    agent.collector.messages = messages
    return service

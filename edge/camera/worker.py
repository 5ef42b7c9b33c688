"""One camera or NVR channel, worked on its own thread so a slow camera never delays polling.

Each tick it does what is due: a health check (device information; on the first success also
capabilities, profiles and a pull-point subscription), a still, the pending OSD text, pulling
events. Failures are kept for status and count toward the offline hold time; they are logged
once per change of state (failing, a different kind of failure, reachable again), not per try.

While a camera cannot be reached nothing but the health check is tried, and that one backs off
(doubling from `health_interval` up to five times it), so a dead camera costs neither a still
attempt every interval nor a log line each time. When it is reached again the worker sets up
afresh: profiles, events, and the OSD token, found again with GetOSDs (a rebooted or replaced
camera forgets the token it gave).

The OSD: a fault saying the device does not do OSD (ter:ActionNotSupported) turns it off and
stills get the text stamped instead; any other failure (an unknown token, a timeout) keeps the
text pending and retries it with the same backoff, re-discovering the token after a fault.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime

from common.backoff import doubling_delay
from edge.camera.health import HealthTracker
from edge.camera.onvif import OnvifCamera
from edge.camera.shown import shown_url
from edge.camera.soap import CameraError
from edge.camera.still import (
    MAX_STILL_BYTES,
    OVERLAY_PREFIX,
    StillError,
    fit_jpeg,
    prepare_still,
    stamp,
)
from edge.camera.stream import grab_frame
from protocols.depot.model import Camera
from protocols.mqtt import topics
from protocols.mqtt.models import CameraStatus, Event, Message, Snapshot

log = logging.getLogger("edge.camera")

Publish = Callable[[str, Message], None]


class CameraWorker:
    def __init__(self, cam: Camera, password: str | None, depot: str, publish: Publish,
                 wall: Callable[[], datetime], *, clock: Callable[[], float] = time.monotonic,
                 tick_s: float = 0.1, max_still_bytes: int = MAX_STILL_BYTES):
        self.cam, self.depot, self.publish, self.wall, self.clock = cam, depot, publish, wall, clock
        self.password = password
        self.tick_s, self.max_still_bytes = tick_s, max_still_bytes
        self.client = OnvifCamera(cam.url or "", cam.username or "", password or "", cam.timeout)
        self.health = HealthTracker(cam.offline_after)
        self.profile: str | None = cam.profile
        self.vsc: str | None = None
        self.osd_token: str | None = None
        self.osd_supported = cam.osd
        self.pull_address: str | None = None
        self.ready = False
        self.overlay: str = ""
        self._osd_pending: str | None = None
        self._snap_requests: list[Future] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._next_health = 0.0
        self._failures = 0          # failed reachability checks in a row (the health backoff)
        self._osd_failures = 0
        self._next_osd = 0.0
        self._next_still = clock() + (cam.snapshot_interval or 0) if cam.snapshot_interval else None
        self.stills_sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"camera-{cam.camera}")

    # ---- called from other threads ------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def set_overlay(self, text: str) -> None:
        with self._lock:
            self.overlay = text
            self._osd_pending = text

    def request_snapshot(self) -> Future:
        fut: Future = Future()
        with self._lock:
            self._snap_requests.append(fut)
        return fut

    def status(self) -> CameraStatus:
        return CameraStatus(camera=self.cam.camera, ok=self.health.ok and self.ready)

    def details(self) -> dict:
        return {"camera": self.cam.camera, "ok": self.health.ok and self.ready, "online": self.health.online,
                "error_kind": self.health.error_kind, "last_error": self.health.last_error,
                "osd": self.osd_token is not None, "osd_supported": self.osd_supported,
                "stills_sent": self.stills_sent}

    # ---- the camera thread -------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:  # a bug here must not kill the thread silently
                log.exception("camera %s: unexpected error", self.cam.camera)
            self._stop.wait(self.tick_s)

    def _backoff(self, failures: int) -> float:
        interval = self.cam.health_interval
        return doubling_delay(failures, interval, 5 * interval)

    def _fail(self, exc: Exception, doing: str) -> None:
        kind = getattr(exc, "kind", "error")
        msg = f"摄像机 {self.cam.camera}：{doing}失败（{kind}）：{exc}"
        if kind in ("auth", "timeout", "unreachable", "config"):
            if self.health.failing_since is None or kind != self.health.error_kind:
                log.warning(msg, extra={"camera": self.cam.camera, "error_kind": kind})
            self.ready = self.ready and kind not in ("auth", "config")
            self._failures += 1
            now = self.clock()
            self._next_health = now + self._backoff(self._failures)
            self._event(self.health.failure(now, kind, msg), {"error": msg, "kind": kind})
        else:
            if kind != self.health.error_kind:
                log.warning(msg, extra={"camera": self.cam.camera, "error_kind": kind})
            self.health.last_error, self.health.error_kind = msg, kind

    def _event(self, kind: str | None, detail: dict) -> None:
        if kind:
            log.warning("camera %s: %s", self.cam.camera, kind)
            self.publish(topics.EVENTS, Event(depot=self.depot, ts=self.wall(), kind=kind,
                                              subject=self.cam.camera, detail=detail))

    def _tick(self) -> None:
        now = self.clock()
        if now >= self._next_health:
            self._next_health = now + self.cam.health_interval
            if not self._check():
                self._fail_pending_snapshots()
                return
            self._pull_events()
        if not self.ready or self.health.failing_since is not None:
            self._fail_pending_snapshots()  # unreachable: wait for the next health check
            return
        osd_due = self.osd_supported and now >= self._next_osd
        with self._lock:
            pending = self._osd_pending if osd_due else None
            if osd_due:
                self._osd_pending = None
            requests, self._snap_requests = self._snap_requests, []
        if pending is not None:
            self._write_osd(pending)
        due = self._next_still is not None and now >= self._next_still
        if due or requests:
            if due:
                self._next_still = now + (self.cam.snapshot_interval or 0)
            self._take_still(requests)

    def _check(self) -> bool:
        if not self.cam.url or self.password is None:
            what = "未配置地址（url）" if not self.cam.url else \
                "未配置密码，或读不到（password_env / password_file）"
            self._fail(CameraError("config", what), "配置检查")
            return False
        was_failing = self.health.failing_since is not None
        try:
            self.client.device_information()
            if not self.ready or was_failing:
                self._setup()
        except CameraError as exc:
            self._fail(exc, "连通检查")
            return False
        if was_failing:
            log.info("camera %s: reachable again", self.cam.camera)
        self._failures = 0
        self._event(self.health.success(self.clock()), {})
        return True

    def _setup(self) -> None:
        self.client.capabilities()
        profiles = self.client.profiles()
        chosen = next((p for p in profiles if p.token == self.profile), None) if self.profile else \
            (profiles[0] if profiles else None)
        if chosen is None:
            offered = f"不提供媒体配置（profile）{self.profile}" if self.profile else "没有任何媒体配置（profile）"
            raise CameraError("fault", f"{shown_url(self.cam.url or '')} {offered}")
        self.profile, self.vsc = chosen.token, chosen.video_source_config
        try:
            self.pull_address = self.client.create_pull_point()
        except CameraError as exc:
            if exc.kind != "fault":
                raise
            self.pull_address = None  # the device offers no events: fine
        # A camera set up again may be another device or have rebooted: its OSD is found afresh
        # and given the current text.
        self.osd_token, self.osd_supported, self._osd_failures, self._next_osd = None, self.cam.osd, 0, 0.0
        with self._lock:
            if self.overlay and self._osd_pending is None:
                self._osd_pending = self.overlay
        self.ready = True
        log.info("camera %s ready (profile %s)", self.cam.camera, self.profile)

    def _find_osd(self) -> str | None:
        """The token of an OSD this agent created earlier (its text starts with the overlay's)."""
        texts = self.client.osd_texts(self.vsc)
        return next((tok for tok, text in texts.items() if tok and text.startswith(OVERLAY_PREFIX)), None)

    def _write_osd(self, text: str) -> None:
        try:
            if self.osd_token is None:
                self.osd_token = self._find_osd()
            if self.osd_token is None:
                self.osd_token = self.client.create_osd(self.vsc or "", text)
            else:
                self.client.set_osd(self.osd_token, self.vsc or "", text)
        except CameraError as exc:
            if exc.unsupported:
                log.info("camera %s: no OSD on this device (%s); stamping stills instead", self.cam.camera, exc)
                self.osd_supported, self.osd_token = False, None
                return
            if exc.kind == "fault":
                self.osd_token = None  # e.g. the camera no longer knows the token: find it again
            if self._osd_failures == 0:
                log.warning("camera %s: OSD update failed (%s), will retry: %s", self.cam.camera, exc.kind, exc)
            self._osd_failures += 1
            self._next_osd = self.clock() + self._backoff(self._osd_failures)
            with self._lock:
                self._osd_pending = self._osd_pending or text
            if exc.kind in ("auth", "timeout", "unreachable"):
                self._fail(exc, "OSD 更新")
            return
        if self._osd_failures:
            log.info("camera %s: OSD updated again", self.cam.camera)
        self._osd_failures, self._next_osd = 0, 0.0

    def _take_still(self, requests: list[Future]) -> None:
        try:
            stamp_text = None if (self.osd_supported and self.osd_token) or not self.overlay else self.overlay
            try:
                raw = self.client.fetch_snapshot(self.client.snapshot_uri(self.profile or ""))
                jpeg = prepare_still(raw, stamp_text, self.max_still_bytes)
            except CameraError as exc:
                if exc.kind != "fault":
                    raise
                jpeg = self._still_from_stream(stamp_text)
        except (CameraError, StillError) as exc:
            self._fail(exc, "抓图")
            for f in requests:
                f.set_exception(exc)
            return
        snap = Snapshot(depot=self.depot, camera=self.cam.camera, granary=self.cam.granary, ts=self.wall(),
                        overlay=self.overlay, jpeg_b64=base64.b64encode(jpeg).decode())
        self.publish(topics.SNAPSHOT, snap)
        self.stills_sent += 1
        for f in requests:
            f.set_result(len(jpeg))

    def _still_from_stream(self, stamp_text: str | None) -> bytes:
        """No snapshot URI: one frame of the RTSP stream, stamped and fitted."""
        uri = self.client.stream_uri(self.profile or "")
        if not uri:
            raise CameraError("fault", f"摄像机 {self.cam.camera} 既没有抓图地址，也没有视频流地址")
        frame = grab_frame(uri, self.client.username, self.client.password, self.cam.timeout)
        if stamp_text is not None:
            frame = stamp(frame, stamp_text)
        return fit_jpeg(frame, self.max_still_bytes)

    def _fail_pending_snapshots(self) -> None:
        with self._lock:
            requests, self._snap_requests = self._snap_requests, []
        for f in requests:
            f.set_exception(CameraError(self.health.error_kind or "unavailable",
                                        self.health.last_error or f"摄像机 {self.cam.camera} 尚未就绪"))

    def _pull_events(self) -> None:
        if not self.pull_address:
            return
        try:
            for topic, state in self.client.pull_messages(self.pull_address):
                if state:  # the end of a motion is not an event of its own
                    kind = "tamper" if "tamper" in topic.lower() else "motion"
                    self._event(kind, {"topic": topic, "state": state})
        except CameraError as exc:
            self._fail(exc, "拉取事件")

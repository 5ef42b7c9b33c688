"""The simulated ONVIF camera/NVR: an HTTP SOAP server with UsernameToken digest auth.

Operations (answered to the ONVIF schemas, see operations.py): GetDeviceInformation,
GetSystemDateAndTime, GetCapabilities, GetProfiles, GetSnapshotUri, GetStreamUri, GetOSDs,
CreateOSD, SetOSD, DeleteOSD, CreatePullPointSubscription, PullMessages. Stills at
`/snapshot/<token>.jpg` (HTTP basic auth) show the OSD texts where their positions say; with
`rtsp=True` each profile is also a real RTSP H.264 stream drawing them (rtsp_server.py).
Scenario switches: `offline` (connections are dropped), `password` (change it: the edge's one
becomes wrong), `motion()` (queue a motion event for pull-point subscribers); also over HTTP
as GET /sim/offline, /sim/online, /sim/motion, /sim/password/NEW (for `grainlink sim camera`),
and /sim/osd/<profile> (the OSD texts as JSON, which the RTSP stream follows).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common.processes import stop_process
from simulators.onvif import operations as ops
from simulators.onvif import picture
from simulators.onvif.soap import authorised, envelope, fault, find_text, parse_request

# GStreamer's Python bindings come from Debian (python3-gi), not from the virtual environment.
SYSTEM_PYTHON = "/usr/bin/python3"


@dataclass
class Osd:
    token: str
    text: str
    vsc: str = "vsc_profile_1"
    kind: str = "UpperLeft"  # ONVIF position type; x/y count only for Custom
    x: float = -1.0
    y: float = 1.0


@dataclass
class CameraState:
    username: str = "admin"
    password: str = "admin123"
    channels: int = 1
    offline: bool = False
    osd_supported: bool = True
    snapshot_supported: bool = True
    stream_uri: str | None = None  # default rtsp://127.0.0.1:554/<profile>
    osds: dict[str, Osd] = field(default_factory=dict)
    osd_serial: int = 0
    events: list[tuple[str, bool]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    dropped: int = 0  # requests refused while offline (how hard a client keeps trying)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SimulatedCamera:
    """Start with `.start()`; `.url` is the device service address."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, rtsp: bool = False, **state):
        self.state = CameraState(**state)
        self.rtsp = rtsp
        self.rtsp_proc: subprocess.Popen | None = None
        self.rtsp_port: int | None = None
        handler = type("Handler", (_Handler,), {"sim": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="sim-onvif")

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return f"{self.base}/onvif/device_service"

    def start(self) -> SimulatedCamera:
        self.thread.start()
        if self.rtsp:
            self._start_rtsp()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.rtsp_proc is not None:
            stop_process(self.rtsp_proc, 10)

    def _start_rtsp(self) -> None:
        """GStreamer's RTSP server in the system Python (rtsp_server.py); RuntimeError naming
        the Debian packages when it cannot start."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.rtsp_port = probe.getsockname()[1]
        profiles = [f"profile_{i + 1}" for i in range(self.state.channels)]
        argv = [SYSTEM_PYTHON, str(Path(__file__).with_name("rtsp_server.py")), str(self.rtsp_port),
                f"{self.base}/sim/osd", *profiles]
        self.rtsp_proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        line = self.rtsp_proc.stdout.readline().strip() if self.rtsp_proc.stdout else ""
        if line != "ready":
            rest = self.rtsp_proc.stdout.read() if self.rtsp_proc.stdout else ""
            self.rtsp_proc.kill()
            self.rtsp_proc.wait()
            self.rtsp_proc = None
            raise RuntimeError(f"模拟摄像机的 RTSP 服务没有启动（{line} {rest[-400:]}）；"
                               "它需要 Debian 的 python3-gi gir1.2-gst-rtsp-server-1.0 "
                               "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly")

    # ---- scenario switches ------------------------------------------------------------------
    def set_offline(self, offline: bool) -> None:
        self.state.offline = offline

    def set_password(self, password: str) -> None:
        self.state.password = password

    def motion(self, active: bool = True) -> None:
        with self.state.lock:
            self.state.events.append(("Motion", active))

    def osd_text(self, profile: str = "profile_1") -> str | None:
        texts = self.overlays(profile)
        return texts[0][0] if texts else None

    def overlays(self, profile: str = "profile_1") -> list[tuple[str, str, float, float]]:
        """(text, position type, x, y) of each OSD of the profile's video source."""
        with self.state.lock:
            return [(o.text, o.kind, o.x, o.y) for o in self.state.osds.values() if o.vsc == f"vsc_{profile}"]

    def snapshot(self, profile: str = "profile_1") -> bytes:
        return picture.render(self.overlays(profile))

    # ---- SOAP operations ----------------------------------------------------------------------
    def handle(self, op: str, body) -> bytes:
        s = self.state
        names = [f"profile_{i + 1}" for i in range(s.channels)]
        if op == "GetDeviceInformation":
            return ops.device_information()
        if op == "GetSystemDateAndTime":
            return ops.system_date_and_time()
        if op == "GetCapabilities":
            return ops.capabilities(self.base)
        if op == "GetProfiles":
            return ops.profiles(names)
        if op in ("GetSnapshotUri", "GetStreamUri"):
            tok = find_text(body, "ProfileToken")
            if tok not in names:
                return ops.no_profile(tok)
            if op == "GetSnapshotUri":
                if not s.snapshot_supported:
                    return ops.not_supported("no snapshot URI on this device")
                return ops.media_uri(op, f"{self.base}/snapshot/{tok}.jpg")
            return ops.media_uri(op, self.stream_uri(tok))
        if op in ("GetOSDs", "CreateOSD", "SetOSD", "DeleteOSD") and not s.osd_supported:
            return ops.not_supported("OSD is not supported")
        if op == "GetOSDs":
            vsc = find_text(body, "ConfigurationToken")
            with s.lock:
                chosen = [o for o in s.osds.values() if vsc in (None, o.vsc)]
            return ops.get_osds(chosen)
        if op in ("CreateOSD", "SetOSD"):
            return self._write_osd(op, body, names)
        if op == "DeleteOSD":
            token = find_text(body, "OSDToken") or ""
            with s.lock:
                if s.osds.pop(token, None) is None:
                    return fault("ter:InvalidArgVal", f"no OSD {token}", "ter:NoConfig")
            return envelope("<trt:DeleteOSDResponse/>")
        if op == "CreatePullPointSubscription":
            return ops.pull_point(self.base)
        if op == "PullMessages":
            with s.lock:
                events, s.events = s.events, []
            return ops.pull_messages(events)
        return ops.not_supported(f"operation {op} is not supported")

    def stream_uri(self, profile: str) -> str:
        if self.state.stream_uri:
            return self.state.stream_uri
        return f"rtsp://127.0.0.1:{self.rtsp_port or 554}/{profile}"

    def _write_osd(self, op: str, body, names: list[str]) -> bytes:
        s = self.state
        fields = ops.parse_osd(body)
        if isinstance(fields, str):
            return fault("ter:InvalidArgVal", fields, "ter:InvalidArgs")
        if fields["vsc"][4:] not in names:
            return fault("ter:InvalidArgVal", f"no video source configuration {fields['vsc']}", "ter:NoConfig")
        with s.lock:
            if op == "CreateOSD":
                s.osd_serial += 1
                token = f"osd_{fields['vsc'][4:]}_{s.osd_serial}"
                s.osds[token] = Osd(**{**fields, "token": token})
                return ops.created(token)
            # ONVIF carries the token as the tt:OSD element's attribute, not as a child.
            if fields["token"] not in s.osds:
                return fault("ter:InvalidArgVal", f"no OSD {fields['token']}", "ter:NoConfig")
            s.osds[fields["token"]] = Osd(**fields)
        return envelope("<trt:SetOSDResponse/>")


class _Handler(BaseHTTPRequestHandler):
    sim: SimulatedCamera
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet: tests run many requests
        pass

    def _send(self, code: int, data: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dropped(self) -> bool:
        if self.sim.state.offline:
            self.sim.state.dropped += 1
            self.close_connection = True
            self.connection.close()
            return True
        return False

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self._dropped():
            return
        try:
            req = parse_request(data)
        except Exception as exc:  # any malformed envelope is the client's fault
            self._send(400, fault("ter:WellFormed", f"bad SOAP request: {exc}"), "application/soap+xml")
            return
        s = self.sim.state
        s.calls.append(req.operation)
        if not authorised(req, s.username, s.password):
            self._send(400, fault("ter:NotAuthorized", "Sender not authorized"), "application/soap+xml")
            return
        out = self.sim.handle(req.operation, req.body)
        code = 500 if b"<s:Fault>" in out else 200
        self._send(code, out, "application/soap+xml; charset=utf-8")

    def do_GET(self) -> None:
        if self.path.startswith("/sim/"):
            self._scenario(self.path[len("/sim/"):])
            return
        if self._dropped():
            return
        s = self.sim.state
        expected = base64.b64encode(f"{s.username}:{s.password}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="camera"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not self.path.startswith("/snapshot/") or not self.path.endswith(".jpg"):
            self._send(404, b"not found", "text/plain")
            return
        self._send(200, self.sim.snapshot(self.path[len("/snapshot/"):-4]), "image/jpeg")

    def _scenario(self, what: str) -> None:
        """Scenario switches (no auth; loopback test tool): offline, online, motion, password/NEW."""
        name, _, arg = what.partition("/")
        if name == "offline":
            self.sim.set_offline(True)
        elif name == "online":
            self.sim.set_offline(False)
        elif name == "motion":
            self.sim.motion()
        elif name == "password" and arg:
            self.sim.set_password(arg)
        elif name == "osd" and arg:  # what the RTSP stream draws
            self._send(200, json.dumps(self.sim.overlays(arg)).encode(), "application/json")
            return
        else:
            self._send(404, f"unknown scenario {what!r}: offline, online, motion, password/NEW\n".encode(),
                       "text/plain")
            return
        self._send(200, b"ok\n", "text/plain")

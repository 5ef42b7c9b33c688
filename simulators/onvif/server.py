"""The simulated ONVIF camera/NVR: an HTTP SOAP server with UsernameToken digest auth.

Operations: GetDeviceInformation, GetCapabilities, GetProfiles, GetSnapshotUri, GetStreamUri,
GetOSDs, CreateOSD, SetOSD, CreatePullPointSubscription, PullMessages. Stills at
`/snapshot/<token>.jpg` (HTTP basic auth) show the current OSD text. Scenario switches:
`offline` (connections are dropped), `password` (change it: the edge's one becomes wrong),
`motion()` (queue a motion event for pull-point subscribers); also over HTTP as
GET /sim/offline, /sim/online, /sim/motion, /sim/password/NEW (for `grainlink sim camera`).
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from simulators.onvif import picture
from simulators.onvif.soap import authorised, envelope, fault, find_text, parse_request


@dataclass
class Osd:
    token: str
    text: str
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
    events: list[tuple[str, bool]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SimulatedCamera:
    """Start with `.start()`; `.url` is the device service address."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **state):
        self.state = CameraState(**state)
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
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- scenario switches ------------------------------------------------------------------
    def set_offline(self, offline: bool) -> None:
        self.state.offline = offline

    def set_password(self, password: str) -> None:
        self.state.password = password

    def motion(self, active: bool = True) -> None:
        with self.state.lock:
            self.state.events.append(("Motion", active))

    def osd_text(self, profile: str = "profile_1") -> str | None:
        with self.state.lock:
            for o in self.state.osds.values():
                if o.token.startswith(f"osd_{profile}"):
                    return o.text
        return None

    def snapshot(self, profile: str = "profile_1") -> bytes:
        with self.state.lock:
            texts = [(o.text, o.x, o.y) for o in self.state.osds.values()
                     if o.token.startswith(f"osd_{profile}")]
        return picture.render(texts)

    # ---- SOAP operations ----------------------------------------------------------------------
    def handle(self, op: str, body) -> bytes:
        s = self.state
        profiles = [f"profile_{i + 1}" for i in range(s.channels)]
        if op == "GetDeviceInformation":
            return envelope(
                "<tds:GetDeviceInformationResponse><tds:Manufacturer>GrainLink</tds:Manufacturer>"
                "<tds:Model>SimNVR</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion>"
                "<tds:SerialNumber>SIM0001</tds:SerialNumber><tds:HardwareId>sim</tds:HardwareId>"
                "</tds:GetDeviceInformationResponse>")
        if op == "GetCapabilities":
            return envelope(
                "<tds:GetCapabilitiesResponse><tds:Capabilities>"
                f"<tt:Media><tt:XAddr>{self.base}/onvif/media</tt:XAddr></tt:Media>"
                f"<tt:Events><tt:XAddr>{self.base}/onvif/events</tt:XAddr>"
                "<tt:WSPullPointSupport>true</tt:WSPullPointSupport></tt:Events>"
                "</tds:Capabilities></tds:GetCapabilitiesResponse>")
        if op == "GetProfiles":
            items = "".join(
                f'<trt:Profiles token="{p}" fixed="true"><tt:Name>{p}</tt:Name>'
                f'<tt:VideoSourceConfiguration token="vsc_{p}"><tt:SourceToken>vs_{p}</tt:SourceToken>'
                "</tt:VideoSourceConfiguration></trt:Profiles>" for p in profiles)
            return envelope(f"<trt:GetProfilesResponse>{items}</trt:GetProfilesResponse>")
        if op == "GetSnapshotUri":
            tok = find_text(body, "ProfileToken")
            if not s.snapshot_supported:
                return fault("ter:ActionNotSupported", "no snapshot URI on this device")
            if tok not in profiles:
                return fault("ter:NoProfile", f"no profile {tok}")
            return envelope(f"<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>{self.base}/snapshot/{tok}.jpg"
                            "</tt:Uri></trt:MediaUri></trt:GetSnapshotUriResponse>")
        if op == "GetStreamUri":
            tok = find_text(body, "ProfileToken")
            uri = escape(s.stream_uri or f"rtsp://127.0.0.1:554/{tok}")
            return envelope(f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{uri}"
                            "</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>")
        if op in ("GetOSDs", "CreateOSD", "SetOSD") and not s.osd_supported:
            return fault("ter:ActionNotSupported", "OSD is not supported")
        if op == "GetOSDs":
            with s.lock:
                items = "".join(
                    f'<trt:OSDs token="{o.token}"><tt:TextString><tt:PlainText>{escape(o.text)}'
                    "</tt:PlainText></tt:TextString></trt:OSDs>" for o in s.osds.values())
            return envelope(f"<trt:GetOSDsResponse>{items}</trt:GetOSDsResponse>")
        if op in ("CreateOSD", "SetOSD"):
            return self._write_osd(op, body, profiles)
        if op == "CreatePullPointSubscription":
            return envelope(
                "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
                f"<wsa:Address xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">{self.base}/onvif/events"
                "</wsa:Address></tev:SubscriptionReference></tev:CreatePullPointSubscriptionResponse>")
        if op == "PullMessages":
            with s.lock:
                events, s.events = s.events, []
            msgs = "".join(
                "<wsnt:NotificationMessage><wsnt:Topic>tns1:VideoSource/MotionAlarm</wsnt:Topic>"
                "<wsnt:Message><tt:Message><tt:Data>"
                f'<tt:SimpleItem Name="State" Value="{str(v).lower()}"/></tt:Data></tt:Message></wsnt:Message>'
                f"</wsnt:NotificationMessage>" for _, v in events)
            return envelope(f"<tev:PullMessagesResponse>{msgs}</tev:PullMessagesResponse>")
        return fault("ter:ActionNotSupported", f"operation {op} is not supported")

    def _write_osd(self, op: str, body, profiles: list[str]) -> bytes:
        s = self.state
        text = find_text(body, "PlainText") or ""
        x = float(find_text(body, "x") or -1)
        y = float(find_text(body, "y") or 1)
        with s.lock:
            if op == "CreateOSD":
                vsc = (find_text(body, "VideoSourceConfigurationToken") or "vsc_profile_1")[4:]
                if vsc not in profiles:
                    return fault("ter:InvalidArgVal", f"no video source configuration {vsc}")
                token = f"osd_{vsc}_{len(s.osds) + 1}"
                s.osds[token] = Osd(token, text, x, y)
                return envelope(f"<trt:CreateOSDResponse><trt:OSDToken>{token}</trt:OSDToken>"
                                "</trt:CreateOSDResponse>")
            token = find_text(body, "token") or ""
            if token not in s.osds:
                return fault("ter:InvalidArgVal", f"no OSD {token}")
            s.osds[token] = Osd(token, text, x, y)
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
        else:
            self._send(404, f"unknown scenario {what!r}: offline, online, motion, password/NEW\n".encode(),
                       "text/plain")
            return
        self._send(200, b"ok\n", "text/plain")

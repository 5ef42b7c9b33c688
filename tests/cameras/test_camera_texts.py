"""What a camera failure says to people: Chinese, with the codes programs read (the error
kind, ONVIF fault subcodes), the URL it called without its password, and numbers with units.
Each failure is produced for real: an HTTP server of this test answers 401, an HTML page, a
SOAP fault, nothing, too late, or hangs up; a port nobody listens on refuses."""

from __future__ import annotations

import http.server
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import numpy as np
import pytest

from edge.camera.onvif import OnvifCamera
from edge.camera.shown import shown_url
from edge.camera.soap import CameraError, call, not_xml
from edge.camera.still import StillError, fit_jpeg
from edge.camera.worker import CameraWorker
from protocols.depot.model import Camera

SECRET = "Geheim-42"
# Words a camera error may keep in Latin letters: protocol names and ONVIF operation names.
ALLOWED = {"HTTP", "SOAP", "XML", "Body", "Uri", "OSD", "token", "profile", "url", "password_env",
           "password_file", "GetSnapshotUri", "CreateOSD", "RemoteDisconnected", "BadStatusLine",
           "ActionNotSupported", "TLS", "DNS"}


def english_words(message: str, url: str | None = None) -> list[str]:
    """Latin words of `message` other than the URL, the user name, the device's own reply
    and ALLOWED."""
    text = message.split("设备答复：", 1)[0].replace("“admin”", "")
    if url:
        text = text.replace(shown_url(url), "")
    return [w for w in re.findall(r"[A-Za-z_]{2,}", text) if w not in ALLOWED]


FAULT = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
         'xmlns:ter="http://www.onvif.org/ver10/error"><s:Body><s:Fault><s:Code><s:Value>s:Sender'
         '</s:Value><s:Subcode><s:Value>ter:{code}</s:Value></s:Subcode></s:Code><s:Reason>'
         '<s:Text xml:lang="en">{reason}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>')


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        what = self.path.strip("/").split("?")[0]
        if what == "hangup":  # closes without a status line
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if what == "slow":
            time.sleep(1.5)
        status, body = {
            "auth": (401, b""),
            "html": (404, b"<html><body>Not Found</body>"),
            "broken": (500, b"<html>oops"),
            "empty": (200, b""),
            "unsupported": (400, FAULT.format(code="ActionNotSupported", reason="Not supported").encode()),
            "denied": (400, FAULT.format(code="NotAuthorized", reason="Sender not Authorized").encode()),
        }.get(what, (200, b"<s:Envelope xmlns:s='x'><s:Body/></s:Envelope>"))
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # "slow": the client gave up already
            pass

    do_GET = do_POST = _answer


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def camera_error(url: str, timeout: float = 0.5) -> CameraError:
    with pytest.raises(CameraError) as err:
        call(url, "<tds:GetDeviceInformation/>", "admin", SECRET, timeout)
    return err.value


@pytest.mark.parametrize("path, kind, says", [
    ("auth", "auth", "用户“admin”认证失败（HTTP 401）"),
    ("html", "protocol", "HTTP 404，应答不是 XML（第 1 行第 "),
    ("empty", "protocol", "应答为空，不是 XML"),
    ("unsupported", "fault", "设备返回错误 ActionNotSupported，设备答复：Not supported"),
    ("denied", "auth", "用户“admin”认证失败（密码错误？），设备答复：Sender not Authorized"),
    ("slow", "timeout", "0.5 秒内无应答"),
    ("hangup", "unreachable", "对端未应答就关闭了连接"),
])
def test_each_soap_failure_reads_in_chinese_with_its_code_and_no_password(server, path, kind, says):
    url = f"{server}/{path}?pwd={SECRET}"
    err = camera_error(url)
    text = str(err)
    assert err.kind == kind, text
    assert says in text
    assert SECRET not in text and text.startswith(f"{server}/{path}?pwd=…：")
    assert english_words(text, url) == [], text
    if kind == "fault":
        assert err.subcodes == ("ActionNotSupported",) and err.unsupported


def test_a_port_nobody_listens_on_is_refused_in_chinese():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    err = camera_error(f"http://127.0.0.1:{port}/onvif/device_service")
    assert err.kind == "unreachable" and "连接被拒绝" in str(err) and "Errno" not in str(err)


def test_credentials_written_into_the_url_never_show():
    # urllib takes "admin:…@127.0.0.1" for the host name, which no resolver knows.
    err = camera_error(f"http://admin:{SECRET}@127.0.0.1:9/onvif/device_service", timeout=5)
    assert str(err) == "http://admin:…@127.0.0.1:9/onvif/device_service：主机名无法解析（DNS）"
    assert err.kind == "unreachable"


def test_snapshot_failures_read_in_chinese(server):
    cam = OnvifCamera(f"{server}/", "admin", SECRET, timeout=0.5)
    for path, kind, says in (("auth", "auth", "抓图时用户“admin”认证失败（HTTP 401）"),
                             ("broken", "fault", "抓图失败（HTTP 500）"),
                             ("slow", "timeout", "0.5 秒内无应答")):
        with pytest.raises(CameraError) as err:
            cam.fetch_snapshot(f"{server}/{path}?usr=admin&pwd={SECRET}")
        text = str(err.value)
        assert err.value.kind == kind and says in text, text
        assert SECRET not in text and "usr=admin&pwd=…" in text
        assert english_words(text, f"{server}/{path}?usr=admin&pwd={SECRET}") == [], text


def test_shown_url_hides_passwords_and_secret_query_values():
    assert shown_url("rtsp://admin:pw@10.0.0.5:554/Streaming/101") == "rtsp://admin:…@10.0.0.5:554/Streaming/101"
    assert shown_url("http://10.0.0.5/cgi?cmd=snap&usr=a&pwd=x&Token=y") == "http://10.0.0.5/cgi?cmd=snap&usr=a&pwd=…&Token=…"
    assert shown_url("http://admin@10.0.0.5/onvif") == "http://admin@10.0.0.5/onvif"  # no password: as is
    assert shown_url("http://10.0.0.5/onvif/device_service") == "http://10.0.0.5/onvif/device_service"


def test_not_xml_names_where_the_parser_stopped():
    with pytest.raises(ET.ParseError) as exc:
        ET.fromstring(b"<a>\n<b></a>")
    assert not_xml(b"<a>\n<b></a>", exc.value) == "应答不是 XML（第 2 行第 6 列出错）"


def test_still_errors_give_bytes_in_chinese():
    noise = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    with pytest.raises(StillError) as err:
        fit_jpeg(noise, max_bytes=100)
    assert str(err.value) == "无法把抓图压缩到 100 字节以内"


def test_a_camera_without_password_reports_a_chinese_config_error():
    cam = Camera(camera="CAM-N", url="http://127.0.0.1:9/onvif", username="admin", password_env="NOPE",
                 health_interval=0.1, offline_after=0.1)
    published = []
    worker = CameraWorker(cam, None, "T-CAM", lambda kind, msg: published.append(msg),
                          lambda: datetime.now(UTC))
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while not published and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    expected = "摄像机 CAM-N：配置检查失败（config）：未配置密码，或读不到（password_env / password_file）"
    assert worker.health.error_kind == "config" and worker.health.last_error == expected
    assert [(e.kind, e.detail) for e in published] == [("camera_offline", {"error": expected, "kind": "config"})]

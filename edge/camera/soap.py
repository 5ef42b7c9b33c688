"""A small ONVIF SOAP transport: envelope with a WS-Security UsernameToken digest, POST, faults.

Why not onvif-zeep at the edge: it builds every service from the full WSDL set on each client
(seconds per camera) and its error mapping hides the HTTP status we need to tell an auth failure
from a timeout. The edge uses ten operations; this transport does exactly those, over urllib,
with one timeout per call. onvif-zeep stays the independent client of the conformance tests
(tests/cameras/test_onvif_conformance.py), a test dependency only.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from edge.camera.shown import shown_url
from edge.net_reasons import net_reason

NS = {
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
}
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
           "#PasswordDigest")


# ONVIF's words for "this device does not do that": a real absence, not a failed call.
UNSUPPORTED = frozenset({"ActionNotSupported", "NotSupported", "NoSuchService"})


class CameraError(Exception):
    """A camera call failed; `kind` is auth, timeout, unreachable, fault, protocol or config
    (codes that programs read: they stay English); the message is Chinese, for people, and
    names URLs without their password; `subcodes` are a fault's ONVIF subcodes (local
    names, outermost first)."""

    def __init__(self, kind: str, message: str, subcodes: tuple[str, ...] = ()):
        super().__init__(message)
        self.kind = kind
        self.subcodes = subcodes

    @property
    def unsupported(self) -> bool:
        return self.kind == "fault" and any(code in UNSUPPORTED for code in self.subcodes)


def password_digest(nonce: bytes, created: str, password: str) -> str:
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def security_header(username: str, password: str, nonce: bytes | None = None,
                    created: str | None = None) -> str:
    nonce = nonce if nonce is not None else os.urandom(16)
    created = created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<wsse:Security xmlns:wsse="{_WSSE}" xmlns:wsu="{_WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{_DIGEST}">{password_digest(nonce, created, password)}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def build_envelope(body: str, username: str, password: str) -> bytes:
    ns = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope '
            f'xmlns:s="http://www.w3.org/2003/05/soap-envelope" {ns}>'
            f"<s:Header>{security_header(username, password)}</s:Header>"
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def fault_text(root: ET.Element) -> tuple[tuple[str, ...], str] | None:
    """(subcodes without prefixes, reason) of a SOAP fault, or None."""
    for el in root.iter():
        if local(el.tag) == "Fault":
            values = [(e.text or "").strip() for e in el.iter() if local(e.tag) == "Value"]
            reason = next((e.text or "" for e in el.iter() if local(e.tag) == "Text"), "")
            return tuple(v.rsplit(":", 1)[-1] for v in values[1:]), reason
    return None


def transport_error(url: str, exc: BaseException, timeout: float) -> CameraError:
    """The CameraError for a request that got no usable HTTP answer (`exc` as urllib or
    http.client raised it)."""
    shown = shown_url(url)
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):  # socket.timeout is TimeoutError
        return CameraError("timeout", f"{shown}：{timeout:g} 秒内无应答")
    if isinstance(reason, http.client.HTTPException) and not isinstance(reason, OSError):
        return CameraError("protocol", f"{shown}：应答不是有效的 HTTP（{type(reason).__name__}）")
    return CameraError("unreachable", f"{shown}：{net_reason(reason)}")


def not_xml(data: bytes, exc: ET.ParseError) -> str:
    """Why an answer is no SOAP envelope, in Chinese (the parser says it in English)."""
    if not data.strip():
        return "应答为空，不是 XML"
    line, column = exc.position  # expat counts columns from 0, people from 1
    return f"应答不是 XML（第 {line} 行第 {column + 1} 列出错）"


def call(url: str, body: str, username: str, password: str, timeout: float) -> ET.Element:
    """POST one operation; the response Body element, or CameraError."""
    req = urllib.request.Request(url, build_envelope(body, username, password), method="POST",
                                 headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    shown, status = shown_url(url), None
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = resp.read()
    except urllib.error.HTTPError as exc:
        # A SOAP fault comes with HTTP 400 or 500: its body says what went wrong.
        data, status = exc.read(), exc.code
        if exc.code == 401:
            raise CameraError("auth", f"{shown}：用户“{username}”认证失败（HTTP 401）") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise transport_error(url, exc, timeout) from None
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        http_status = f"HTTP {status}，" if status else ""
        raise CameraError("protocol", f"{shown}：{http_status}{not_xml(data, exc)}") from None
    flt = fault_text(root)
    if flt:
        codes, reason = flt
        said = f"，设备答复：{reason}" if reason else ""
        if "NotAuthorized" in codes or "not authorized" in reason.lower():
            raise CameraError("auth", f"{shown}：用户“{username}”认证失败（密码错误？）{said}")
        raise CameraError("fault", f"{shown}：设备返回错误 {'/'.join(codes) or '（无代码）'}{said}", codes)
    body = next((e for e in root if local(e.tag) == "Body"), None)
    if body is None:
        raise CameraError("protocol", f"{shown}：SOAP 应答没有 Body")
    return body


def texts(el: ET.Element, name: str) -> list[str]:
    return [e.text or "" for e in el.iter() if local(e.tag) == name]


def first(el: ET.Element, name: str) -> str | None:
    found = texts(el, name)
    return found[0] if found else None

"""SOAP parsing and WS-Security UsernameToken digest checking for the simulated camera."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


@dataclass
class Request:
    operation: str
    body: ET.Element
    username: str | None
    digest: str | None
    nonce: str | None
    created: str | None


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_request(data: bytes) -> Request:
    """The operation (first Body child's local name) and the UsernameToken, if any."""
    root = ET.fromstring(data)
    body = next(e for e in root if local(e.tag) == "Body")
    op = next(iter(body))
    user = digest = nonce = created = None
    for el in root.iter():
        name = local(el.tag)
        if name == "Username":
            user = el.text
        elif name == "Password":
            digest = el.text
        elif name == "Nonce":
            nonce = el.text
        elif name == "Created":
            created = el.text
    return Request(local(op.tag), op, user, digest, nonce, created)


def password_digest(nonce_b64: str, created: str, password: str) -> str:
    """PasswordDigest = base64(sha1(nonce + created + password))."""
    raw = base64.b64decode(nonce_b64) + created.encode() + password.encode()
    return base64.b64encode(hashlib.sha1(raw).digest()).decode()


def authorised(req: Request, username: str, password: str) -> bool:
    if req.username != username or not (req.digest and req.nonce and req.created):
        return False
    return password_digest(req.nonce, req.created, password) == req.digest


def find(el: ET.Element, name: str) -> ET.Element | None:
    """The first element (or el itself) with this local name."""
    return next((e for e in el.iter() if local(e.tag) == name), None)


def find_text(el: ET.Element, name: str) -> str | None:
    found = find(el, name)
    return None if found is None else found.text


def envelope(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl"'
        ' xmlns:trt="http://www.onvif.org/ver10/media/wsdl"'
        ' xmlns:tev="http://www.onvif.org/ver10/events/wsdl"'
        ' xmlns:tt="http://www.onvif.org/ver10/schema"'
        ' xmlns:ter="http://www.onvif.org/ver10/error"'
        ' xmlns:wsa="http://www.w3.org/2005/08/addressing"'
        ' xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2">'
        f"<s:Body>{inner}</s:Body></s:Envelope>"
    ).encode()


def fault(code: str, reason: str, detail: str | None = None, sender: bool = True) -> bytes:
    """A SOAP 1.2 fault as ONVIF words it: env:Sender or env:Receiver, then ter: subcodes
    (`code`, and `detail` as the second level, e.g. ter:InvalidArgVal / ter:NoProfile)."""
    inner = f"<s:Subcode><s:Value>{detail}</s:Value></s:Subcode>" if detail else ""
    return envelope(
        f"<s:Fault><s:Code><s:Value>s:{'Sender' if sender else 'Receiver'}</s:Value>"
        f"<s:Subcode><s:Value>{code}</s:Value>{inner}</s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en">{escape(reason)}</s:Text></s:Reason></s:Fault>'
    )

"""The ONVIF operations the simulated camera/NVR offers, answered to the ONVIF schemas
(onvif.xsd, devicemgmt/media/events WSDLs): every required element and attribute present, in
schema order, positions as attributes, faults with declared `ter:` subcodes. The conformance
tests (tests/cameras/test_onvif_conformance.py) call each one with onvif-zeep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from simulators.onvif.soap import envelope, fault, find, find_text

POSITIONS = ("UpperLeft", "UpperRight", "LowerLeft", "LowerRight", "Custom")
WIDTH, HEIGHT = 640, 480
TOPICS_NS = "http://www.onvif.org/ver10/topics"
TOPIC_DIALECT = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _later(seconds: int = 60) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def device_information() -> bytes:
    return envelope(
        "<tds:GetDeviceInformationResponse><tds:Manufacturer>GrainLink</tds:Manufacturer>"
        "<tds:Model>SimNVR</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion>"
        "<tds:SerialNumber>SIM0001</tds:SerialNumber><tds:HardwareId>sim</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>")


def system_date_and_time() -> bytes:
    now = datetime.now(UTC)
    return envelope(
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime>"
        f"<tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
        f"<tt:Second>{now.second}</tt:Second></tt:Time>"
        f"<tt:Date><tt:Year>{now.year}</tt:Year><tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day>"
        "</tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>")


def capabilities(base: str) -> bytes:
    return envelope(
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        f"<tt:Events><tt:XAddr>{base}/onvif/events</tt:XAddr>"
        "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
        "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
        "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
        "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>"
        f"<tt:Media><tt:XAddr>{base}/onvif/media</tt:XAddr><tt:StreamingCapabilities>"
        "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
        "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
        "</tds:Capabilities></tds:GetCapabilitiesResponse>")


def profiles(names: list[str]) -> bytes:
    items = "".join(
        f'<trt:Profiles token="{p}" fixed="true"><tt:Name>{p}</tt:Name>'
        f'<tt:VideoSourceConfiguration token="vsc_{p}"><tt:Name>vsc_{p}</tt:Name><tt:UseCount>1</tt:UseCount>'
        f'<tt:SourceToken>vs_{p}</tt:SourceToken><tt:Bounds x="0" y="0" width="{WIDTH}" height="{HEIGHT}"/>'
        "</tt:VideoSourceConfiguration></trt:Profiles>" for p in names)
    return envelope(f"<trt:GetProfilesResponse>{items}</trt:GetProfilesResponse>")


def media_uri(op: str, uri: str) -> bytes:
    return envelope(
        f"<trt:{op}Response><trt:MediaUri><tt:Uri>{escape(uri)}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
        f"</trt:MediaUri></trt:{op}Response>")


def no_profile(token: str | None) -> bytes:
    return fault("ter:InvalidArgVal", f"no profile {token}", "ter:NoProfile")


def not_supported(what: str) -> bytes:
    return fault("ter:ActionNotSupported", what, sender=False)


# ---- OSD ---------------------------------------------------------------------------------------

def osd_xml(tag: str, osd) -> str:
    pos = f'<tt:Pos x="{osd.x:g}" y="{osd.y:g}"/>' if osd.kind == "Custom" else ""
    return (
        f"<{tag} token={quoteattr(osd.token)}>"
        f"<tt:VideoSourceConfigurationToken>{escape(osd.vsc)}</tt:VideoSourceConfigurationToken>"
        f"<tt:Type>Text</tt:Type><tt:Position><tt:Type>{osd.kind}</tt:Type>{pos}</tt:Position>"
        f"<tt:TextString><tt:Type>Plain</tt:Type><tt:PlainText>{escape(osd.text)}</tt:PlainText>"
        f"</tt:TextString></{tag}>")


def get_osds(osds: list) -> bytes:
    return envelope("<trt:GetOSDsResponse>" + "".join(osd_xml("trt:OSDs", o) for o in osds)
                    + "</trt:GetOSDsResponse>")


def parse_osd(body) -> dict | str:
    """The fields of a CreateOSD/SetOSD request's tt:OSD, or the problem as text."""
    osd = find(body, "OSD")
    if osd is None:
        return "the request has no OSD element"
    fields = {"token": osd.get("token") or "", "vsc": find_text(osd, "VideoSourceConfigurationToken") or "",
              "kind": "UpperLeft", "x": -1.0, "y": 1.0, "text": ""}
    if (find_text(osd, "Type") or "").strip() != "Text":
        return "only Text OSDs are supported"
    position = find(osd, "Position")
    if position is None:
        return "the OSD has no Position"
    fields["kind"] = (position[0].text or "").strip() if len(position) else ""
    if fields["kind"] not in POSITIONS:
        return f"unknown position type {fields['kind']!r}"
    pos = find(position, "Pos")
    if pos is not None:
        try:
            fields["x"], fields["y"] = float(pos.get("x", -1)), float(pos.get("y", 1))
        except ValueError:
            return "Pos x/y are not numbers"
    elif fields["kind"] == "Custom":
        return "a Custom position needs Pos x/y"
    text = find(osd, "TextString")
    fields["text"] = (find_text(text, "PlainText") or "") if text is not None else ""
    return fields


def created(token: str) -> bytes:
    return envelope(f"<trt:CreateOSDResponse><trt:OSDToken>{escape(token)}</trt:OSDToken></trt:CreateOSDResponse>")


# ---- events ------------------------------------------------------------------------------------

def pull_point(base: str) -> bytes:
    return envelope(
        "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
        f"<wsa:Address>{base}/onvif/events</wsa:Address></tev:SubscriptionReference>"
        f"<wsnt:CurrentTime>{_now()}</wsnt:CurrentTime><wsnt:TerminationTime>{_later()}</wsnt:TerminationTime>"
        "</tev:CreatePullPointSubscriptionResponse>")


def pull_messages(events: list[tuple[str, bool]], source: str = "vs_profile_1") -> bytes:
    now = _now()
    msgs = "".join(
        f'<wsnt:NotificationMessage><wsnt:Topic Dialect="{TOPIC_DIALECT}" xmlns:tns1="{TOPICS_NS}">tns1:VideoSource/MotionAlarm'
        "</wsnt:Topic><wsnt:Message>"
        f'<tt:Message UtcTime="{now}" PropertyOperation="Changed"><tt:Source>'
        f'<tt:SimpleItem Name="Source" Value="{source}"/></tt:Source><tt:Data>'
        f'<tt:SimpleItem Name="State" Value="{str(v).lower()}"/></tt:Data></tt:Message></wsnt:Message>'
        "</wsnt:NotificationMessage>" for _, v in events)
    return envelope(f"<tev:PullMessagesResponse><tev:CurrentTime>{now}</tev:CurrentTime>"
                    f"<tev:TerminationTime>{_later()}</tev:TerminationTime>{msgs}</tev:PullMessagesResponse>")

"""The ONVIF operations the edge uses, on top of soap.call."""

from __future__ import annotations

import base64
import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from xml.sax.saxutils import escape

from edge.camera.shown import shown_url
from edge.camera.soap import CameraError, call, first, local, texts, transport_error


@dataclass
class Profile:
    token: str
    video_source_config: str | None


class OnvifCamera:
    """One ONVIF device (camera or NVR); `url` is its device service address."""

    def __init__(self, url: str, username: str, password: str, timeout: float = 5.0):
        self.url, self.username, self.password, self.timeout = url, username, password, timeout
        self.media_url: str | None = None
        self.events_url: str | None = None

    def _call(self, url: str, body: str):
        return call(url, body, self.username, self.password, self.timeout)

    def device_information(self) -> dict[str, str]:
        body = self._call(self.url, "<tds:GetDeviceInformation/>")
        return {k: first(body, k) or "" for k in ("Manufacturer", "Model", "FirmwareVersion", "SerialNumber")}

    def capabilities(self) -> None:
        body = self._call(self.url, "<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>")
        for el in body.iter():
            if local(el.tag) == "Media":
                self.media_url = first(el, "XAddr")
            elif local(el.tag) == "Events":
                self.events_url = first(el, "XAddr")
        self.media_url = self.media_url or self.url

    def profiles(self) -> list[Profile]:
        body = self._call(self._media(), "<trt:GetProfiles/>")
        out = []
        for el in body.iter():
            if local(el.tag) == "Profiles":
                vsc = next((e.get("token") for e in el.iter() if local(e.tag) == "VideoSourceConfiguration"), None)
                out.append(Profile(el.get("token") or "", vsc))
        return out

    def _media(self) -> str:
        if self.media_url is None:
            self.capabilities()
        return self.media_url or self.url

    def snapshot_uri(self, profile: str) -> str:
        body = self._call(self._media(), f"<trt:GetSnapshotUri><trt:ProfileToken>{escape(profile)}"
                                         "</trt:ProfileToken></trt:GetSnapshotUri>")
        uri = first(body, "Uri")
        if not uri:
            raise CameraError("protocol", f"{shown_url(self.url)}：GetSnapshotUri 没有返回抓图地址（Uri）")
        return uri

    def stream_uri(self, profile: str) -> str:
        body = self._call(self._media(), (
            "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>"
            f"<tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>{escape(profile)}"
            "</trt:ProfileToken></trt:GetStreamUri>"))
        return first(body, "Uri") or ""

    def fetch_snapshot(self, uri: str) -> bytes:
        """GET the still with HTTP basic or digest auth."""
        mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        mgr.add_password(None, uri, self.username, self.password)
        opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr),
                                             urllib.request.HTTPDigestAuthHandler(mgr))
        creds = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        req = urllib.request.Request(uri, headers={"Authorization": f"Basic {creds}"})
        try:
            with opener.open(req, timeout=self.timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise CameraError("auth", f"{shown_url(uri)}：抓图时用户“{self.username}”认证失败（HTTP 401）") \
                    from None
            raise CameraError("fault", f"{shown_url(uri)}：抓图失败（HTTP {exc.code}）") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise transport_error(uri, exc, self.timeout) from None

    # ---- on-screen display ---------------------------------------------------------------------
    def osd_texts(self, vsc: str | None = None) -> dict[str, str]:
        """token -> text of the device's text OSDs (of one video source configuration)."""
        ask = f"<trt:ConfigurationToken>{escape(vsc)}</trt:ConfigurationToken>" if vsc else ""
        body = self._call(self._media(), f"<trt:GetOSDs>{ask}</trt:GetOSDs>")
        return {el.get("token") or "": (first(el, "PlainText") or "")
                for el in body.iter() if local(el.tag) == "OSDs" and first(el, "Type") == "Text"}

    @staticmethod
    def _osd_body(text: str, vsc: str, token: str = "") -> str:
        return (
            f'<tt:OSD token="{escape(token)}"><tt:VideoSourceConfigurationToken>{escape(vsc)}'
            "</tt:VideoSourceConfigurationToken><tt:Type>Text</tt:Type><tt:Position><tt:Type>UpperLeft</tt:Type>"
            '<tt:Pos x="-1" y="1"/></tt:Position><tt:TextString><tt:Type>Plain</tt:Type>'
            f"<tt:PlainText>{escape(text)}</tt:PlainText></tt:TextString></tt:OSD>")

    def create_osd(self, vsc: str, text: str) -> str:
        body = self._call(self._media(), f"<trt:CreateOSD>{self._osd_body(text, vsc)}</trt:CreateOSD>")
        token = first(body, "OSDToken")
        if not token:
            raise CameraError("protocol", f"{shown_url(self.url)}：CreateOSD 没有返回 OSD 令牌（token）")
        return token

    def set_osd(self, token: str, vsc: str, text: str) -> None:
        self._call(self._media(), f"<trt:SetOSD>{self._osd_body(text, vsc, token)}</trt:SetOSD>")

    # ---- events ----------------------------------------------------------------------------------
    def create_pull_point(self) -> str | None:
        if self.events_url is None:
            self.capabilities()
        if not self.events_url:
            return None
        body = self._call(self.events_url, "<tev:CreatePullPointSubscription/>")
        return first(body, "Address") or self.events_url

    def pull_messages(self, address: str) -> list[tuple[str, bool]]:
        """(topic, state) of each queued notification."""
        body = self._call(address, "<tev:PullMessages><tev:Timeout>PT1S</tev:Timeout>"
                                   "<tev:MessageLimit>50</tev:MessageLimit></tev:PullMessages>")
        out = []
        for el in body.iter():
            if local(el.tag) == "NotificationMessage":
                topic = first(el, "Topic") or ""
                # The state is in tt:Data; tt:Source's items only name the video source.
                data = next((e for e in el.iter() if local(e.tag) == "Data"), el)
                state = next((e.get("Value") for e in data.iter() if local(e.tag) == "SimpleItem"), "true")
                out.append((topic, str(state).lower() == "true"))
        return out


__all__ = ["CameraError", "OnvifCamera", "Profile", "texts"]

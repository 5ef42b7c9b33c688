"""The simulated camera's RTSP H.264 stream: GStreamer's RTSP server (Debian's
gir1.2-gst-rtsp-server-1.0, run by the system Python with python3-gi), one mount per media
profile, each drawing the profile's OSD texts where their positions say (textoverlay, in a CJK
font), updated from the simulated camera as the edge sets them.

Started by `SimulatedCamera(rtsp=True)` as `/usr/bin/python3 rtsp_server.py PORT OSD_URL
PROFILE...`; it prints "ready" once listening. Only the standard library and gi here: it runs
outside the project's virtual environment.
"""

from __future__ import annotations

import json
import sys
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# ONVIF position type -> textoverlay (valignment, halignment)
ALIGN = {"UpperLeft": ("top", "left"), "UpperRight": ("top", "right"),
         "LowerLeft": ("bottom", "left"), "LowerRight": ("bottom", "right")}

PIPELINE = (
    "( videotestsrc is-live=true pattern=smpte ! video/x-raw,width=640,height=480,framerate=25/1 "
    "! textoverlay name=osd font-desc=\"Noto Sans CJK SC 20\" shaded-background=true "
    "valignment=top halignment=left text=\"\" "
    "! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=600 "
    "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


class Overlays:
    """The textoverlay element of each running media, by profile, kept in step with the OSD."""

    def __init__(self, osd_url: str):
        self.osd_url = osd_url
        self.elements: dict[str, list] = {}

    def configure(self, profile: str, media) -> None:
        element = media.get_element().get_by_name("osd")
        self.elements.setdefault(profile, []).append(element)
        media.connect("unprepared", lambda _m: self.elements[profile].remove(element))
        self.apply(profile, [element])

    def apply(self, profile: str, elements: list) -> None:
        try:
            with urllib.request.urlopen(f"{self.osd_url}/{profile}", timeout=1) as resp:
                osds = json.load(resp)
        except (OSError, ValueError):
            return
        text, kind, x, y = osds[0] if osds else ("", "UpperLeft", -1.0, 1.0)
        for element in elements:
            element.set_property("text", text)
            if kind == "Custom":
                element.set_property("valignment", "position")
                element.set_property("halignment", "position")
                element.set_property("xpos", min(max((x + 1) / 2, 0.0), 1.0))
                element.set_property("ypos", min(max((1 - y) / 2, 0.0), 1.0))
            else:
                valign, halign = ALIGN.get(kind, ALIGN["UpperLeft"])
                element.set_property("valignment", valign)
                element.set_property("halignment", halign)

    def tick(self) -> bool:
        for profile, elements in self.elements.items():
            self.apply(profile, elements)
        return True


def main(argv: list[str]) -> int:
    port, osd_url, profiles = argv[0], argv[1], argv[2:]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    overlays = Overlays(osd_url)
    mounts = server.get_mount_points()
    for profile in profiles:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(PIPELINE)
        factory.set_shared(True)
        factory.connect("media-configure", lambda _f, media, p=profile: overlays.configure(p, media))
        mounts.add_factory(f"/{profile}", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", flush=True)
        return 1
    GLib.timeout_add(500, overlays.tick)
    print("ready", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

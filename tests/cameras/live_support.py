"""The live-view tests' media server: the demo's (grainlink/demo/media.py), Debian's nginx with
its RTMP module on free loopback ports."""

from grainlink.demo.media import MediaServer, missing_parts, start_media_server

__all__ = ["MediaServer", "missing_parts", "start_media_server"]

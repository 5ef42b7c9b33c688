"""One frame from the camera's RTSP stream with OpenCV, for devices without a snapshot URI."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import cv2

from edge.camera.shown import shown_url
from edge.camera.soap import CameraError


def with_credentials(uri: str, username: str, password: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("rtsp", "rtsps") or not username or "@" in parts.netloc:
        return uri
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def grab_frame(uri: str, username: str, password: str, timeout_s: float) -> object:
    """The first decodable frame (a BGR array), or CameraError(kind="unreachable")."""
    cap = cv2.VideoCapture()
    ms = int(timeout_s * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
    try:
        if not cap.open(with_credentials(uri, username, password), cv2.CAP_ANY, params):
            raise CameraError("unreachable", f"{shown_url(uri)}：无法打开视频流")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise CameraError("unreachable", f"{shown_url(uri)}：视频流没有送出画面")
        return frame
    finally:
        cap.release()

"""Stills: the overlay text, stamping it on a picture, and fitting a JPEG under the size limit.

OpenCV's Hershey fonts cannot draw CJK, so a stamped overlay is transliterated to ASCII
("仓温 17.9℃ 仓湿 63.5%" -> "T 17.9C RH 63.5%"); the message's `overlay` field keeps the
original text.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_STILL_BYTES = 200 * 1024
_ASCII = {"仓温": "T", "仓湿": "RH", "℃": "C"}


class StillError(Exception):
    """The picture could not be decoded or made small enough."""


def overlay_text(temp_c: float | None, rh_pct: float | None) -> str:
    t = "--" if temp_c is None else f"{temp_c:.1f}"
    rh = "--" if rh_pct is None else f"{rh_pct:.1f}"
    return f"仓温 {t}℃ 仓湿 {rh}%"


def ascii_overlay(text: str) -> str:
    for cjk, asc in _ASCII.items():
        text = text.replace(cjk, asc)
    return "".join(ch if ord(ch) < 128 else "?" for ch in text)


def decode(jpeg: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise StillError(f"the camera's picture ({len(jpeg)} bytes) is not a decodable image")
    return img


def stamp(img: np.ndarray, text: str) -> np.ndarray:
    """Draw `text` top-left on a dark band so it reads on any scene."""
    out = img.copy()
    label = ascii_overlay(text)
    (w, h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.8, 2)
    cv2.rectangle(out, (0, 0), (w + 16, h + base + 16), (0, 0, 0), -1)
    cv2.putText(out, label, (8, h + 8), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
    return out


def fit_jpeg(img: np.ndarray, max_bytes: int = MAX_STILL_BYTES,
             qualities: tuple[int, ...] = (90, 80, 70, 60, 50, 40, 30)) -> bytes:
    """Re-encode with decreasing quality, then halve the scale, until it fits `max_bytes`."""
    scaled = img
    while True:
        for q in qualities:
            ok, buf = cv2.imencode(".jpg", scaled, [cv2.IMWRITE_JPEG_QUALITY, q])
            if ok and len(buf) <= max_bytes:
                return buf.tobytes()
        h, w = scaled.shape[:2]
        if min(h, w) < 32:
            raise StillError(f"cannot encode the still under {max_bytes} bytes")
        scaled = cv2.resize(scaled, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def prepare_still(jpeg: bytes, stamp_text: str | None, max_bytes: int = MAX_STILL_BYTES) -> bytes:
    """The still as sent: stamped if asked, kept as is when already small enough."""
    if stamp_text is None and len(jpeg) <= max_bytes:
        decode(jpeg)  # still verify it is a picture
        return jpeg
    img = decode(jpeg)
    if stamp_text is not None:
        img = stamp(img, stamp_text)
    return fit_jpeg(img, max_bytes)

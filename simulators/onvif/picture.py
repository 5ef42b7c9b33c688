"""Render the simulated camera's JPEG: a grain-store scene with the OSD text at its position.

OpenCV's Hershey fonts have no CJK glyphs, so the text is transliterated to ASCII before it is
drawn ("仓温 17.9℃ 仓湿 63.5%" -> "T 17.9C RH 63.5%"); the OSD text itself is kept verbatim.
"""

from __future__ import annotations

import cv2
import numpy as np

_ASCII = {"仓温": "T", "仓湿": "RH", "℃": "C", "°": ""}


def ascii_overlay(text: str) -> str:
    for cjk, asc in _ASCII.items():
        text = text.replace(cjk, asc)
    return "".join(ch if ord(ch) < 128 else "?" for ch in text)


def render(texts: list[tuple[str, float, float]], width: int = 640, height: int = 480,
           seed: int = 0, quality: int = 90) -> bytes:
    """JPEG of a plain scene with each (text, x, y) drawn; x, y are ONVIF -1..1 (top-left = -1, 1)."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), (70, 90, 110), np.uint8)
    cv2.rectangle(img, (0, height * 2 // 3), (width, height), (60, 160, 200), -1)  # the grain
    img = cv2.add(img, rng.integers(0, 12, img.shape, dtype=np.uint8))
    for text, x, y in texts:
        px = int((x + 1) / 2 * width) + 8
        py = int((1 - y) / 2 * height) + 28
        cv2.putText(img, ascii_overlay(text), (px, py), cv2.FONT_HERSHEY_SIMPLEX, 0.8,
                    (255, 255, 255), 2, cv2.LINE_AA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()

"""Stills: the overlay text, stamping it on a picture, and fitting a JPEG under the size limit.

The stamped text is drawn as staff write it ("仓温 17.9℃ 仓湿 63.5%") with a CJK font through
Pillow (OpenCV's own fonts have no CJK glyphs); common/fonts.py finds the font and names the
package to install when there is none.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from common.fonts import FontMissing, cjk_font

MAX_STILL_BYTES = 200 * 1024


class StillError(Exception):
    """The picture could not be decoded or made small enough (the message is for people:
    Chinese)."""


OVERLAY_PREFIX = "仓温 "


def overlay_text(temp_c: float | None, rh_pct: float | None) -> str:
    t = "--" if temp_c is None else f"{temp_c:.1f}"
    rh = "--" if rh_pct is None else f"{rh_pct:.1f}"
    return f"{OVERLAY_PREFIX}{t}℃ 仓湿 {rh}%"


def decode(jpeg: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise StillError(f"摄像机给的图片（{len(jpeg)} 字节）无法解码")
    return img


def stamp(img: np.ndarray, text: str) -> np.ndarray:
    """Draw `text` top-left on a dark band so it reads on any scene (BGR in, BGR out)."""
    size = max(14, img.shape[0] // 18)  # readable on a 480-line still and a 4K frame alike
    try:
        font = cjk_font(size)
    except FontMissing as exc:
        raise StillError(str(exc)) from None
    left, top, right, bottom = font.getbbox(text)
    pil = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    pen = ImageDraw.Draw(pil)
    pad = size // 3
    pen.rectangle((0, 0, right - left + 2 * pad, bottom - top + 2 * pad), fill=(0, 0, 0))
    pen.text((pad - left, pad - top), text, font=font, fill=(255, 255, 255))
    return cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)


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
            raise StillError(f"无法把抓图压缩到 {max_bytes} 字节以内")
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

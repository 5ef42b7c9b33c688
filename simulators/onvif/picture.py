"""Render the simulated camera's picture: a grain-store scene with each OSD text where its
position says (UpperLeft, UpperRight, LowerLeft, LowerRight, or Custom x/y), drawn in a CJK
font so "仓温 17.9℃" reads as the camera would show it."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw

from common.fonts import cjk_font

MARGIN = 8


def text_box(text: str, size: int) -> tuple[int, int]:
    left, top, right, bottom = cjk_font(size).getbbox(text)
    return right - left, bottom - top


def place(kind: str, x: float, y: float, box: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """Top-left pixel of a text box; Custom uses ONVIF's -1..1 frame (x right, y up)."""
    w, h = box
    if kind == "UpperRight":
        return width - w - MARGIN, MARGIN
    if kind == "LowerLeft":
        return MARGIN, height - h - 2 * MARGIN
    if kind == "LowerRight":
        return width - w - MARGIN, height - h - 2 * MARGIN
    if kind == "Custom":
        px = int((x + 1) / 2 * width)
        py = int((1 - y) / 2 * height)
        return min(max(px, 0), width - w), min(max(py, 0), height - h - MARGIN)
    return MARGIN, MARGIN  # UpperLeft, and any type the device does not know


def scene(width: int = 640, height: int = 480, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), (70, 90, 110), np.uint8)
    cv2.rectangle(img, (0, height * 2 // 3), (width, height), (60, 160, 200), -1)  # the grain
    return cv2.add(img, rng.integers(0, 12, img.shape, dtype=np.uint8))


def draw(img: np.ndarray, texts: list[tuple[str, str, float, float]], size: int = 26) -> np.ndarray:
    """Each (text, position type, x, y) drawn white on a dark band (BGR in, BGR out)."""
    if not texts:
        return img
    h, w = img.shape[:2]
    pil = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    pen = ImageDraw.Draw(pil)
    font = cjk_font(size)
    for text, kind, x, y in texts:
        box = text_box(text, size)
        px, py = place(kind, x, y, box, w, h)
        pen.rectangle((px - 4, py - 2, px + box[0] + 6, py + box[1] + 10), fill=(0, 0, 0))
        pen.text((px, py - font.getbbox(text)[1]), text, font=font, fill=(255, 255, 255))
    return cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)


def render(texts: list[tuple[str, str, float, float]], width: int = 640, height: int = 480,
           seed: int = 0, quality: int = 90) -> bytes:
    """JPEG of the scene with the OSD texts drawn."""
    img = draw(scene(width, height, seed), texts)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()

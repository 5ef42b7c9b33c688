"""Pure parts: overlay text, stamping, fitting a still under the limit, hold time, digest."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from common import fonts
from edge.camera.health import HealthTracker
from edge.camera.service import indoor_overlays
from edge.camera.soap import password_digest
from edge.camera.still import (
    MAX_STILL_BYTES,
    StillError,
    fit_jpeg,
    overlay_text,
    prepare_still,
    stamp,
)
from protocols.depot.model import Camera
from protocols.mqtt.models import AirReading
from simulators.onvif import soap as sim_soap


def test_overlay_text():
    assert overlay_text(17.9, 63.5) == "仓温 17.9℃ 仓湿 63.5%"
    assert overlay_text(None, 63.5) == "仓温 --℃ 仓湿 63.5%"


def test_stamped_text_is_drawn_in_cjk_glyphs():
    img = np.full((480, 640, 3), 100, np.uint8)
    # Transliterated to ASCII, both would be the same "?? 17.9?" label; drawn as CJK they differ.
    a, b = stamp(img, "粮温 17.9℃"), stamp(img, "粮湿 17.9℃")
    assert np.abs(a.astype(int) - b.astype(int))[:40, :120].sum() > 1000
    assert fonts.cjk_font(20).getbbox("仓")[2] > fonts.cjk_font(20).getbbox("i")[2]


def test_a_missing_cjk_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(fonts, "CANDIDATES", ())
    with pytest.raises(fonts.FontMissing, match="fonts-noto-cjk"):
        fonts.cjk_font_path(environ={})
    with pytest.raises(fonts.FontMissing, match="GRAINLINK_CJK_FONT=/nowhere.ttf"):
        fonts.cjk_font_path(environ={"GRAINLINK_CJK_FONT": "/nowhere.ttf"})
    monkeypatch.setenv("GRAINLINK_CJK_FONT", "/nowhere.ttf")
    with pytest.raises(StillError, match="没有这个字体文件"):
        stamp(np.zeros((100, 100, 3), np.uint8), "仓温")


def test_a_noisy_huge_picture_is_fitted_under_the_limit():
    noise = np.random.default_rng(1).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    jpeg = fit_jpeg(noise)
    assert len(jpeg) <= MAX_STILL_BYTES
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) is not None
    ok, big = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert len(big) > MAX_STILL_BYTES and len(prepare_still(big.tobytes(), None)) <= MAX_STILL_BYTES


def test_not_a_picture_is_a_clear_error():
    with pytest.raises(StillError, match=r"图片（18 字节）无法解码"):
        prepare_still(b"<html>login</html>", None)


def test_stamp_changes_only_the_top_left():
    img = np.full((480, 640, 3), 100, np.uint8)
    out = stamp(img, "仓温 17.9℃ 仓湿 63.5%")
    diff = np.abs(out.astype(int) - img.astype(int))
    assert diff[:40, :260].mean() > 20
    assert diff[240:, 320:].max() == 0


def test_hold_time_before_offline_and_back_online():
    h = HealthTracker(offline_after=10)
    assert h.failure(0, "timeout", "x") is None
    assert h.failure(9, "timeout", "x") is None and not h.ok and h.online
    assert h.failure(10, "timeout", "x") == "camera_offline"
    assert h.failure(20, "timeout", "x") is None
    assert h.success(21) == "camera_online" and h.ok
    assert h.success(22) is None


def test_password_digest_matches_the_simulator():
    nonce = b"0123456789abcdef"
    created = "2026-11-22T08:00:00Z"
    edge = password_digest(nonce, created, "s3cret")
    assert edge == sim_soap.password_digest(base64.b64encode(nonce).decode(), created, "s3cret")
    assert edge != password_digest(nonce, created, "other")


def test_indoor_overlays_take_the_newest_indoor_reading_of_the_granary():
    t0, t1 = datetime(2026, 11, 22, 8, tzinfo=UTC), datetime(2026, 11, 22, 9, tzinfo=UTC)
    air = [AirReading(ts=t1, granary="P01", place="indoor", temp_c=18.0, rh_pct=60.0),
           AirReading(ts=t0, granary="P01", place="indoor", temp_c=17.0, rh_pct=61.0),
           AirReading(ts=t1, granary=None, place="outdoor", temp_c=5.0, rh_pct=90.0)]
    cams = [Camera(camera="C1", granary="P01"), Camera(camera="C2", granary="P02"), Camera(camera="C3")]
    assert indoor_overlays(cams, air) == {"C1": "仓温 18.0℃ 仓湿 60.0%"}

"""The edge's side of live view, its pure rules: what reaches the log of FFmpeg's words (no
camera password, no publish key), and how long a stream runs when central's key ends first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edge.camera.live import redacted, stream_span
from edge.camera.shown import shown_text
from protocols.mqtt.codec import decode_message, encode_message
from protocols.mqtt.models import Command
from protocols.mqtt.topics import CMD, topic_for

KEY = "k" * 32
TOPIC = topic_for("D1", CMD)


def test_ffmpeg_error_output_loses_passwords_and_keys():
    err = ("[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized\n"
           "rtsp://admin:S3cr%40t@10.0.0.5:554/Streaming/Channels/101: Server returned 401\n"
           f"rtmp://media:1935/live/D1.CAM-1?key={KEY}: Input/output error\n"
           "http://cam/snap.cgi?usr=admin&pwd=hunter2 failed")
    shown = shown_text(err)
    for secret in ("S3cr%40t", KEY, "hunter2"):
        assert secret not in shown
    assert "rtsp://admin:…@10.0.0.5:554/Streaming/Channels/101" in shown
    assert "D1.CAM-1?key=…" in shown and "usr=admin&pwd=…" in shown
    assert shown_text("no url here: Connection refused") == "no url here: Connection refused"


def test_the_log_target_hides_the_key():
    target = f"rtmp://media:1935/live/D1.CAM-1?key={KEY}"
    assert redacted(target) == "rtmp://media:1935/live/D1.CAM-1?key=…"


@pytest.mark.parametrize(("duration", "left", "span"), [
    (600.0, None, 600.0),       # central said nothing: the depot's own duration
    (600.0, 330.0, 330.0),      # a 10-minute duration is cut where central's key ends
    (300.0, 330.0, 300.0),      # the shorter of the two
    (300.0, -5.0, 0.0),         # the key already ended
])
def test_stream_span(duration, left, span):
    assert stream_span(duration, left) == span


def test_live_start_carries_the_keys_end():
    until = datetime(2026, 12, 2, 8, 5, 30, tzinfo=UTC)
    cmd = Command(depot="D1", id="5f0c6a5e-2d6c-4c39-9a3e-0e7f7f0f0f01", action="live_start", granary=None,
                  camera="CAM-1", live_key=KEY, live_until=until, issued_at=until - timedelta(seconds=330))
    again = decode_message(TOPIC, encode_message(cmd))
    assert again.live_until == until
    stop = Command(depot="D1", id="5f0c6a5e-2d6c-4c39-9a3e-0e7f7f0f0f02", action="live_stop", granary=None,
                   camera="CAM-1", issued_at=until)
    assert "live_until" not in stop.model_dump(mode="json")
    with pytest.raises(ValueError, match="live_until"):
        Command(depot="D1", id="5f0c6a5e-2d6c-4c39-9a3e-0e7f7f0f0f03", action="live_stop", granary=None,
                camera="CAM-1", live_until=until, issued_at=until)

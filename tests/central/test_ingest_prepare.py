"""The pure part of ingest: decoding, rows, time flags (no I/O)."""

from __future__ import annotations

from datetime import timedelta

from central.db.aggregates import CLOCK_SKEWED, IMPLAUSIBLE_TIME
from central.ingest.prepare import (
    TimeLimits,
    _copy_value,
    prepare,
    telemetry_copy,
    telemetry_rows,
    time_flags,
    topic_depot,
)
from central.ingest.worker import subscriptions
from tests.central.ingest_support import encode, now_utc, status, telemetry, unique_depot


def test_copy_text_matches_the_rows():
    depot = unique_depot()
    body = telemetry(depot, 5)
    body["grain"][0]["temps_c"] = [14.8, None, None, 16.0]
    body["grain"][0]["faults"] = [2]
    item = prepare(f"grainlink/v1/{depot}/telemetry", encode(body), now_utc())
    grain, air = telemetry_rows(item.message, item.received_at)
    (grain_text, n), (air_text, m) = telemetry_copy(item.message, item.received_at)
    as_text = ["\t".join(_copy_value(v) for v in row) for row in grain]
    assert grain_text.decode().splitlines() == as_text
    assert n == len(grain) == 7  # layer 3 of cable 1: no sensor, no row
    assert (1, 2) in {(r[2], r[3]) for r in grain if r[6]}  # the fault is kept as a row
    assert air_text.decode().splitlines() == ["\t".join(_copy_value(v) for v in r) for r in air]
    assert m == 2 and air[1][1] == ""  # outdoor air: granary ''


def test_time_flags():
    now = now_utc()
    limits = TimeLimits(skew_tolerance_s=300, max_age_days=400)
    assert time_flags(now - timedelta(days=3), now, limits) == 0
    assert time_flags(now + timedelta(minutes=4), now, limits) == 0
    assert time_flags(now + timedelta(minutes=6), now, limits) == IMPLAUSIBLE_TIME
    assert time_flags(now - timedelta(days=401), now, limits) == IMPLAUSIBLE_TIME


def test_clock_ahead_flags_every_reading_of_the_message():
    depot = unique_depot()
    body = telemetry(depot, 1, sent_at=now_utc() + timedelta(hours=1), air=False)
    item = prepare(f"grainlink/v1/{depot}/telemetry", encode(body), now_utc())
    assert item.clock_ahead and item.clock_off and item.skew_s > 3500
    grain, _ = telemetry_rows(item.message, item.received_at, clock_ahead=True)
    assert {r[8] for r in grain} == {CLOCK_SKEWED}


def test_retained_status_says_nothing_about_the_clock():
    depot = unique_depot()
    old = status(depot, at=now_utc() - timedelta(days=2))
    item = prepare(f"grainlink/v1/{depot}/status", encode(old), now_utc(), retained=True)
    assert item.ok and item.skew_s is None and not item.clock_off


def test_rejections_keep_the_topic_depot():
    item = prepare("grainlink/v1/D-1/telemetry", b"{", now_utc())
    assert not item.ok and item.depot == "D-1" and "消息不是 JSON" in str(item.error)
    assert topic_depot("elsewhere/x") is None
    item = prepare("grainlink/v1/D-1/unknown", b"{}", now_utc())
    assert not item.ok and item.depot == "D-1" and "未知的主题类别" in str(item.error)


def test_subscriptions_shared_and_not():
    plain = dict(subscriptions(False))
    assert "grainlink/v1/+/telemetry" in plain and "grainlink/v1/+/layout" in plain
    shared = dict(subscriptions(True, extra_kinds={"snapshot"}))
    assert "$share/grainlink-ingest/grainlink/v1/+/telemetry" in shared
    assert "$share/grainlink-ingest/grainlink/v1/+/snapshot" in shared
    # every worker sees layout and status (idempotent upserts), never split
    assert "grainlink/v1/+/status" in shared and "grainlink/v1/+/layout" in shared
    assert set(shared.values()) == {1}


def test_an_empty_retained_payload_is_a_cleared_message_not_garbage():
    depot = unique_depot()
    for kind in ("layout", "status"):
        item = prepare(f"grainlink/v1/{depot}/{kind}", b"", now_utc(), retained=True)
        assert item.ok and item.cleared and item.message is None and item.depot == depot
    # on a topic that is never retained an empty payload is still refused, and named
    item = prepare(f"grainlink/v1/{depot}/telemetry", b"", now_utc())
    assert not item.ok and not item.cleared and "JSON" in str(item.error)

"""The SQLite outbox on its own: numbering, splitting, draining, limits, history."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from common.backoff import jittered_delay as backoff_delay
from edge.outbox.limits import count_readings, rows_to_drop
from edge.outbox.outbox import Outbox, OutboxFull
from protocols.depot.model import Buffer
from protocols.mqtt import topics
from protocols.mqtt.codec import decode_message
from protocols.mqtt.models import Event
from tests.edge.scan_samples import T0, granary_scan

DEPOT = "T-OUTBOX"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make(tmp_path, **limits) -> Outbox:
    return Outbox(tmp_path / "edge.sqlite", DEPOT, Buffer(**limits), clock=Clock())


def decode_all(outbox: Outbox, limit: int = 10_000):
    return [(m, decode_message(m.topic, m.payload)) for m in outbox.next_pending(limit)]


def test_batches_number_from_one_and_survive_reopen(tmp_path):
    outbox = make(tmp_path)
    assert outbox.add_telemetry(*granary_scan("P01", T0)) == [1]
    assert outbox.add_telemetry(*granary_scan("P02", T0)) == [2]
    outbox.close()
    outbox = make(tmp_path)
    assert outbox.last_batch == 2
    assert outbox.add_telemetry(*granary_scan("P03", T0)) == [3]
    msgs = decode_all(outbox)
    assert [m.batch for _, m in msgs] == [1, 2, 3]
    assert [m.grain[0].granary for _, m in msgs] == ["P01", "P02", "P03"]


def test_acked_batch_numbers_are_never_reused(tmp_path):
    outbox = make(tmp_path)
    outbox.add_telemetry(*granary_scan("P01", T0))
    outbox.mark_acked_many([m.id for m in outbox.next_pending(10)])
    assert outbox.stats().pending == 0
    assert outbox.add_telemetry(*granary_scan("P01", T0 + timedelta(hours=1))) == [2]


def test_big_scan_is_split_below_limit_and_each_part_numbered(tmp_path):
    outbox = make(tmp_path)
    grain, air = granary_scan("P01", T0, cables=999, layers=40)
    batches = outbox.add_telemetry(grain, air)
    assert len(batches) >= 2 and batches == list(range(1, len(batches) + 1))
    msgs = decode_all(outbox)
    assert all(len(m.payload) < 256 * 1024 for m, _ in msgs)
    got = [(g.cable, g.temps_c) for _, t in msgs for g in t.grain]
    assert got == [(g.cable, g.temps_c) for g in grain]
    assert sum(len(t.air) for _, t in msgs) == 1


def test_sent_at_is_stamped_once_at_first_handout_and_resends_are_identical(tmp_path):
    clock = Clock()
    outbox = Outbox(tmp_path / "e.sqlite", DEPOT, clock=clock)
    outbox.add_telemetry(*granary_scan("P01", T0))
    clock.now = T0 + timedelta(days=3, microseconds=1234)
    first = outbox.next_pending(10)
    msg = decode_message(first[0].topic, first[0].payload)
    assert msg.sent_at == T0 + timedelta(days=3)
    clock.now = T0 + timedelta(days=4)
    again = Outbox(tmp_path / "e.sqlite", DEPOT, clock=clock).next_pending(10)
    assert again[0].payload == first[0].payload


def test_drain_order_results_and_events_first_then_telemetry_oldest_first(tmp_path):
    outbox = make(tmp_path)
    outbox.add_telemetry(*granary_scan("P01", T0))
    outbox.add_telemetry(*granary_scan("P02", T0))
    event = Event(depot=DEPOT, ts=T0, kind="agent_started", subject=None, detail={})
    outbox.add_message(topics.EVENTS, event)
    pending = outbox.next_pending(10)
    assert [m.kind for m in pending] == ["events", "telemetry", "telemetry"]
    assert [m.batch for m in pending[1:]] == [1, 2]
    later = outbox.next_pending(10, exclude={pending[0].id, pending[1].id})
    assert [m.batch for m in later] == [2]


def test_add_message_rejects_unknown_kind(tmp_path):
    outbox = make(tmp_path)
    event = Event(depot=DEPOT, ts=T0, kind="agent_started", subject=None, detail={})
    with pytest.raises(ValueError, match="outbox kind 'layout'"):
        outbox.add_message("layout", event)


def test_drop_oldest_counts_every_dropped_reading_and_queues_event(tmp_path):
    outbox = make(tmp_path, max_rows=3)
    scans = [granary_scan(f"P0{i}", T0) for i in range(1, 6)]
    for grain, air in scans:
        outbox.add_telemetry(grain, air)
    per_scan = count_readings(*scans[0])
    stats = outbox.stats()
    # Each drop queues a buffer_dropped event, which also takes room: count what is left.
    msgs = decode_all(outbox)
    tele = [m for _, m in msgs if m.SCHEMA_ID == "grainlink.telemetry/1"]
    events = [m for _, m in msgs if m.SCHEMA_ID == "grainlink.event/1"]
    kept = {t.batch for t in tele}
    assert 5 in kept and 1 not in kept
    dropped_batches = 5 - len(kept)
    assert stats.dropped_total == dropped_batches * per_scan
    assert events and events[-1].kind == "buffer_dropped"
    assert events[-1].detail["dropped_total"] == stats.dropped_total
    assert events[-1].detail["reason"] == "缓存已满，丢弃最早的数据"  # shown on central's pages


def test_reject_new_refuses_scan_counts_it_and_keeps_old(tmp_path):
    outbox = make(tmp_path, max_rows=2, when_full="reject_new")
    outbox.add_telemetry(*granary_scan("P01", T0))
    outbox.add_telemetry(*granary_scan("P02", T0))
    scan = granary_scan("P03", T0)
    with pytest.raises(OutboxFull, match="缓存已满（reject_new）"):
        outbox.add_telemetry(*scan)
    assert outbox.stats().dropped_total == count_readings(*scan)
    msgs = decode_all(outbox)
    assert [m.batch for _, m in msgs if hasattr(m, "batch")] == [1, 2]
    assert [m.detail["reason"] for _, m in msgs if getattr(m, "kind", None) == "buffer_dropped"] \
        == ["缓存已满，拒收新数据"]
    # A refused scan consumes no batch number: the next accepted one continues at 3.
    outbox.mark_acked_many([m.id for m, _ in msgs])
    assert outbox.add_telemetry(*scan) == [3]


def test_age_limit_drops_old_rows_on_housekeeping(tmp_path):
    clock = Clock()
    outbox = Outbox(tmp_path / "e.sqlite", DEPOT, Buffer(max_age=3600), clock=clock)
    outbox.add_telemetry(*granary_scan("P01", T0))
    clock.now = T0 + timedelta(minutes=30)
    outbox.add_telemetry(*granary_scan("P02", T0))
    clock.now = T0 + timedelta(minutes=61)
    result = outbox.housekeep()
    assert result["expired"] == 1
    batches = [m.batch for m in outbox.next_pending(10) if m.batch]
    assert batches == [2]
    assert outbox.stats().dropped_total == count_readings(*granary_scan("P01", T0))
    events = [m for _, m in decode_all(outbox) if getattr(m, "kind", None) == "buffer_dropped"]
    assert [e.detail["reason"] for e in events] == ["超过 3600 秒未发出，已丢弃"]


def test_stats_report_pending_and_oldest(tmp_path):
    outbox = make(tmp_path)
    assert outbox.stats().pending == 0 and outbox.stats().oldest is None
    outbox.add_telemetry(*granary_scan("P01", T0))
    stats = outbox.stats()
    assert stats.pending == 1 and stats.oldest == T0 and stats.dropped_total == 0


def test_history_latest_and_since_and_pruning(tmp_path):
    clock = Clock()
    outbox = Outbox(tmp_path / "e.sqlite", DEPOT, Buffer(history_days=7), clock=clock)
    for day in range(10):
        outbox.add_telemetry(*granary_scan("P01", T0 + timedelta(days=day), cables=3))
    latest = outbox.history_latest("P01")
    grain, air = granary_scan("P01", T0 + timedelta(days=9), cables=3)
    assert latest.ts == T0 + timedelta(days=9)
    assert latest.cables == {g.cable: g.temps_c for g in grain}
    assert latest.faults[1] == [4]
    assert latest.indoor.temp_c == 17.9
    summary = latest.summary()
    assert summary["points"] == 12 and summary["valid"] == 11 and summary["faults"] == 1
    assert outbox.history_latest("P99") is None
    clock.now = T0 + timedelta(days=9, hours=1)
    outbox.housekeep()
    kept, kept_air = outbox.history_since("P01", T0)
    assert {g.ts for g in kept} == {T0 + timedelta(days=d) for d in range(3, 10)}
    assert len(kept_air) == 7


def test_crash_between_counter_and_insert_cannot_happen(tmp_path):
    """The counter and the rows are one transaction: a failure mid-way leaves neither."""
    outbox = make(tmp_path)
    outbox.add_telemetry(*granary_scan("P01", T0))
    outbox.db.execute(
        "CREATE TRIGGER fail_insert BEFORE INSERT ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    with pytest.raises(sqlite3.DatabaseError, match="disk trouble"):
        outbox.add_telemetry(*granary_scan("P02", T0))
    outbox.db.execute("DROP TRIGGER fail_insert")
    assert outbox.last_batch == 1
    assert outbox.add_telemetry(*granary_scan("P02", T0)) == [2]


def test_database_is_wal_with_full_sync(tmp_path):
    outbox = make(tmp_path)
    assert outbox.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert outbox.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_rows_to_drop_pure():
    limits = Buffer(max_rows=3)
    assert rows_to_drop([1, 2, 3], 3, 1, limits) == [1]
    assert rows_to_drop([1, 2, 3], 3, 0, limits) == []
    assert rows_to_drop([1, 2, 3], 3, 2, limits) == [1, 2]


def test_limits_validation_names_the_setting():
    with pytest.raises(ValueError, match="when_full"):
        Buffer(when_full="drop_newest")
    with pytest.raises(ValueError, match="max_rows"):
        Buffer(max_rows=0)


def test_backoff_is_capped_exponential_with_jitter():
    rng = random.Random(1)
    delays = [backoff_delay(n, 1.0, 60.0, rng) for n in range(1, 40)]
    assert all(1.0 <= d <= 60.0 for d in delays)
    assert backoff_delay(1, 1.0, 60.0, rng) == 1.0
    assert max(backoff_delay(3, 1.0, 60.0, rng) for _ in range(200)) <= 4.0
    late = [backoff_delay(20, 1.0, 60.0, rng) for _ in range(200)]
    assert max(late) > 30 and len({round(d, 3) for d in late}) > 100  # jittered


def test_event_payload_is_valid_json_with_schema_first(tmp_path):
    outbox = make(tmp_path, max_rows=1)
    outbox.add_telemetry(*granary_scan("P01", T0))
    outbox.add_telemetry(*granary_scan("P02", T0))
    events = [m for m in outbox.next_pending(10) if m.kind == topics.EVENTS]
    assert next(iter(json.loads(events[0].payload))) == "schema"
    assert events[0].topic == f"grainlink/v1/{DEPOT}/events"
    assert datetime.now(UTC) > T0


def test_housekeeping_returns_drained_space_to_the_disk(tmp_path):
    outbox = make(tmp_path)
    for i in range(100):
        outbox.add_telemetry(*granary_scan("P01", T0 + timedelta(hours=i)), record_history=False)
    pages = outbox.db.execute("PRAGMA page_count").fetchone()[0]
    outbox.mark_acked_many([m.id for m in outbox.next_pending(1000)])
    outbox.housekeep()
    assert outbox.db.execute("PRAGMA page_count").fetchone()[0] < pages / 4


def test_refused_scan_still_kept_in_local_history(tmp_path):
    outbox = make(tmp_path, max_rows=1, when_full="reject_new")
    outbox.add_telemetry(*granary_scan("P01", T0))
    with pytest.raises(OutboxFull):
        outbox.add_telemetry(*granary_scan("P02", T0))
    assert outbox.history_latest("P02") is not None


def test_add_encoded_joins_the_callers_transaction(tmp_path):
    outbox = make(tmp_path)
    with pytest.raises(RuntimeError), outbox.transaction():
        outbox.add_encoded("events", b"{}")
        raise RuntimeError("the caller fails after queueing")
    assert outbox.stats().pending == 0  # rolled back with the caller
    with outbox.transaction():
        row = outbox.add_encoded("cmd/result", b"{}")
    assert [m.id for m in outbox.next_pending(10)] == [row]
    with pytest.raises(ValueError, match="telemetry"):
        outbox.add_encoded("telemetry", b"{}")

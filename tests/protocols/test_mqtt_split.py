"""split_scans: every message within the limit, nothing lost, nothing repeated, order kept."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.mqtt.codec import (
    MAX_PAYLOAD_BYTES,
    decode_message,
    encode_message,
    message_size_bound,
    split_scans,
)
from protocols.mqtt.errors import MessageError
from protocols.mqtt.fields import MAX_BATCH
from protocols.mqtt.models import AirReading, GrainScan, Telemetry

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
WORST_SENT_AT = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def scans(n, layers=4):
    return [
        GrainScan(
            ts=T0 + timedelta(microseconds=123457 * i), granary=f"P{i % 20:02d}", cable=i % 300 + 1,
            temps_c=[round(10 + (i * 7 + k) % 150 / 10, 2) for k in range(layers)], faults=[],
        )
        for i in range(n)
    ]


def airs(n):
    return [
        AirReading(ts=T0, granary=f"P{i:02d}", place="indoor", temp_c=17.91, rh_pct=63.55)
        for i in range(n)
    ]


def check_chunks(depot, grain, air, chunks, max_bytes):
    assert [g for c in chunks for g in c[0]] == list(grain)
    assert [a for c in chunks for a in c[1]] == list(air)
    for batch, (g, a) in enumerate(chunks, start=MAX_BATCH - len(chunks) + 1):
        assert g or a
        message = Telemetry(depot=depot, batch=batch, sent_at=WORST_SENT_AT, grain=g, air=a)
        raw = encode_message(message) if max_bytes >= MAX_PAYLOAD_BYTES else None
        size = len(raw) if raw else message_size_bound(depot, g, a)
        assert size <= max_bytes
        if raw:
            assert decode_message(f"grainlink/v1/{depot}/telemetry", raw) == message


def test_a_provincial_depot_round_splits_under_256_kib():
    # 20 granaries x 78 cables x 4 layers and more: ~1.6 MB of readings
    grain, air = scans(20 * 78 * 3, layers=6), airs(20)
    chunks = split_scans("HN-0731-001", grain, air)
    assert len(chunks) > 1
    check_chunks("HN-0731-001", grain, air, chunks, MAX_PAYLOAD_BYTES)
    # greedy: each chunk but the last would overflow with the next reading added
    sizes = [message_size_bound("HN-0731-001", g, a) for g, a in chunks]
    assert all(s > MAX_PAYLOAD_BYTES - 1000 for s in sizes[:-1])


def test_size_bound_is_exact_for_worst_case_message():
    grain, air = scans(7), airs(2)
    message = Telemetry(depot="D", batch=MAX_BATCH, sent_at=WORST_SENT_AT, grain=grain, air=air)
    assert len(encode_message(message)) == message_size_bound("D", grain, air)


def test_empty_input_gives_no_chunks():
    assert split_scans("D", [], []) == []


def test_small_input_is_one_chunk():
    grain, air = scans(3), airs(1)
    assert split_scans("D", grain, air) == [(grain, air)]


def test_reading_too_big_alone_is_named():
    with pytest.raises(MessageError) as info:
        split_scans("D", scans(2, layers=64), [], max_bytes=300)
    assert info.value.field == "grain[0]"


def test_count_cap_splits_even_when_bytes_allow():
    grain = [GrainScan(ts=T0, granary="P", cable=1, temps_c=[None], faults=[])] * 5001
    chunks = split_scans("D", grain, [], max_bytes=10**7)
    assert [len(g) for g, _ in chunks] == [5000, 1]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 120), st.integers(0, 40), st.integers(1, 64),
    # from the smallest limit at which the largest single reading drawn here still fits
    st.integers(700, 20000), st.sampled_from(["D", "x" * 64]),
)
def test_split_property(n_grain, n_air, layers, max_bytes, depot):
    grain, air = scans(n_grain, layers), airs(n_air)
    chunks = split_scans(depot, grain, air, max_bytes=max_bytes)
    check_chunks(depot, grain, air, chunks, max_bytes)

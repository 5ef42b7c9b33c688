from datetime import UTC, datetime, timedelta, timezone

import pytest

from protocols.timefmt import format_ts, parse_ts, utc_now


def test_utc_now_is_aware_utc():
    now = utc_now()
    assert now.utcoffset() == timedelta(0)


def test_format_whole_and_fractional_seconds():
    assert format_ts(datetime(2026, 11, 22, 8, 0, 7, tzinfo=UTC)) == "2026-11-22T08:00:07Z"
    assert format_ts(datetime(2026, 11, 22, 8, 0, 7, 120000, tzinfo=UTC)) == "2026-11-22T08:00:07.12Z"
    shanghai = timezone(timedelta(hours=8))
    assert format_ts(datetime(2026, 11, 22, 16, 0, tzinfo=shanghai)) == "2026-11-22T08:00:00Z"
    assert format_ts(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02T00:00:00Z"


def test_format_rejects_naive():
    with pytest.raises(ValueError, match="naive"):
        format_ts(datetime(2026, 1, 1))


def test_parse_round_trip_and_fraction_truncation():
    dt = datetime(2026, 11, 22, 8, 0, 7, 123456, tzinfo=UTC)
    assert parse_ts(format_ts(dt)) == dt
    assert parse_ts("2026-11-22T08:00:07.123456789Z") == dt


@pytest.mark.parametrize(
    "text, words",
    [
        ("2026-11-22T08:00:07+08:00", "offset"),
        ("2026-11-22T08:00:07+00:00", "offset"),
        ("2026-11-22T08:00:07", "not RFC 3339"),
        ("2026-11-22 08:00:07Z", "not RFC 3339"),
        ("2026-02-30T08:00:07Z", "not a valid date"),
        ("2026-11-22T24:00:00Z", "not a valid date"),
        ("2026-11-22T08:00:60Z", "not a valid date"),
        ("２０２６-11-22T08:00:07Z", "not RFC 3339"),
        ("", "not RFC 3339"),
    ],
)
def test_parse_rejects(text, words):
    with pytest.raises(ValueError, match=words):
        parse_ts(text)

"""decode_message raises nothing but MessageError, whatever arrives; encode/decode round-trips."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.mqtt import topics
from protocols.mqtt.codec import decode_message, encode_message
from protocols.mqtt.errors import MessageError
from protocols.mqtt.models import AirReading, GrainScan, Telemetry
from tests.protocols.mqtt_support import EXAMPLES, chinese_reason, example, topic

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_topic = st.one_of(
    st.sampled_from([topic(k) for k in topics.KINDS]),
    st.text(max_size=60),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


def decode_only_message_errors(topic_name, raw):
    try:
        decode_message(topic_name, raw)
    except MessageError as exc:
        assert str(exc)  # always says something
        for field, reason in exc.problems:  # in Chinese: supervisors read the dead letters
            assert chinese_reason(reason), (field, reason)


@FAST
@given(any_topic, st.binary(max_size=2000))
def test_random_bytes(topic_name, raw):
    decode_only_message_errors(topic_name, raw)


@FAST
@given(any_topic, json_values)
def test_random_json(topic_name, value):
    decode_only_message_errors(topic_name, json.dumps(value).encode())


@st.composite
def mutated_examples(draw):
    """A contract example with one value somewhere replaced by anything JSON can hold."""
    stem = draw(st.sampled_from(list(EXAMPLES)))
    obj = example(stem)
    node = obj
    for _ in range(draw(st.integers(0, 3))):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            key = draw(st.integers(0, len(node) - 1))
        else:
            break
        if not isinstance(node[key], (dict, list)):
            break
        node = node[key]
    if isinstance(node, dict):
        key = draw(st.one_of(st.sampled_from(sorted(node) or ["x"]), st.text(max_size=8)))
        node[key] = draw(json_values)
    elif isinstance(node, list):
        node.append(draw(json_values))
    return EXAMPLES[stem], obj


@FAST
@given(mutated_examples())
def test_mutated_examples(case):
    kind, obj = case
    decode_only_message_errors(topic(kind), json.dumps(obj).encode())


temps = st.one_of(st.none(), st.floats(-60, 120, allow_nan=False))
when = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
codes = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True).filter(lambda c: c != "alarms")


@st.composite
def grain_scans(draw, granary):
    values = draw(st.lists(temps, min_size=1, max_size=64))
    nulls = [i + 1 for i, v in enumerate(values) if v is None]
    faults = draw(st.lists(st.sampled_from(nulls), unique=True)) if nulls else []
    return GrainScan(
        ts=draw(when), granary=granary, cable=draw(st.integers(1, 65535)),
        temps_c=values, faults=faults,
    )


@st.composite
def telemetries(draw):
    depot = draw(codes)
    granary = draw(codes)
    grain = draw(st.lists(grain_scans(granary), max_size=5))
    air = draw(
        st.lists(
            st.builds(
                AirReading, ts=when, granary=st.just(granary), place=st.just("indoor"),
                temp_c=temps, rh_pct=st.one_of(st.none(), st.floats(0, 100)),
            ),
            min_size=0 if grain else 1, max_size=3,
        )
    )
    return Telemetry(
        depot=depot, batch=draw(st.integers(1, 2**63 - 1)), sent_at=draw(when), grain=grain, air=air
    )


@FAST
@given(telemetries())
def test_telemetry_round_trip(message):
    raw = encode_message(message)
    assert raw.startswith(b'{"schema":"grainlink.telemetry/1",')
    back = decode_message(topics.topic_for(message.depot, topics.TELEMETRY), raw)
    assert back == message
    assert encode_message(back) == raw


def test_python_construction_normalises():
    shanghai = timezone(timedelta(hours=8))
    scan = GrainScan(
        ts=datetime(2026, 11, 22, 16, 0, tzinfo=shanghai),
        granary="P01", cable=1, temps_c=[14.800000001, 15.005, None], faults=[3],
    )
    assert scan.ts == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert scan.ts.utcoffset() == timedelta(0)
    assert scan.temps_c == [14.8, 15.01, None]


def test_naive_datetime_rejected_in_python():
    try:
        GrainScan(ts=datetime(2026, 1, 1), granary="P", cable=1, temps_c=[1.0], faults=[])
    except ValueError as exc:
        assert "naive" in str(exc)
    else:
        raise AssertionError("naive datetime accepted")


@settings(max_examples=40, deadline=None)
@given(telemetries())
def test_encoded_telemetry_satisfies_exported_schema(message):
    jsonschema = pytest.importorskip("jsonschema")
    from protocols.mqtt.schema_export import json_schema

    validator = jsonschema.Draft202012Validator(json_schema(Telemetry))
    validator.validate(json.loads(encode_message(message)))

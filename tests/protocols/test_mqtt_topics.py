import pytest

from protocols.mqtt import topics
from protocols.mqtt.errors import MessageError, TopicError


@pytest.mark.parametrize("kind", topics.KINDS)
def test_topic_round_trip(kind):
    t = topics.topic_for("HN-0731-001", kind)
    assert t == f"grainlink/v1/HN-0731-001/{kind}"
    assert topics.parse_topic(t) == ("HN-0731-001", kind)


def test_subscriptions_and_alarms():
    assert topics.shared_subscription() == "$share/grainlink-ingest/grainlink/v1/+/telemetry"
    assert topics.shared_subscription("status", "g2") == "$share/g2/grainlink/v1/+/status"
    assert topics.subscription("layout") == "grainlink/v1/+/layout"
    assert topics.alarms_topic("D1") == "grainlink/v1/alarms/D1"


@pytest.mark.parametrize(
    "bad, words",
    [
        ("grainlink/v2/D1/telemetry", "不以 'grainlink/v1/' 开头"),
        ("grainlink/v1/D1", "缺少类别"),
        ("grainlink/v1/D1/telemetry/extra", "未知的主题类别"),
        ("grainlink/v1/D1/cmd/other", "未知的主题类别"),
        ("grainlink/v1/+/telemetry", "须为 1 到 64 个字符"),
        ("grainlink/v1//telemetry", "须为 1 到 64 个字符"),
        ("grainlink/v1/" + "x" * 65 + "/telemetry", "须为 1 到 64 个字符"),
        ("grainlink/v1/alarms/telemetry", "保留字"),
        ("grainlink/v1/仓/telemetry", "须为 1 到 64 个字符"),
    ],
)
def test_bad_topics_rejected(bad, words):
    with pytest.raises(TopicError) as info:
        topics.parse_topic(bad)
    assert words in str(info.value)
    assert info.value.field == "topic"
    assert isinstance(info.value, MessageError)


def test_topic_for_rejects_bad_depot_and_kind():
    with pytest.raises(TopicError):
        topics.topic_for("a/b", "telemetry")
    with pytest.raises(TopicError):
        topics.topic_for("D1", "telemetryx")


@pytest.mark.parametrize("code", ["a", "A-z_09", "x" * 64])
def test_valid_codes(code):
    assert topics.valid_code(code)


@pytest.mark.parametrize("code", ["", "x" * 65, "a b", "a/b", "a+", "é", None, 5, "a\n"])
def test_invalid_codes(code):
    assert not topics.valid_code(code)

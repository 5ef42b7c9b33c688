"""Every kind of broken payload is rejected with a MessageError that names the field."""

import base64

import pytest

from protocols.mqtt.codec import MAX_PAYLOAD_BYTES, decode_message
from protocols.mqtt.errors import MessageError
from tests.protocols.mqtt_support import example, payload, topic


def reject(kind: str, obj_or_bytes, depot: str = "HN-0731-001") -> MessageError:
    raw = obj_or_bytes if isinstance(obj_or_bytes, bytes) else payload(obj_or_bytes)
    with pytest.raises(MessageError) as info:
        decode_message(topic(kind, depot), raw)
    return info.value


def tel_with(edit):
    obj = example("telemetry")
    edit(obj)
    return obj


def _set(path, value):
    def edit(obj):
        target = obj
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _delete(path):
    def edit(obj):
        target = obj
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


TELEMETRY_CASES = [
    (_set(["schema"], "grainlink.telemetry/2"), "schema", "未知的 schema"),
    (_set(["schema"], 7), "schema", "未知的 schema"),
    (_delete(["schema"]), "schema", "缺少必填字段"),
    (_set(["depot"], "OTHER"), "depot", "与主题中的库点 'HN-0731-001' 不一致"),
    (_set(["depot"], "a b"), "depot", "只含 A-Z a-z 0-9 _ -"),
    (_set(["batch"], True), "batch", "须为整数"),
    (_set(["batch"], 1.0), "batch", "须为整数"),
    (_set(["batch"], "12"), "batch", "须为整数"),
    (_set(["batch"], 0), "batch", "须大于或等于 1（实际为 0）"),
    (_set(["batch"], 2**63), "batch", "须小于或等于 9223372036854775807"),
    (_delete(["batch"]), "batch", "缺少必填字段"),
    (_set(["sent_at"], "2026-11-22T08:00:07+08:00"), "sent_at", "带有时区偏移"),
    (_set(["sent_at"], "2026-11-22T08:00:07"), "sent_at", "不是 RFC 3339 UTC 时间"),
    (_set(["sent_at"], 1700000000), "sent_at", "实际为整数"),
    (_set(["extra"], 1), "extra", "未知字段"),
    (_set(["grain", 0, "colour"], "red"), "grain[0].colour", "未知字段"),
    (_set(["grain", 0, "ts"], "yesterday"), "grain[0].ts", "不是 RFC 3339 UTC 时间"),
    (_set(["grain", 0, "granary"], "P 01"), "grain[0].granary", "只含 A-Z a-z 0-9 _ -"),
    (_set(["grain", 0, "granary"], "x" * 65), "grain[0].granary", "1 到 64 个字符"),
    (_set(["grain", 0, "cable"], 0), "grain[0].cable", "须大于或等于 1"),
    (_set(["grain", 0, "cable"], False), "grain[0].cable", "须为整数"),
    (_set(["grain", 0, "temps_c", 1], 120.5), "grain[0].temps_c[1]", "须小于或等于 120（实际为 120.5）"),
    (_set(["grain", 0, "temps_c", 1], -60.5), "grain[0].temps_c[1]", "须大于或等于 -60"),
    (_set(["grain", 0, "temps_c", 1], "15.1"), "grain[0].temps_c[1]", "须为数字"),
    (_set(["grain", 0, "temps_c", 1], True), "grain[0].temps_c[1]", "须为数字"),
    (_set(["grain", 0, "temps_c"], []), "grain[0].temps_c", "至少要有 1 项"),
    (_set(["grain", 0, "temps_c"], [1.0] * 65), "grain[0].temps_c", "最多 64 项"),
    (_set(["grain", 0, "faults"], [0]), "grain[0].faults[0]", "须从 1 起算"),
    (_set(["grain", 0, "faults"], [5]), "grain[0].faults[0]", "超出 temps_c 的 4 层"),
    (_set(["grain", 0, "faults"], [3, 3]), "grain[0].faults[1]", "列了两次"),
    (_set(["grain", 0, "faults"], [2]), "grain[0].faults[0]", "temps_c[1] 有值"),
    (_delete(["grain", 0, "faults"]), "grain[0].faults", "缺少必填字段"),
    (_set(["grain"], [None]), "grain[0]", "须为 JSON 对象"),
    (_set(["air", 0, "rh_pct"], 100.5), "air[0].rh_pct", "须小于或等于 100"),
    (_set(["air", 0, "rh_pct"], -1), "air[0].rh_pct", "须大于或等于 0"),
    (_set(["air", 0, "place"], "attic"), "air[0].place", "indoor"),
    (_set(["air", 0, "granary"], None), "air[0].granary", "须写明仓房"),
    (_set(["air", 1, "granary"], "P01"), "air[1].granary", "granary 须为 null"),
    (_set(["air"], {"a": 1}), "air", "须为 JSON 数组"),
]


@pytest.mark.parametrize("edit, field, words", TELEMETRY_CASES)
def test_broken_telemetry_names_field(edit, field, words):
    error = reject("telemetry", tel_with(edit))
    assert error.field == field, str(error)
    assert words in error.reason, str(error)
    assert str(error).startswith(f"{field}: ")


def test_both_lists_empty_rejected():
    obj = tel_with(_set(["grain"], []))
    obj["air"] = []
    error = reject("telemetry", obj)
    assert error.field == "grain" and "都为空" in error.reason


def test_oversize_lists_rejected():
    scan = example("telemetry")["grain"][0]
    obj = tel_with(_set(["grain"], [scan] * 5001))
    # 5001 scans do not fit 256 KiB; the size check speaks first
    error = reject("telemetry", obj)
    assert "超过上限 262144 字节" in error.reason


def test_list_cap_rejected_under_size_limit():
    from protocols.mqtt.models import Telemetry

    scan = {"ts": "2026-11-22T08:00:00Z", "granary": "P", "cable": 1, "temps_c": [None], "faults": []}
    obj = example("telemetry") | {"grain": [scan] * 5001, "air": []}
    with pytest.raises(Exception) as info:
        Telemetry.model_validate(obj)
    assert "at most 5000" in str(info.value)  # pydantic's own, before the codec translates


def test_several_problems_all_listed():
    obj = example("telemetry")
    obj["batch"] = -1
    obj["grain"][0]["temps_c"][0] = 500
    error = reject("telemetry", obj)
    fields = {f for f, _ in error.problems}
    assert {"batch", "grain[0].temps_c[0]"} <= fields
    assert "（另有 1 处问题）" in str(error)


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"", "消息不是 JSON（第 1 行第 1 列）"),
        (b"\xff\xfe{}", "不是有效的 UTF-8（第 1 个字节"),
        (b"[1, 2]", "须为 JSON 对象，实际为数组"),
        (b'"text"', "须为 JSON 对象，实际为字符串"),
        (b"{'schema': 1}", "键须用双引号括起"),
        (b'{"schema": "grainlink.telemetry/1", "batch": NaN}', "NaN 不是 JSON 允许的数字"),
        (b'{"schema": "grainlink.telemetry/1", "batch": Infinity}', "Infinity 不是 JSON 允许的数字"),
        (b'{"schema": "grainlink.telemetry/1", "batch": 1e999}', "数字 1e999 超出范围"),
        (b'{"schema": "grainlink.telemetry/1", "schema": "grainlink.telemetry/1"}', "键 'schema' 出现了两次"),
        (b"[" * 100000 + b"]" * 100000, "嵌套过深"),
        (b'{"batch": ' + b"9" * 5000 + b"}", "本接收方不接受：整数位数过多"),
    ],
)
def test_malformed_bytes_rejected(raw, words):
    error = reject("telemetry", raw)
    assert words in str(error)


def test_payload_over_limit_rejected_before_parsing():
    raw = b" " * (MAX_PAYLOAD_BYTES + 1)
    error = reject("telemetry", raw)
    assert error.reason == "消息有 262145 字节，超过上限 262144 字节"


def test_schema_must_match_topic_kind():
    error = reject("status", example("telemetry"))
    assert error.field == "schema" and "不属于此主题" in error.reason


def test_bad_topic_is_a_message_error():
    with pytest.raises(MessageError) as info:
        decode_message("grainlink/v1/HN-0731-001/nonsense", payload(example("telemetry")))
    assert info.value.field == "topic"


LAYOUT_CASES = [
    (lambda o: o["granaries"][0].update(type="barn"), "granaries[0].type", "flat"),
    (lambda o: o["granaries"][0].update(storage_mode="cold"), "granaries[0].storage_mode", "normal"),
    (lambda o: o["granaries"][0].update(length_m=0), "granaries[0].length_m", "须大于 0"),
    (lambda o: o["granaries"][0].update(grain="Wheat!"), "granaries[0].grain", "小写字母开头"),
    (lambda o: o["granaries"][0].update(layer_depths_m=[0.3, 0.2]), "granaries[0].layer_depths_m[1]", "自上而下递增"),
    (lambda o: o["granaries"][0]["cables"][0].update(layers=5), "granaries[0].cables[0].layers", "layer_depths_m 只给出 4 层"),
    (lambda o: o["granaries"][0]["cables"].append(dict(o["granaries"][0]["cables"][0])), "granaries[0].cables[1].cable", "列了两次"),
    (lambda o: o["granaries"][0].update(cameras=["CAM-X"]), "granaries[0].cameras[0]", "不在 cameras 中"),
    (lambda o: o["cameras"][0].update(granary="P99"), "cameras[0].granary", "不在 granaries 中"),
    (lambda o: o["granaries"].append(dict(o["granaries"][0])), "granaries[1].granary", "列了两次"),
    (lambda o: o["region"].update(city="43010"), "region.city", "6 位数字的行政区划代码"),
    (lambda o: o.update(name=""), "name", "不能为空"),
]


@pytest.mark.parametrize("edit, field, words", LAYOUT_CASES)
def test_broken_layout_names_field(edit, field, words):
    obj = example("layout")
    edit(obj)
    error = reject("layout", obj)
    assert error.field == field, str(error)
    assert words in error.reason, str(error)


OTHER_CASES = [
    ("status", "status", lambda o: o.update(state="sleeping"), "state", "online"),
    ("status", "status", lambda o: o["buffer"].update(pending=-1), "buffer.pending", "须大于或等于 0"),
    ("status", "status", lambda o: o["buses"][0].update(ok="yes"), "buses[0].ok", "须为 true 或 false"),
    ("status", "status", lambda o: o["buffer"].update(oldest="2026-11-22"), "buffer.oldest", "不是 RFC 3339 UTC 时间"),
    ("event", "events", lambda o: o.update(kind="explosion"), "kind", "camera_offline"),
    ("event", "events", lambda o: o.update(detail=[1]), "detail", "须为 JSON 对象"),
    ("cmd", "cmd", lambda o: o.update(id="zzzzzzzz-8a3b-4d7e-9b1a-2c6d8e0f1a2b"), "id", "不是 UUID"),
    ("cmd", "cmd", lambda o: o.update(action="self_destruct"), "action", "scan_now"),
    ("cmd-result", "cmd/result", lambda o: o.update(ok=1), "ok", "须为 true 或 false"),
    ("cmd-result", "cmd/result", lambda o: o.update(done_at=None), "done_at", "实际为空值（null）"),
    ("snapshot", "snapshot", lambda o: o.update(jpeg_b64="!!!!"), "jpeg_b64", "不是有效的 base64"),
    ("snapshot", "snapshot", lambda o: o.update(jpeg_b64=base64.b64encode(b"GIF89a....").decode()), "jpeg_b64", "不是 JPEG"),
    ("snapshot", "snapshot", lambda o: o.update(camera="CAM 1"), "camera", "只含 A-Z a-z 0-9 _ -"),
]


@pytest.mark.parametrize("stem, kind, edit, field, words", OTHER_CASES)
def test_broken_other_messages_name_field(stem, kind, edit, field, words):
    obj = example(stem)
    edit(obj)
    error = reject(kind, obj)
    assert error.field == field, str(error)
    assert words in error.reason, str(error)


def test_snapshot_jpeg_over_200_kib_rejected():
    obj = example("snapshot")
    obj["jpeg_b64"] = base64.b64encode(b"\xff\xd8\xff" + b"\0" * (200 * 1024)).decode()
    error = reject("snapshot", obj)
    assert error.field == "jpeg_b64" and "最多 273068 个字符" in error.reason
    # one byte over, still within the base64 length: the decoded size check speaks
    obj["jpeg_b64"] = base64.b64encode(b"\xff\xd8\xff" + b"\0" * (200 * 1024 - 2)).decode()
    error = reject("snapshot", obj)
    assert error.field == "jpeg_b64" and "超过上限 204800 字节" in error.reason


def test_snapshot_of_200_kib_jpeg_fits_its_topic():
    obj = example("snapshot")
    obj["jpeg_b64"] = base64.b64encode(b"\xff\xd8\xff" + b"\0" * (200 * 1024 - 3)).decode()
    message = decode_message(topic("snapshot"), payload(obj))
    assert len(base64.b64decode(message.jpeg_b64)) == 200 * 1024


@pytest.mark.parametrize(
    "escape, words", [("\\u0000", "文字中含有 NUL 字符"), ("\\ud800", "不成对的 UTF-16 代理项")]
)
def test_text_a_database_cannot_store_is_rejected(escape, words):
    raw = payload(example("event")).replace(b"no ONVIF answer", b"x" + escape.encode())
    error = reject("events", raw)
    assert error.field == "detail.reason" and words in error.reason


def test_paired_surrogate_escape_is_fine():
    raw = payload(example("event")).replace(b"no ONVIF answer", b"\\ud83d\\ude00")
    assert decode_message(topic("events"), raw).detail["reason"] == "\U0001f600"

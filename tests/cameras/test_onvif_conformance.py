"""The simulated camera/NVR checked by a standard ONVIF client that is not ours (onvif-zeep,
with the ONVIF WSDLs and schemas it ships): every operation the camera offers parses, carries
every element and attribute the schemas require, positions are attributes and honoured, and
faults arrive as ONVIF faults with their `ter:` subcodes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

onvif = pytest.importorskip("onvif")
zeep_exceptions = pytest.importorskip("zeep.exceptions")

from simulators.onvif import picture  # noqa: E402
from simulators.onvif.server import SimulatedCamera  # noqa: E402

TER = "http://www.onvif.org/ver10/error"


def missing_required(obj, path: str = "") -> list[str]:
    """Paths of schema-required elements/attributes that a parsed zeep answer lacks."""
    if isinstance(obj, list):
        return [m for i, v in enumerate(obj) for m in missing_required(v, f"{path}[{i}]")]
    xsd_type = getattr(obj, "_xsd_type", None)
    if xsd_type is None:
        return []
    out = []
    for name, element in xsd_type.elements:
        value = obj[name]
        if value is None and getattr(element, "min_occurs", 0) >= 1 and not name.startswith("_value"):
            out.append(f"{path}.{name}")
        elif value is not None:
            out += missing_required(value, f"{path}.{name}")
    for name, attribute in xsd_type.attributes:
        if getattr(attribute, "required", False) and obj[name] is None:
            out.append(f"{path}@{name}")
    return out


@pytest.fixture(scope="module")
def camera():
    sim = SimulatedCamera(channels=2).start()
    host, port = sim.httpd.server_address[:2]
    client = onvif.ONVIFCamera(host, port, "admin", "admin123")
    yield sim, client, client.create_media_service()
    sim.stop()


def osd(kind: str, text: str, vsc: str = "vsc_profile_1", token: str = "", pos=None) -> dict:
    position = {"Type": kind, **({"Pos": pos} if pos else {})}
    return {"OSD": {"token": token, "VideoSourceConfigurationToken": vsc, "Type": "Text",
                    "Position": position, "TextString": {"Type": "Plain", "PlainText": text}}}


def test_checker_sees_a_missing_required_element(camera):
    _, client, media = camera
    answer = media.GetProfiles()
    assert missing_required(answer) == []
    answer[0].Name = None
    answer[0].VideoSourceConfiguration.Bounds = None
    assert missing_required(answer) == ["[0].Name", "[0].VideoSourceConfiguration.Bounds"]


def test_every_offered_operation_answers_to_the_schemas(camera):
    sim, client, media = camera
    dm = client.devicemgmt
    answers = {
        "GetDeviceInformation": dm.GetDeviceInformation(),
        "GetSystemDateAndTime": dm.GetSystemDateAndTime(),
        "GetCapabilities": dm.GetCapabilities({"Category": "All"}),
        "GetProfiles": media.GetProfiles(),
        "GetSnapshotUri": media.GetSnapshotUri({"ProfileToken": "profile_2"}),
        "GetStreamUri": media.GetStreamUri({"ProfileToken": "profile_1", "StreamSetup": {
            "Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}}),
    }
    token = media.CreateOSD(osd("UpperLeft", "仓温 17.9℃ 仓湿 63.5%"))
    answers["CreateOSD"] = token
    answers["SetOSD"] = media.SetOSD(osd("UpperLeft", "仓温 18.0℃ 仓湿 63.0%", token=token.OSDToken))
    answers["GetOSDs"] = media.GetOSDs({"ConfigurationToken": "vsc_profile_1"})
    events = client.create_pullpoint_service()
    sim.motion()
    answers["PullMessages"] = events.PullMessages({"Timeout": "PT1S", "MessageLimit": 10})
    answers["DeleteOSD"] = media.DeleteOSD({"OSDToken": token.OSDToken})
    for op, answer in answers.items():
        assert missing_required(answer) == [], op
    assert len(answers["GetProfiles"]) == 2
    assert answers["GetCapabilities"].Media.XAddr.endswith("/onvif/media")
    assert answers["GetSnapshotUri"].Uri.endswith("/snapshot/profile_2.jpg")
    (got,) = answers["GetOSDs"]
    assert got.token == token.OSDToken and got.Type == "Text"
    assert got.VideoSourceConfigurationToken._value_1 == "vsc_profile_1"
    assert got.Position.Type == "UpperLeft" and got.TextString.PlainText == "仓温 18.0℃ 仓湿 63.0%"
    assert len(answers["PullMessages"].NotificationMessage) == 1
    assert media.GetOSDs() == []


def test_position_is_read_from_attributes_and_honoured(camera):
    sim, _, media = camera
    custom = media.CreateOSD(osd("Custom", "自定义", pos={"x": 0.25, "y": -0.5}))
    (got,) = media.GetOSDs()
    assert (got.Position.Type, got.Position.Pos.x, got.Position.Pos.y) == ("Custom", 0.25, -0.5)
    media.DeleteOSD({"OSDToken": custom.OSDToken})

    token = media.CreateOSD(osd("LowerRight", "仓温 17.9℃ 仓湿 63.5%")).OSDToken
    try:
        got = cv2.imdecode(np.frombuffer(sim.snapshot(), np.uint8), cv2.IMREAD_GRAYSCALE).astype(int)
        blank = cv2.imdecode(np.frombuffer(picture.render([]), np.uint8), cv2.IMREAD_GRAYSCALE).astype(int)
        diff = np.abs(got - blank)
        lower_right, upper_left = diff[420:, 340:].mean(), diff[:60, :300].mean()
        assert lower_right > 20 and upper_left < 1, (lower_right, upper_left)
    finally:
        media.DeleteOSD({"OSDToken": token})


@pytest.mark.parametrize("call, subcodes", [
    (lambda m: m.SetOSD(**osd("UpperLeft", "x", token="no-such-osd")), ["InvalidArgVal", "NoConfig"]),
    (lambda m: m.GetSnapshotUri(ProfileToken="profile_9"), ["InvalidArgVal", "NoProfile"]),
    (lambda m: m.GetOSDOptions(ConfigurationToken="vsc_profile_1"), ["ActionNotSupported"]),
])
def test_faults_are_onvif_faults_with_declared_subcodes(camera, call, subcodes):
    _, _, media = camera
    with pytest.raises(zeep_exceptions.Fault) as err:
        call(media.ws_client)
    got = err.value.subcodes or []
    assert [q.namespace for q in got] == [TER] * len(subcodes)
    assert [q.localname for q in got] == subcodes


def test_a_camera_without_osd_says_action_not_supported():
    sim = SimulatedCamera(osd_supported=False).start()
    try:
        host, port = sim.httpd.server_address[:2]
        media = onvif.ONVIFCamera(host, port, "admin", "admin123").create_media_service()
        with pytest.raises(zeep_exceptions.Fault) as err:
            media.ws_client.GetOSDs()
        assert [q.localname for q in err.value.subcodes] == ["ActionNotSupported"]
    finally:
        sim.stop()

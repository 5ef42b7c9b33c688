"""The register codec: round trips for every built-in profile, every sentinel, the power-on rule."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.modbus.codec import (
    ABSENT,
    FAULT,
    NOT_READY,
    AirValue,
    DecodeError,
    UnitState,
    decode_header,
    decode_temp,
    decode_thrh,
    decode_unit,
    encode_thrh,
    encode_unit,
)
from protocols.modbus.profiles import LST1812, SILO8X8, TH485


def temps_for(scale):
    step = st.integers(min_value=round(-40 / scale), max_value=round(84.9 / scale))
    return step.map(lambda n: round(n * scale, 2))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), cables=st.integers(1, 84), stride=st.integers(1, 8))
def test_lst1812_round_trip(data, cables, stride):
    value = st.one_of(temps_for(0.1), st.sampled_from([ABSENT, FAULT, NOT_READY]))
    temps = [data.draw(st.lists(value, max_size=stride)) for _ in range(cables)]
    state = UnitState(temps=temps, indoor=(17.9, 63.5), outdoor=(-5.2, 90.0), stride=stride, scan_counter=65535)
    reading = decode_unit(LST1812, encode_unit(LST1812, state), previous={
        (c + 1, s + 1): 84.0 for c in range(cables) for s in range(stride)})
    assert reading.header.cable_count == cables
    assert reading.header.scan_counter == 65535
    assert reading.indoor == AirValue(17.9, 63.5) and reading.outdoor == AirValue(-5.2, 90.0)
    for c, cable in enumerate(reading.cables):
        assert cable.cable == c + 1
        assert len(cable.temps_c) == len(temps[c])
        for s, want in enumerate(temps[c]):
            got = cable.temps_c[s]
            if isinstance(want, float):
                assert got == want and (s + 1) not in cable.faults
            else:
                assert got is None
                assert ((s + 1) in cable.faults) == (want == FAULT)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(temps_for(0.0625), min_size=8, max_size=8), min_size=8, max_size=8))
def test_silo8x8_round_trip_in_sixteenths(temps):
    regs = encode_unit(SILO8X8, UnitState(temps=temps))
    assert max(regs) == 22 + 63
    reading = decode_unit(SILO8X8, regs, previous={(c, s): 84.0 for c in range(1, 9) for s in range(1, 9)})
    for c in range(8):
        for s in range(8):
            assert abs(reading.cables[c].temps_c[s] - temps[c][s]) <= 0.01


def test_silo8x8_error_value_is_a_fault():
    regs = encode_unit(SILO8X8, UnitState(temps=[[FAULT] + [10.0] * 7] + [[10.0] * 8] * 7))
    assert regs[22] == 0xF4F4
    assert decode_unit(SILO8X8, regs).cables[0].faults == [1]


@given(st.floats(-40, 100, allow_nan=False), st.floats(0, 100, allow_nan=False))
def test_th485_round_trip(t, rh):
    t, rh = round(t, 1), round(rh, 1)
    assert decode_thrh(TH485, encode_thrh(TH485, t, rh)) == AirValue(t, rh) if t <= 85 else True


def test_th485_registers_follow_the_contract():
    regs = encode_thrh(TH485, -3.5, 63.5)
    assert regs == {0: 635, 1: 0x10000 - 35}


@pytest.mark.parametrize(("raw", "value", "fault"), [
    (0x7FFF, None, False),   # no sensor
    (0x8000, None, True),    # sensor fault
    (0x7FFE, None, False),   # not measured since power-on
    (0xFE70, -40.0, False),  # -40.0 °C is still valid
    (0xFE6F, None, True),    # -40.1 °C is out of range
    (851, None, True),       # 85.1 °C is out of range
    (148, 14.8, False),
])
def test_every_sentinel_and_the_range(raw, value, fault):
    assert decode_temp(LST1812, raw, previous=80.0) == (value, fault)


def test_power_on_85_after_a_cold_reading_is_a_fault():
    assert decode_temp(LST1812, 850, previous=14.8) == (None, True)
    assert decode_temp(LST1812, 850, previous=None) == (None, True)


def test_real_85_after_a_gradual_rise_is_a_temperature():
    assert decode_temp(LST1812, 850, previous=80.0) == (85.0, False)
    assert decode_temp(LST1812, 850, previous=75.0) == (85.0, False)  # exactly 10 lower: not more


def test_sensor_count_shorter_than_the_stride():
    state = UnitState(temps=[[10.0, 11.0], [12.0]], stride=4)
    reading = decode_unit(LST1812, encode_unit(LST1812, state))
    assert [c.temps_c for c in reading.cables] == [[10.0, 11.0], [12.0]]


def test_a_cable_that_disappeared_has_no_sensors():
    reading = decode_unit(LST1812, encode_unit(LST1812, UnitState(temps=[[10.0], []], stride=2)))
    assert reading.cables[1].temps_c == [] and reading.cables[1].faults == []


def test_status_bits():
    state = UnitState(temps=[], indoor=None, outdoor=(1.0, 50.0), scan_in_progress=True, on_battery=True)
    header = decode_header(LST1812, encode_unit(LST1812, state))
    assert header.scan_in_progress and header.on_battery and header.outdoor_present
    assert not header.indoor_present and not header.self_test_fault
    assert header.profile_version == 0x0101


def test_absent_indoor_sensor_decodes_to_none_and_faulty_air_is_flagged():
    regs = encode_unit(LST1812, UnitState(temps=[[10.0]], indoor=None, outdoor=(FAULT, 40.0)))
    reading = decode_unit(LST1812, regs)
    assert reading.indoor is None
    assert reading.outdoor == AirValue(None, 40.0, temp_fault=True)


def test_missing_register_and_bad_header_are_named():
    regs = encode_unit(LST1812, UnitState(temps=[[10.0]] * 3, stride=1))
    del regs[101]
    with pytest.raises(DecodeError, match="register 101 .cable 2 sensor 0"):
        decode_unit(LST1812, regs)
    regs[3] = 0
    with pytest.raises(DecodeError, match="stride 0"):
        decode_header(LST1812, regs)
    regs[3], regs[2] = 1, 85
    with pytest.raises(DecodeError, match="cable_count 85"):
        decode_header(LST1812, regs)
    with pytest.raises(DecodeError, match="cable 4 is not on this unit"):
        decode_unit(LST1812, encode_unit(LST1812, UnitState(temps=[[10.0]] * 3)), cables=[4])


def test_air_alone_decodes_without_the_sensor_counts():
    regs = encode_unit(LST1812, UnitState(temps=[[10.0]] * 3, indoor=(17.9, 63.5)))
    header_only = {a: regs[a] for a in range(0, 12)}
    assert decode_unit(LST1812, header_only, cables=[]).indoor == AirValue(17.9, 63.5)
    with pytest.raises(DecodeError, match="sensor counts"):
        decode_unit(LST1812, header_only)

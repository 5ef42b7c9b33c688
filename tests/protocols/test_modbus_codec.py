"""The register codec: round trips of random states for every built-in profile.

Hand-written register dumps (every sentinel, the power-on rule, header errors, a vendor
profile) are case folders in tests/cases/registers/."""

from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.modbus.codec import (
    ABSENT,
    FAULT,
    NOT_READY,
    AirValue,
    UnitState,
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


@given(st.floats(-40, 100, allow_nan=False), st.floats(0, 100, allow_nan=False))
def test_th485_round_trip(t, rh):
    t, rh = round(t, 1), round(rh, 1)
    assert decode_thrh(TH485, encode_thrh(TH485, t, rh)) == AirValue(t, rh) if t <= 85 else True

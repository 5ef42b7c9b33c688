import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.domain.psychro import (
    dew_point_c,
    relative_humidity_pct,
    saturation_vapour_pressure_hpa,
)


def test_domain_md_checks():
    assert round(dew_point_c(25, 60), 1) == 16.7
    assert round(dew_point_c(19.2, 91), 1) == 17.7


def test_saturated_air_dew_point_is_air_temperature():
    assert dew_point_c(12.3, 100) == pytest.approx(12.3, abs=1e-9)


def test_saturation_pressure_at_20c():
    assert saturation_vapour_pressure_hpa(20) == pytest.approx(23.37, abs=0.05)


@settings(max_examples=100, deadline=None)
@given(st.floats(-40, 60), st.floats(1, 100))
def test_inverse_and_bounds(temp, rh):
    td = dew_point_c(temp, rh)
    assert td <= temp + 1e-9
    assert relative_humidity_pct(temp, td) == pytest.approx(rh, rel=1e-9)


@pytest.mark.parametrize(
    "args, words",
    [((20, 0), "rh_pct"), ((20, 101), "rh_pct"), ((math.nan, 50), "finite"),
     ((20, True), "finite"), ((-300, 50), "above")],
)
def test_bad_inputs(args, words):
    with pytest.raises(ValueError, match=words):
        dew_point_c(*args)


def test_dew_point_above_air_rejected():
    with pytest.raises(ValueError, match="above the air"):
        relative_humidity_pct(10, 11)

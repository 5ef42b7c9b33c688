"""Moist-air maths: dew point by the Magnus formula (Sonntag 1990 constants), domain.md §4."""

from __future__ import annotations

import math

MAGNUS_B = 17.62
MAGNUS_C_C = 243.12  # °C
# The Magnus fit is made for water between about -45 and 60 °C; outside it the answer is
# an extrapolation, still finite and monotonic, so it is computed but not promised.


def _check_finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _gamma(temp_c: float, rh_pct: float) -> float:
    temp_c = _check_finite("temp_c", temp_c)
    rh_pct = _check_finite("rh_pct", rh_pct)
    if not 0.0 < rh_pct <= 100.0:
        raise ValueError(f"rh_pct must be in (0, 100], got {rh_pct}")
    if temp_c <= -MAGNUS_C_C:
        raise ValueError(f"temp_c must be above {-MAGNUS_C_C} °C, got {temp_c}")
    return math.log(rh_pct / 100.0) + MAGNUS_B * temp_c / (MAGNUS_C_C + temp_c)


def dew_point_c(temp_c: float, rh_pct: float) -> float:
    """Dew point (°C) of air at `temp_c` °C and `rh_pct` %RH: Td = c·γ/(b−γ)."""
    gamma = _gamma(temp_c, rh_pct)
    return MAGNUS_C_C * gamma / (MAGNUS_B - gamma)


def relative_humidity_pct(temp_c: float, dew_point: float) -> float:
    """%RH of air at `temp_c` whose dew point is `dew_point` (the inverse of dew_point_c)."""
    temp_c = _check_finite("temp_c", temp_c)
    dew_point = _check_finite("dew_point", dew_point)
    # saturated air's dew point can come out a rounding error above its temperature
    if dew_point > temp_c + 1e-9:
        raise ValueError(f"dew point {dew_point} °C is above the air temperature {temp_c} °C")
    dew_point = min(dew_point, temp_c)
    for name, value in (("temp_c", temp_c), ("dew_point", dew_point)):
        if value <= -MAGNUS_C_C:
            raise ValueError(f"{name} must be above {-MAGNUS_C_C} °C, got {value}")
    exponent = MAGNUS_B * dew_point / (MAGNUS_C_C + dew_point) - MAGNUS_B * temp_c / (
        MAGNUS_C_C + temp_c
    )
    return 100.0 * math.exp(exponent)


def saturation_vapour_pressure_hpa(temp_c: float) -> float:
    """Saturation vapour pressure over water (hPa), Magnus with the same constants."""
    temp_c = _check_finite("temp_c", temp_c)
    if temp_c <= -MAGNUS_C_C:
        raise ValueError(f"temp_c must be above {-MAGNUS_C_C} °C, got {temp_c}")
    return 6.112 * math.exp(MAGNUS_B * temp_c / (MAGNUS_C_C + temp_c))

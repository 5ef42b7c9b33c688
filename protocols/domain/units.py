"""Rounding shared by the wire format and the domain maths."""

from __future__ import annotations

import math


def round2(value: float) -> float:
    """Round to two decimals (the wire precision of °C and %RH), half away from zero.

    Python's round() works on the binary value, so 0.125 would go down; going through the
    decimal text first keeps 14.805 -> 14.81 as a person would expect.
    """
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    scaled = abs(value) * 100.0
    # repr-based nudge: 1.005 * 100 is 100.49999999999999, which a person reads as 100.5
    rounded = math.floor(float(f"{scaled:.9f}") + 0.5) / 100.0
    return math.copysign(rounded, value) if rounded else 0.0

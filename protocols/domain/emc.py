"""Equilibrium moisture content of grain in air (domain.md §4, ASABE D245.6 equations).

Moisture "db" is % dry basis, "wb" % wet basis (Chinese 水分 is wet basis).
Modified Henderson:     M_db = [−ln(1−RH) / (A·(T + C))]^(1/B)
Modified Chung-Pfost:   M_db = −(1/B)·ln[−(T + C)·ln(RH) / A]      (RH as a fraction)
Callers may pass their own `coefficients` (e.g. from a granary's settings) instead of the
built-in table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Equation = Literal["henderson", "chung_pfost"]


@dataclass(frozen=True)
class EmcCoefficients:
    """A, B, C of one equation for one grain, and where they come from."""

    a: float
    b: float
    c: float
    source: str = ""


@dataclass(frozen=True)
class GrainEmc:
    """The equations known for one grain; `preferred` is used by emc_db/emc_wb."""

    henderson: EmcCoefficients | None = None
    chung_pfost: EmcCoefficients | None = None
    preferred: Equation = "henderson"


_DOMAIN = "domain.md §4 (ASABE D245.6), checked by tests"
_RECALLED = "ASABE D245.6 table as widely cited; not checked against the standard's text here"

EMC_COEFFICIENTS: dict[str, GrainEmc] = {
    "maize": GrainEmc(
        henderson=EmcCoefficients(8.6541e-5, 1.8634, 49.810, _DOMAIN),
        preferred="henderson",
    ),
    "wheat": GrainEmc(
        henderson=EmcCoefficients(2.3007e-5, 2.2857, 55.815, _RECALLED),
        chung_pfost=EmcCoefficients(610.34, 0.15526, 93.213, _DOMAIN),
        preferred="chung_pfost",
    ),
    "paddy": GrainEmc(
        henderson=EmcCoefficients(1.9187e-5, 2.4451, 51.161, _RECALLED),
        preferred="henderson",
    ),
}
# Other names the project's variety keys or people use for the same grain.
GRAIN_ALIASES = {"corn": "maize", "rough_rice": "paddy"}


class UnknownGrainError(ValueError):
    """No coefficients for this grain (or this equation for it)."""


def _grain_entry(grain: str) -> GrainEmc:
    key = GRAIN_ALIASES.get(grain, grain)
    try:
        return EMC_COEFFICIENTS[key]
    except (KeyError, TypeError):
        known = ", ".join(sorted(EMC_COEFFICIENTS))
        raise UnknownGrainError(
            f"no EMC coefficients for grain {grain!r}; known: {known} "
            "(or pass coefficients= from the granary's settings)"
        ) from None


def coefficients_for(grain: str, equation: Equation) -> EmcCoefficients:
    """The built-in coefficients of `equation` for `grain`; UnknownGrainError if none."""
    found = getattr(_grain_entry(grain), equation, None)
    if found is None:
        raise UnknownGrainError(f"no modified {equation} coefficients for grain {grain!r}")
    return found


def _check(temp_c: float, rh_pct: float, coeffs: EmcCoefficients) -> float:
    for name, value in (("temp_c", temp_c), ("rh_pct", rh_pct)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not 0.0 < rh_pct < 100.0:
        raise ValueError(f"rh_pct must be in (0, 100) for an EMC, got {rh_pct}")
    if temp_c + coeffs.c <= 0.0:
        raise ValueError(f"temp_c {temp_c} is outside the equation's range (T + C must be > 0)")
    return rh_pct / 100.0


def emc_henderson_db(
    temp_c: float, rh_pct: float, grain: str = "", *, coefficients: EmcCoefficients | None = None
) -> float:
    """EMC (% dry basis) by the modified Henderson equation."""
    coeffs = coefficients or coefficients_for(grain, "henderson")
    rh = _check(temp_c, rh_pct, coeffs)
    return (-math.log(1.0 - rh) / (coeffs.a * (temp_c + coeffs.c))) ** (1.0 / coeffs.b)


def emc_chung_pfost_db(
    temp_c: float, rh_pct: float, grain: str = "", *, coefficients: EmcCoefficients | None = None
) -> float:
    """EMC (% dry basis) by the modified Chung-Pfost equation (can be ≤ 0 at very low RH)."""
    coeffs = coefficients or coefficients_for(grain, "chung_pfost")
    rh = _check(temp_c, rh_pct, coeffs)
    return -(1.0 / coeffs.b) * math.log(-(temp_c + coeffs.c) * math.log(rh) / coeffs.a)


def emc_db(temp_c: float, rh_pct: float, grain: str, equation: Equation | None = None) -> float:
    """EMC (% dry basis) by `equation`, or the grain's preferred one."""
    chosen = equation or _grain_entry(grain).preferred
    if chosen == "henderson":
        return emc_henderson_db(temp_c, rh_pct, grain)
    if chosen == "chung_pfost":
        return emc_chung_pfost_db(temp_c, rh_pct, grain)
    raise ValueError(f"unknown EMC equation {chosen!r}; use 'henderson' or 'chung_pfost'")


def emc_wb(temp_c: float, rh_pct: float, grain: str, equation: Equation | None = None) -> float:
    """EMC (% wet basis, as Chinese 水分 is quoted)."""
    return db_to_wb(emc_db(temp_c, rh_pct, grain, equation))


def db_to_wb(m_db: float) -> float:
    """% dry basis -> % wet basis: M_wb = 100·M_db / (100 + M_db)."""
    if not math.isfinite(m_db) or m_db < 0.0:
        raise ValueError(f"dry-basis moisture must be a finite number >= 0, got {m_db!r}")
    return 100.0 * m_db / (100.0 + m_db)


def wb_to_db(m_wb: float) -> float:
    """% wet basis -> % dry basis: M_db = M_wb / (100 − M_wb) × 100."""
    if not math.isfinite(m_wb) or not 0.0 <= m_wb < 100.0:
        raise ValueError(f"wet-basis moisture must be in [0, 100), got {m_wb!r}")
    return m_wb / (100.0 - m_wb) * 100.0

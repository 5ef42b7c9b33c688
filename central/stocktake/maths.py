"""Stocktake maths of domain.md §9, pure and in Decimal.

Counted quantity by measurement (flat pile, round silo with its cone) or by bags; the book
adjusted to the count date (moisture and impurity reductions, natural loss so far by the §6
norm); the difference rate and whether the lot agrees. Intermediate values keep full precision
and are rounded once (tonnes to 3 decimals, the rate to 2), as the settlement does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from central.lots.settlement import (
    DEFAULT_NORMS,
    HUNDRED,
    TONNES,
    impurity_reduction,
    moisture_reduction,
    months_stored,
    norm_rate_pct,
)

PI = Decimal("3.14159265358979323846")
PCT = Decimal("0.01")


class CountError(ValueError):
    """The count's inputs do not describe a pile (the message names the field)."""


@dataclass(frozen=True)
class Measure:
    shape: str                      # flat | round
    length_m: Decimal | None = None
    width_m: Decimal | None = None
    height_m: Decimal | None = None
    diameter_m: Decimal | None = None
    cone_height_m: Decimal | None = None
    deduction_m3: Decimal = Decimal(0)


def _need(value: Decimal | None, name: str) -> Decimal:
    if value is None:
        raise CountError(f"{name}：按此方法清查必须填写")
    if value <= 0:
        raise CountError(f"{name}：必须大于 0")
    return value


def volume_m3(m: Measure) -> Decimal:
    """Flat: length × width × mean height; round silo: π r² h plus the cone (π r² h_c / 3);
    less the fixed deductions (columns, ducts) in both."""
    if m.shape == "flat":
        volume = _need(m.length_m, "length_m") * _need(m.width_m, "width_m") * _need(m.height_m, "height_m")
    elif m.shape == "round":
        r = _need(m.diameter_m, "diameter_m") / 2
        volume = PI * r * r * _need(m.height_m, "height_m")
        if m.cone_height_m:
            volume += PI * r * r * m.cone_height_m / 3
    else:
        raise CountError(f"shape：应为 flat（平房仓）或 round（筒仓），不是 {m.shape!r}")
    if m.deduction_m3 < 0:
        raise CountError("deduction_m3：扣除体积不能为负")
    if m.deduction_m3 >= volume:
        raise CountError("deduction_m3：扣除体积不小于粮堆体积")
    return volume - m.deduction_m3


def measured_t(m: Measure, test_weight_g_l: Decimal, correction_factor: Decimal) -> Decimal:
    """Quantity = V × test weight (g/L = kg/m³) × k / 1000 t."""
    _need(test_weight_g_l, "test_weight_g_l")
    _need(correction_factor, "correction_factor")
    return volume_m3(m) * test_weight_g_l * correction_factor / 1000


def bagged_t(bags: int, bag_kg: Decimal) -> Decimal:
    if bags is None or bags <= 0:
        raise CountError("bags：包数必须大于 0")
    return Decimal(bags) * _need(bag_kg, "bag_kg") / 1000


@dataclass(frozen=True)
class Book:
    """A lot's book at the count: balance (in − out) and its `in` quality."""

    balance_t: Decimal
    moisture_in_pct: Decimal
    impurity_in_pct: Decimal
    category: str
    card_established: tuple[int, int]


@dataclass(frozen=True)
class CountResult:
    counted_t: Decimal
    book_t: Decimal
    moisture_reduction_t: Decimal
    impurity_reduction_t: Decimal
    natural_loss_t: Decimal
    adjusted_book_t: Decimal
    difference_pct: Decimal
    agrees: bool
    months_stored: int
    norm_rate_pct: Decimal


def compare(book: Book, counted: Decimal, counted_on: date, moisture_now: Decimal | None,
            impurity_now: Decimal | None, *, packaged: bool, tolerance_pct: Decimal,
            norms: Mapping = DEFAULT_NORMS) -> CountResult:
    """The count against the book adjusted to the count date. A packaged lot keeps its
    weight per piece, so it is compared with the plain book and must agree to the kilogram."""
    b = book.balance_t
    months = months_stored(book.card_established, counted_on)
    rate = norm_rate_pct(book.category, months, norms)
    if packaged:
        mr = ir = nl = Decimal(0)
    else:
        w_now = book.moisture_in_pct if moisture_now is None else moisture_now
        i_now = book.impurity_in_pct if impurity_now is None else impurity_now
        mr = moisture_reduction(b, book.moisture_in_pct, w_now)
        ir = impurity_reduction(b, mr, book.impurity_in_pct, i_now)
        nl = b * rate / HUNDRED
    adjusted = b - mr - ir - nl
    counted_t = _t(counted)
    if adjusted <= 0:
        raise CountError("账面数量为零：该货位没有可清查的库存")
    difference = (counted - adjusted) / adjusted * HUNDRED
    agrees = _t(counted) == _t(adjusted) if packaged else abs(difference) <= tolerance_pct
    return CountResult(
        counted_t=counted_t, book_t=_t(b), moisture_reduction_t=_t(mr),
        impurity_reduction_t=_t(ir), natural_loss_t=_t(nl), adjusted_book_t=_t(adjusted),
        difference_pct=difference.quantize(PCT, ROUND_HALF_UP), agrees=agrees,
        months_stored=months, norm_rate_pct=rate)


def _t(value: Decimal) -> Decimal:
    return value.quantize(TONNES, ROUND_HALF_UP)

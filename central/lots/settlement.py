"""Storage-loss settlement of a lot at clear-out (domain.md §6), in Decimal.

Pure functions: the API and the reports feed them a lot's movements; nothing here touches the
database. Intermediate values keep full precision and are rounded once at the end (tonnes to
3 decimals, rates to 4): rounding the moisture reduction first would turn the worked example's
natural loss of 10.363 t into 10.362 t.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

TONNES = Decimal("0.001")
RATE = Decimal("0.0001")
HUNDRED = Decimal(100)

# Norm rates in percent by category and storage band (< 6 months, 6 – < 12, ≥ 12). Settings:
# a province may publish other figures, so callers may pass their own table.
DEFAULT_NORMS: Mapping[str, tuple[Decimal, Decimal, Decimal]] = {
    "raw_grain": (Decimal("0.10"), Decimal("0.15"), Decimal("0.20")),
    "oilseed": (Decimal("0.15"), Decimal("0.20"), Decimal("0.23")),
    "edible_oil": (Decimal("0.08"), Decimal("0.10"), Decimal("0.12")),
    # finished grain (flour, rice) has no published row; it is held to the raw-grain norm
    "finished_grain": (Decimal("0.10"), Decimal("0.15"), Decimal("0.20")),
}
# Band edges in months: "以上" includes the bound, "以内" excludes it.
DEFAULT_BAND_EDGES = (6, 12)


class SettlementError(ValueError):
    """The lot cannot be settled as given (the message says why)."""


@dataclass(frozen=True)
class Flow:
    """The quantity-weighted total of a lot's movements in one direction."""

    quantity_t: Decimal
    moisture_pct: Decimal
    impurity_pct: Decimal


@dataclass(frozen=True)
class Settlement:
    months_stored: int
    quantity_in_t: Decimal
    quantity_out_t: Decimal
    moisture_reduction_t: Decimal
    impurity_reduction_t: Decimal
    natural_loss_t: Decimal
    natural_loss_rate_pct: Decimal
    norm_rate_pct: Decimal
    allowed_loss_t: Decimal
    over_loss_t: Decimal
    storage_accident: bool


def months_stored(card_established: tuple[int, int], cleared_on: date) -> int:
    """Calendar months from the card's month through the clear-out month, both counted."""
    year, month = card_established
    months = (cleared_on.year - year) * 12 + (cleared_on.month - month) + 1
    if months < 1:
        raise SettlementError(
            f"cleared_on：出清日期 {cleared_on.isoformat()} 早于货位专卡建立月份 {year:04d}-{month:02d}"
        )
    return months


def norm_rate_pct(
    category: str,
    months: int,
    norms: Mapping[str, tuple[Decimal, Decimal, Decimal]] = DEFAULT_NORMS,
    band_edges: tuple[int, int] = DEFAULT_BAND_EDGES,
) -> Decimal:
    """The category's norm for a storage time: the bands never add up year by year."""
    try:
        short, medium, long = norms[category]
    except KeyError:
        raise SettlementError(f"类别 {category} 没有损耗定额，可用：{'、'.join(sorted(norms))}") from None
    if months < band_edges[0]:
        return short
    if months < band_edges[1]:
        return medium
    return long


def weighted_flow(movements: Iterable[tuple[Decimal, Decimal, Decimal]]) -> Flow:
    """Total quantity and quantity-weighted moisture and impurity of (t, %, %) movements."""
    total = Decimal(0)
    moisture = Decimal(0)
    impurity = Decimal(0)
    for quantity, moisture_pct, impurity_pct in movements:
        total += quantity
        moisture += quantity * moisture_pct
        impurity += quantity * impurity_pct
    if total == 0:
        return Flow(Decimal(0), Decimal(0), Decimal(0))
    return Flow(total, moisture / total, impurity / total)


def moisture_reduction(q_in: Decimal, w_in: Decimal, w_out: Decimal) -> Decimal:
    """水分减量 = Q_in × (W_in − W_out) / (100 − W_out), only when the grain dried."""
    if w_in <= w_out:
        return Decimal(0)
    return q_in * (w_in - w_out) / (HUNDRED - w_out)


def impurity_reduction(q_in: Decimal, moisture_t: Decimal, i_in: Decimal, i_out: Decimal) -> Decimal:
    """杂质减量 = (Q_in − moisture reduction) × (I_in − I_out) / (100 − I_out), only when cleaner."""
    if i_in <= i_out:
        return Decimal(0)
    return (q_in - moisture_t) * (i_in - i_out) / (HUNDRED - i_out)


def settle(
    category: str,
    card_established: tuple[int, int],
    cleared_on: date,
    inflow: Flow,
    outflow: Flow,
    norms: Mapping[str, tuple[Decimal, Decimal, Decimal]] = DEFAULT_NORMS,
    band_edges: tuple[int, int] = DEFAULT_BAND_EDGES,
) -> Settlement:
    """Settle one lot; never netted against another lot."""
    if inflow.quantity_t <= 0:
        raise SettlementError("货位没有入库数量，无法核算损耗")
    months = months_stored(card_established, cleared_on)
    rate = norm_rate_pct(category, months, norms, band_edges)
    q_in = inflow.quantity_t
    moisture_t = moisture_reduction(q_in, inflow.moisture_pct, outflow.moisture_pct)
    impurity_t = impurity_reduction(q_in, moisture_t, inflow.impurity_pct, outflow.impurity_pct)
    natural = q_in - outflow.quantity_t - moisture_t - impurity_t
    allowed = q_in * rate / HUNDRED
    over = max(natural - allowed, Decimal(0))
    over_t = _t(over)
    return Settlement(
        months_stored=months,
        quantity_in_t=_t(q_in),
        quantity_out_t=_t(outflow.quantity_t),
        moisture_reduction_t=_t(moisture_t),
        impurity_reduction_t=_t(impurity_t),
        natural_loss_t=_t(natural),
        natural_loss_rate_pct=(natural / q_in * HUNDRED).quantize(RATE, ROUND_HALF_UP),
        norm_rate_pct=rate.quantize(RATE, ROUND_HALF_UP),
        allowed_loss_t=_t(allowed),
        over_loss_t=over_t,
        storage_accident=over_t > 0,
    )


def _t(value: Decimal) -> Decimal:
    return value.quantize(TONNES, ROUND_HALF_UP)

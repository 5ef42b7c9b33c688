"""Storage-loss settlement (domain.md §6), tested on the pure functions."""

from datetime import date
from decimal import Decimal as D

import pytest

from central.lots.settlement import (
    Flow,
    SettlementError,
    months_stored,
    norm_rate_pct,
    settle,
    weighted_flow,
)


def test_worked_example_is_a_storage_accident():
    s = settle("raw_grain", (2024, 1), date(2025, 8, 20),
               Flow(D("5000"), D("13.5"), D("1.0")), Flow(D("4939.5"), D("12.8"), D("0.8")))
    assert s.months_stored == 20
    assert s.moisture_reduction_t == D("40.138")
    assert s.impurity_reduction_t == D("10.000")
    assert s.natural_loss_t == D("10.363")
    assert s.natural_loss_rate_pct == D("0.2073")
    assert s.norm_rate_pct == D("0.2000")
    assert s.allowed_loss_t == D("10.000")
    assert s.over_loss_t == D("0.363")
    assert s.storage_accident is True


def test_worked_example_twin_has_no_over_loss():
    s = settle("raw_grain", (2024, 1), date(2025, 8, 20),
               Flow(D("5000"), D("13.5"), D("1.0")), Flow(D("4940"), D("12.8"), D("0.8")))
    assert s.natural_loss_t == D("9.863")
    assert s.natural_loss_rate_pct == D("0.1973")
    assert s.over_loss_t == D("0.000")
    assert s.storage_accident is False


def test_months_counted_from_the_card_month_through_the_clear_out_month():
    assert months_stored((2025, 3), date(2025, 8, 20)) == 6
    assert months_stored((2025, 3), date(2025, 3, 31)) == 1
    assert months_stored((2024, 12), date(2025, 1, 1)) == 2
    with pytest.raises(SettlementError, match="早于货位专卡建立月份"):
        months_stored((2025, 3), date(2025, 2, 28))


@pytest.mark.parametrize(
    ("category", "rates"),
    [
        ("raw_grain", ("0.10", "0.15", "0.20")),
        ("oilseed", ("0.15", "0.20", "0.23")),
        ("edible_oil", ("0.08", "0.10", "0.12")),
    ],
)
def test_each_category_at_both_edges_of_each_band(category, rates):
    short, medium, long = (D(r) for r in rates)
    assert norm_rate_pct(category, 1) == short
    assert norm_rate_pct(category, 5) == short
    assert norm_rate_pct(category, 6) == medium
    assert norm_rate_pct(category, 11) == medium
    assert norm_rate_pct(category, 12) == long
    assert norm_rate_pct(category, 40) == long


def test_band_from_the_domain_example_card_march_cleared_august():
    months = months_stored((2025, 3), date(2025, 8, 20))
    assert norm_rate_pct("raw_grain", months) == D("0.15")


def test_unknown_category_is_named():
    with pytest.raises(SettlementError, match="类别 rice 没有损耗定额"):
        norm_rate_pct("rice", 3)


def test_moisture_or_impurity_rising_gives_no_reduction():
    s = settle("raw_grain", (2025, 1), date(2025, 3, 1),
               Flow(D("100"), D("12.0"), D("0.5")), Flow(D("99.9"), D("12.5"), D("0.7")))
    assert s.moisture_reduction_t == D("0.000")
    assert s.impurity_reduction_t == D("0.000")
    assert s.natural_loss_t == D("0.100")
    assert s.allowed_loss_t == D("0.100")
    assert s.storage_accident is False


def test_weighted_means_over_several_movements():
    flow = weighted_flow([(D("3000"), D("14.0"), D("1.0")), (D("2000"), D("12.75"), D("0.5"))])
    assert flow.quantity_t == D("5000")
    assert flow.moisture_pct == D("13.5")
    assert flow.impurity_pct == D("0.8")


def test_no_float_drift_on_many_small_movements():
    flow = weighted_flow([(D("0.1"), D("13.1"), D("0.3"))] * 1000)
    assert flow.quantity_t == D("100.0")
    assert flow.moisture_pct == D("13.1")


def test_nothing_in_cannot_be_settled():
    with pytest.raises(SettlementError, match="没有入库数量"):
        settle("raw_grain", (2025, 1), date(2025, 3, 1), Flow(D(0), D(0), D(0)), Flow(D(0), D(0), D(0)))

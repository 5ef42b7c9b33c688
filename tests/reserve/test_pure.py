"""The pure rules of domain.md §8–§10: intake refusals, stocktake maths (the §9 worked example
to the kilogram), the four-eyes state machine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from central.approvals.rules import APPROVED, PENDING, REJECTED, Refused, decide
from central.intake.rules import (
    GateResult,
    IntakeLimits,
    UnknownVariety,
    capacity_refusal,
    mixing_refusal,
    quality_refusal,
)
from central.settings import Settings
from central.stocktake.maths import (
    Book,
    CountError,
    Measure,
    bagged_t,
    compare,
    measured_t,
    volume_m3,
)

LIMITS = IntakeLimits.from_settings(Settings())
WHEAT_BOOK = Book(D("5000"), D("12.5"), D("1.0"), "raw_grain", (2025, 11))


def test_worked_example_agrees_at_4_5_m():
    counted = measured_t(Measure("flat", D(60), D(24), D("4.5")), D(750), D("1.02"))
    assert counted == D("4957.2")
    r = compare(WHEAT_BOOK, counted, date(2026, 8, 15), D("12.0"), D("0.9"), packaged=False,
                tolerance_pct=D(3))
    assert (r.moisture_reduction_t, r.impurity_reduction_t, r.natural_loss_t, r.adjusted_book_t) == (
        D("28.409"), D("5.017"), D("7.500"), D("4959.074"))
    assert r.months_stored == 10 and r.norm_rate_pct == D("0.15")
    assert r.counted_t == D("4957.200") and r.difference_pct == D("-0.04") and r.agrees


def test_worked_example_disagrees_at_4_3_m():
    counted = measured_t(Measure("flat", D(60), D(24), D("4.3")), D(750), D("1.02"))
    r = compare(WHEAT_BOOK, counted, date(2026, 8, 15), D("12.0"), D("0.9"), packaged=False,
                tolerance_pct=D(3))
    assert r.counted_t == D("4736.880") and r.difference_pct == D("-4.48") and not r.agrees


def test_round_silo_is_cylinder_plus_cone_and_deductions_come_off():
    # r = 5 m, h = 20 m, cone 3 m: π·25·20 + π·25·3/3 = 525 π
    v = volume_m3(Measure("round", diameter_m=D(10), height_m=D(20), cone_height_m=D(3)))
    assert abs(v - D(525) * D("3.14159265358979")) < D("0.0001")
    flat = volume_m3(Measure("flat", D(10), D(10), D(2), deduction_m3=D(5)))
    assert flat == D(195)


def test_bags_and_packaged_lots_must_agree_exactly():
    assert bagged_t(20000, D(50)) == D(1000)
    book = Book(D("1000"), D("14"), D("0.5"), "finished_grain", (2026, 1))
    exact = compare(book, bagged_t(20000, D(50)), date(2026, 6, 1), None, None, packaged=True,
                    tolerance_pct=D(3))
    assert exact.agrees and exact.adjusted_book_t == D("1000.000") and exact.natural_loss_t == 0
    short = compare(book, bagged_t(19999, D(50)), date(2026, 6, 1), None, None, packaged=True,
                    tolerance_pct=D(3))
    assert not short.agrees and short.difference_pct == D("-0.01")


@pytest.mark.parametrize(("measure", "field"), [
    (Measure("flat", None, D(1), D(1)), "length_m"),
    (Measure("round", height_m=D(1)), "diameter_m"),
    (Measure("flat", D(1), D(1), D(1), deduction_m3=D(2)), "deduction_m3"),
    (Measure("cone"), "shape"),
])
def test_count_inputs_that_describe_no_pile_name_the_field(measure, field):
    with pytest.raises(CountError, match=field):
        volume_m3(measure)


def gate(m, i, grade=None, chem=False):
    return GateResult(None if m is None else D(m), None if i is None else D(i), grade, chem)


@pytest.mark.parametrize(("variety", "moisture", "impurity", "rule", "exception"), [
    ("wheat", "12.5", "1.0", None, None),                      # at the limits: accepted
    ("wheat", "12.6", "0.5", "moisture_above_safe", True),
    ("wheat", "15.5", "0.5", "moisture_above_safe", True),     # 3.0 points above: still excepted
    ("wheat", "15.6", "0.5", "moisture_above_safe", False),    # beyond 3 points: never straight in
    ("maize", "14.0", "1.01", "impurity_above_limit", True),
    ("玉米", "14.1", "0.2", "moisture_above_safe", True),
    ("rapeseed", "8.0", "0.3", None, None),
    ("japonica_paddy", "14.5", "0.3", None, None),
    ("wheat", None, None, "not_tested", False),
])
def test_quality_refusals(variety, moisture, impurity, rule, exception):
    refusal = quality_refusal("RK1", "raw_grain", variety, gate(moisture, impurity), LIMITS)
    assert (refusal.rule if refusal else None) == rule
    if refusal:
        assert refusal.exception_allowed is exception and refusal.message


def test_refusal_names_the_variety_in_chinese():
    wheat = quality_refusal("RK1", "raw_grain", "wheat", gate("12.6", "0.5"), LIMITS).message
    assert wheat == "批次RK1水分12.6%高于小麦安全水分12.5%，应退回或烘干后复检"
    # a variety spelled in Chinese in the settings reads as it is
    assert "高于玉米安全水分" in quality_refusal("RK1", "raw_grain", "玉米", gate("14.1", "0.2"), LIMITS).message


def test_failed_chemical_test_and_unknown_variety():
    assert quality_refusal("RK1", "raw_grain", "wheat", gate("12", "0.5", chem=True), LIMITS).rule == "not_tested"
    with pytest.raises(UnknownVariety):
        quality_refusal("RK1", "raw_grain", "sorghum", gate("12", "0.5"), LIMITS)
    # finished grain and oil are not judged by the bulk-grain gate
    assert quality_refusal("RK1", "edible_oil", "soy oil", gate("0.1", "0.05"), LIMITS) is None


def test_mixing_and_capacity():
    lot = {"lot": "L1", "category": "raw_grain", "variety": "wheat", "grade": "2", "harvest_year": 2025}
    batch = {"category": "raw_grain", "variety": "wheat", "harvest_year": 2025}
    assert mixing_refusal("RK1", batch, lot, gate("12", "0.5", "2"), []) is None
    assert mixing_refusal("RK1", batch | {"variety": "maize"}, lot, gate("12", "0.5"), []).rule == "mixed_lot"
    assert "等级" in mixing_refusal("RK1", batch, lot, gate("12", "0.5", "3"), []).message
    assert "收获年度" in mixing_refusal("RK1", batch | {"harvest_year": 2024}, lot, gate("12", "0.5"), []).message
    assert mixing_refusal("RK1", batch, lot, gate("12", "0.5"), [{"lot": "L0", "cell": None}]).rule == "mixed_lot"
    assert mixing_refusal("RK1", batch, lot | {"cell": "A"}, gate("12", "0.5"), [{"lot": "L0", "cell": "B"}]) is None
    assert capacity_refusal("P01", 6000.0, D("5000"), D("1000")) is None
    assert capacity_refusal("P01", 6000.0, D("5000"), D("1000.001")).rule == "over_capacity"
    assert capacity_refusal("P01", None, D("5000"), D("99999")) is None


def test_four_eyes_state_machine():
    assert decide("transfer", PENDING, "alice", "bob", {"manager"}, True).state == APPROVED
    assert decide("plan_change", PENDING, "alice", "bob", {"supervisor"}, False).state == REJECTED
    with pytest.raises(Refused) as own:
        decide("transfer", PENDING, "alice", "alice", {"admin"}, True)
    assert own.value.status == 403
    with pytest.raises(Refused) as role:
        decide("plan_change", PENDING, "alice", "bob", {"keeper", "manager"}, True)
    assert role.value.status == 403
    with pytest.raises(Refused) as twice:
        decide("transfer", APPROVED, "alice", "bob", {"manager"}, True)
    assert twice.value.status == 409


def test_safety_class_and_new_grain():
    from central.lots.grain_state import is_new_grain, safety_class

    assert safety_class(D("12.5"), D("12.5"), D(2)) == "safe"
    assert safety_class(D("14.5"), D("12.5"), D(2)) == "semi_safe"
    assert safety_class(D("14.6"), D("12.5"), D(2)) == "dangerous"
    assert is_new_grain(date(2026, 9, 1), date(2026, 11, 30), 3)
    assert not is_new_grain(date(2026, 8, 1), date(2026, 11, 1), 3)

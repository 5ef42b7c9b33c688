"""The intake rules of domain.md §8 as pure functions.

`intake_refusal` answers which rule (if any) refuses to put a tested batch into a lot. The
limits come from settings (`IntakeLimits.from_settings`); nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from central.rules.names import variety_name

# Refusal codes, in the order they are checked: the first that applies is answered.
NOT_TESTED = "not_tested"
MOISTURE_ABOVE_SAFE = "moisture_above_safe"
IMPURITY_ABOVE_LIMIT = "impurity_above_limit"
MIXED_LOT = "mixed_lot"
OVER_CAPACITY = "over_capacity"
CHEMICAL_FAILED = "chemical_failed"   # a message only: it is answered as not_tested
REFUSALS = (NOT_TESTED, MOISTURE_ABOVE_SAFE, IMPURITY_ABOVE_LIMIT, MIXED_LOT, OVER_CAPACITY)

# Categories whose gate test is moisture and impurity; finished grain and oil come packed
# or tanked and are checked by their own quality certificates.
BULK_CATEGORIES = ("raw_grain", "oilseed")

MESSAGES = {
    NOT_TESTED: "批次{code}尚无物检结果（水分、杂质），不能入仓",
    CHEMICAL_FAILED: "批次{code}化检（食品安全）不合格，不能入仓",
    MOISTURE_ABOVE_SAFE: "批次{code}水分{moisture}%高于{variety}安全水分{safe}%，应退回或烘干后复检",
    IMPURITY_ABOVE_LIMIT: "批次{code}杂质{impurity}%高于限量{limit}%，应退回或清理后复检",
    MIXED_LOT: "批次{code}与货位{lot}的{what}不一致，不能混存（四落实）",
    OVER_CAPACITY: "仓房{granary}设计仓容{capacity} t，现存{book} t，再入{quantity} t将超出仓容",
}


@dataclass(frozen=True)
class IntakeLimits:
    """Safe moisture per variety (wet basis %), the impurity limit and the hard margin above
    safe moisture beyond which no exception may let grain straight into storage."""

    safe_moisture_pct: Mapping[str, Decimal] = field(default_factory=dict)
    impurity_max_pct: Decimal = Decimal("1.0")
    hard_margin_pp: Decimal = Decimal("3.0")

    @classmethod
    def from_settings(cls, settings) -> IntakeLimits:
        return cls(
            safe_moisture_pct={k: Decimal(str(v)) for k, v in settings.safe_moisture_pct.items()},
            impurity_max_pct=Decimal(str(settings.intake_impurity_max_pct)),
            hard_margin_pp=Decimal(str(settings.intake_moisture_hard_margin_pp)),
        )

    def safe_moisture(self, variety: str) -> Decimal | None:
        return self.safe_moisture_pct.get(variety) or self.safe_moisture_pct.get(variety.lower())


@dataclass(frozen=True)
class GateResult:
    """The batch's quality as the gate sees it: the latest physical test or re-check."""

    moisture_pct: Decimal | None
    impurity_pct: Decimal | None
    grade: str | None
    chemical_failed: bool = False


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str
    # False when not even an approved exception may override it (the 3-point rule).
    exception_allowed: bool = True


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def quality_refusal(code: str, category: str, variety: str, gate: GateResult,
                    limits: IntakeLimits) -> Refusal | None:
    """Moisture and impurity at the gate; None when the batch may go in."""
    if gate.moisture_pct is None or gate.impurity_pct is None:
        return Refusal(NOT_TESTED, MESSAGES[NOT_TESTED].format(code=code), exception_allowed=False)
    if gate.chemical_failed:
        return Refusal(NOT_TESTED, MESSAGES[CHEMICAL_FAILED].format(code=code), exception_allowed=False)
    if category not in BULK_CATEGORIES:
        return None
    safe = limits.safe_moisture(variety)
    if safe is None:
        raise UnknownVariety(variety)
    if gate.moisture_pct > safe:
        return Refusal(MOISTURE_ABOVE_SAFE, MESSAGES[MOISTURE_ABOVE_SAFE].format(
            code=code, moisture=_fmt(gate.moisture_pct), variety=variety_name(variety), safe=_fmt(safe)),
            exception_allowed=gate.moisture_pct - safe <= limits.hard_margin_pp)
    if gate.impurity_pct > limits.impurity_max_pct:
        return Refusal(IMPURITY_ABOVE_LIMIT, MESSAGES[IMPURITY_ABOVE_LIMIT].format(
            code=code, impurity=_fmt(gate.impurity_pct), limit=_fmt(limits.impurity_max_pct)))
    return None


class UnknownVariety(ValueError):
    """No safe moisture is set for the variety: the gate cannot judge the batch."""


def mixing_refusal(code: str, batch: Mapping, lot: Mapping, gate: GateResult,
                   others_in_granary: list[Mapping]) -> Refusal | None:
    """四落实: one variety, grade and harvest year per lot, and no other open lot with stock
    in the same granary cell. `others_in_granary` are the other open lots holding stock."""
    differences = []
    if batch["category"] != lot["category"]:
        differences.append("类别")
    if batch["variety"] != lot["variety"]:
        differences.append("品种")
    if lot.get("grade") and gate.grade and gate.grade != lot["grade"]:
        differences.append("等级")
    if lot.get("harvest_year") and batch.get("harvest_year") and batch["harvest_year"] != lot["harvest_year"]:
        differences.append("收获年度")
    same_cell = [o for o in others_in_granary if (o.get("cell") or "") == (lot.get("cell") or "")]
    if same_cell:
        differences.append(f"仓房（{same_cell[0]['lot']}已在同一仓房）")
    if not differences:
        return None
    return Refusal(MIXED_LOT, MESSAGES[MIXED_LOT].format(code=code, lot=lot["lot"], what="、".join(differences)))


def place_refusal(lot: Mapping, others_in_granary: list[Mapping]) -> Refusal | None:
    """One lot per granary, or per recorded cell of a split granary (四落实): stock moving into
    `lot` is refused while another open lot holds stock in the same place."""
    same_cell = [o for o in others_in_granary if (o.get("cell") or "") == (lot.get("cell") or "")]
    if not same_cell:
        return None
    place = f"仓房{lot['granary']}" + (f"廒间{lot['cell']}" if lot.get("cell") else "")
    return Refusal(MIXED_LOT, f"{place}已有货位{same_cell[0]['lot']}存粮，货位{lot['lot']}"
                              "不能再入粮：一个仓房（或登记的廒间）只存一个货位（四落实）")


def capacity_refusal(granary: str, capacity_t: float | None, book_t: Decimal,
                     quantity_t: Decimal) -> Refusal | None:
    """No intake above the granary's design capacity (when the capacity is known)."""
    if capacity_t is None or book_t + quantity_t <= Decimal(str(capacity_t)):
        return None
    return Refusal(OVER_CAPACITY, MESSAGES[OVER_CAPACITY].format(
        granary=granary, capacity=f"{capacity_t:g}", book=f"{book_t:.3f}", quantity=f"{quantity_t:.3f}"))

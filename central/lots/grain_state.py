"""What the lots say about the grain of each granary, for the `inspection_overdue` check
interval (domain.md §3, issue 14 item 6): the safety class from the grain's moisture against
its variety's safe moisture, and whether it is new grain (its card younger than the new-grain
months, when checks double)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from central.intake.rules import IntakeLimits

CLASSES = ("safe", "semi_safe", "dangerous")


def safety_class(moisture_pct: Decimal, safe_pct: Decimal, semi_safe_margin_pp: Decimal) -> str:
    """安全 at or below safe moisture, 半安全 up to the margin above it, 危险 beyond."""
    if moisture_pct <= safe_pct:
        return "safe"
    return "semi_safe" if moisture_pct <= safe_pct + semi_safe_margin_pp else "dangerous"


def months_between(start: date, today: date) -> int:
    return (today.year - start.year) * 12 + today.month - start.month


_LOTS = """
SELECT l.depot, l.granary, l.variety, l.card_established,
       coalesce((SELECT (c.inputs->>'moisture_pct')::numeric FROM stock_counts c
                 WHERE c.lot = l.lot AND c.inputs ? 'moisture_pct' ORDER BY c.id DESC LIMIT 1),
                sum(m.quantity_t * m.moisture_pct) / nullif(sum(m.quantity_t), 0)) AS moisture
FROM lots l JOIN lot_book b ON b.lot = l.lot
JOIN lot_movements m ON m.lot = l.lot AND m.direction = 'in'
     AND NOT EXISTS (SELECT 1 FROM lot_movements x WHERE x.correction_of = m.id)
WHERE l.settled_at IS NULL AND b.in_t - b.out_t - b.loss_t > 0
GROUP BY l.lot, l.depot, l.granary, l.variety, l.card_established
"""


def granary_grain_state(conn, settings) -> dict[tuple[str, str], tuple[str, date]]:
    """(depot, granary) → (safety class of its worst open lot, the newest lot's card month)."""
    limits = IntakeLimits.from_settings(settings)
    margin = Decimal(str(settings.semi_safe_margin_pp))
    out: dict[tuple[str, str], tuple[str, date]] = {}
    for depot, granary, variety, card, moisture in conn.execute(_LOTS):
        safe = limits.safe_moisture(variety)
        grain_class = "safe" if safe is None or moisture is None else safety_class(moisture, safe, margin)
        before_class, before_card = out.get((depot, granary), ("safe", card))
        out[(depot, granary)] = (max(grain_class, before_class, key=CLASSES.index), max(card, before_card))
    return out


def is_new_grain(card: date, today: date, new_grain_months: int) -> bool:
    """New grain: within its first months counted from the card's month."""
    return months_between(card, today) < new_grain_months

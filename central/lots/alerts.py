"""Stock alerts raised through the alarm mechanism (same lifecycle as every alarm):
a storage accident at settlement, stock below a depot's reserve plan, finished grain past
or near its shelf life, a granary holding more than its design capacity."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from central.alarms.state.store import raise_or_update, report_rules
from central.lots.settlement import Settlement
from central.rules.model import Finding
from central.rules.names import variety_name
from central.rules.thresholds import Thresholds

STOCK_RULES = ("stock_below_plan", "shelf_life", "granary_over_capacity")


def storage_accident(conn, lot: dict, s: Settlement) -> dict:
    """An over-loss at settlement is a storage accident (储存事故) to report."""
    finding = Finding(
        "storage_accident", f"lot:{lot['lot']}", "alarm", float(s.over_loss_t), float(s.allowed_loss_t),
        f"货位{lot['lot']}自然损耗 {s.natural_loss_t} 吨（{s.natural_loss_rate_pct} %），超过损耗定额 "
        f"{float(s.norm_rate_pct):g} %，超耗 {s.over_loss_t} 吨，按储存事故上报", lot["granary"])
    return raise_or_update(conn, lot["depot"], lot["granary"], finding)[1]


def _shelf_message(lot: str, variety: str, expires: date, left: int) -> str:
    head = f"货位{lot}（{variety_name(variety)}）保质期至 {expires.isoformat()}"
    if left < 0:
        return f"{head}，已过期 {-left} 天"
    return f"{head}，还剩 {left} 天" if left else f"{head}，今天到期"


def stock_findings(conn, today: date, shelf_warning_days: int) -> dict[str, dict[str, list[Finding]]]:
    """depot → rule → findings, for every depot that holds lots or has a plan."""
    out: dict[str, dict[str, list[Finding]]] = {}

    def add(depot: str, finding: Finding) -> None:
        out.setdefault(depot, {r: [] for r in STOCK_RULES})[finding.rule].append(finding)

    balances = """
        WITH eff AS (
          SELECT m.* FROM lot_movements m
          WHERE NOT EXISTS (SELECT 1 FROM lot_movements c WHERE c.correction_of = m.id))
        SELECT l.lot, l.depot, l.granary, l.variety, l.production_date, l.shelf_life_days,
               coalesce(sum(CASE WHEN e.direction = 'in' THEN e.quantity_t ELSE -e.quantity_t END), 0) AS t
        FROM lots l LEFT JOIN eff e ON e.lot = l.lot
        WHERE l.settled_at IS NULL
        GROUP BY l.lot, l.depot, l.granary, l.variety, l.production_date, l.shelf_life_days"""
    lots = conn.execute(balances).fetchall()
    for depot in {row[1] for row in lots}:
        out.setdefault(depot, {r: [] for r in STOCK_RULES})
    stock: dict[tuple[str, str], float] = {}
    per_granary: dict[tuple[str, str], float] = {}
    for lot, depot, granary, variety, produced, shelf_days, tonnes in lots:
        stock[(depot, variety)] = stock.get((depot, variety), 0.0) + float(tonnes)
        per_granary[(depot, granary)] = per_granary.get((depot, granary), 0.0) + float(tonnes)
        if produced and shelf_days and tonnes > 0:
            expires = produced + timedelta(days=shelf_days)
            left = (expires - today).days
            if left <= shelf_warning_days:
                add(depot, Finding("shelf_life", f"lot:{lot}", "alarm" if left < 0 else "warning",
                                   float(left), float(shelf_warning_days),
                                   _shelf_message(lot, variety, expires, left), granary))
    for depot, variety, planned in conn.execute(
            "SELECT scope, variety, quantity_t FROM reserve_plans WHERE scope_kind = 'depot'"):
        held = stock.get((depot, variety), 0.0)
        if held < float(planned):
            add(depot, Finding("stock_below_plan", f"plan:{variety}", "warning", round(held, 3),
                               float(planned), f"{variety_name(variety)}库存 {held:.2f} 吨，低于储备计划 {float(planned):.2f} 吨"))
    for depot, granary, capacity in conn.execute(
            "SELECT depot, granary, capacity_t FROM granaries WHERE capacity_t IS NOT NULL"):
        held = per_granary.get((depot, granary))
        if held is not None and held > capacity:
            add(depot, Finding("granary_over_capacity", granary, "warning", round(held, 3), capacity,
                               f"仓房{granary}现存 {held:.2f} 吨，超过设计仓容 {capacity:g} 吨",
                               granary))
    return out


def stock_rules_job(conn, settings=None, now: datetime | None = None) -> int:
    """Evaluate the stock rules for every depot; returns the number of alarm changes."""
    now = now or datetime.now().astimezone()
    warning_days = getattr(settings, "shelf_life_warning_days", 30)
    changes = 0
    for depot, by_rule in stock_findings(conn, now.date(), warning_days).items():
        with conn.transaction():
            changes += len(report_rules(conn, depot, None, by_rule, now, Thresholds()))
    return changes

"""A year of reserve business for a set of depots, deterministic from a seed (issue 14 item 8).

Per granary: last cycle's lot cleared out and settled in the first month (one over-loss: a
storage accident), this cycle's lot filled by intake batches with their tests (some refused,
one sent to drying and re-tested), rotated out by loading batches, counted (one lot outside
±3 %), plus keeper's rounds twice a month. Per depot: energy, plans below and above stock,
approvals done and pending, a supervisory inspection (one rectification overdue). Everything
goes through the same store functions the API uses, so the ledgers, aggregates and alarms are
what real work would leave."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

from central.approvals import store as approvals
from central.approvals.actions import executor
from central.inspections import store as inspections
from central.intake import store as batches
from central.intake.rules import IntakeLimits
from central.lots import alerts, store
from central.lots.settlement import impurity_reduction, moisture_reduction
from central.stocktake import store as counts
from central.stocktake.maths import compare
from central.users import User

VARIETY = {"wheat": "wheat", "maize": "maize", "corn": "maize", "paddy": "paddy", "soybean": "soybean",
           "rapeseed": "rapeseed"}
TEST_WEIGHT = {"wheat": 780, "maize": 720, "paddy": 560, "soybean": 700, "rapeseed": 650}
LOCAL = timedelta(hours=8)   # Asia/Shanghai: batches arrive in the local working day


@dataclass
class SeedGranary:
    code: str
    name: str
    capacity_t: float
    grain: str
    type: str = "flat"
    length_m: float | None = None
    width_m: float | None = None


@dataclass
class SeedDepot:
    code: str
    name: str
    region: dict
    granaries: list[SeedGranary] = field(default_factory=list)


@dataclass
class Tally:
    lots: int = 0
    batches: int = 0
    refused: int = 0
    movements: int = 0
    settlements: int = 0
    counts: int = 0
    approvals: int = 0
    inspections: int = 0

    def line(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in vars(self).items())


def add_months(d: date, n: int) -> date:
    m = d.year * 12 + d.month - 1 + n
    return date(m // 12, m % 12 + 1, 1)


def ensure_depot(conn, d: SeedDepot) -> None:
    """The depot and its granaries as provisioning would record them (a later layout message
    updates the same rows)."""
    conn.execute(
        """INSERT INTO depots (code, name, province, city, county) VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (code) DO UPDATE SET name = coalesce(depots.name, EXCLUDED.name),
               province = coalesce(depots.province, EXCLUDED.province),
               city = coalesce(depots.city, EXCLUDED.city), county = coalesce(depots.county, EXCLUDED.county)""",
        (d.code, d.name, d.region.get("province"), d.region.get("city"), d.region.get("county")))
    for g in d.granaries:
        conn.execute(
            """INSERT INTO granaries (depot, granary, name, type, grain, length_m, width_m, capacity_t)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (depot, granary) DO UPDATE SET
                   capacity_t = coalesce(granaries.capacity_t, EXCLUDED.capacity_t)""",
            (d.code, g.code, g.name, g.type, g.grain, g.length_m, g.width_m, g.capacity_t))


def depots_in_database(conn, codes: list[str] | None) -> list[SeedDepot]:
    rows = conn.execute(
        """SELECT d.code, coalesce(d.name, d.code), d.province, d.city, d.county, g.granary,
                  coalesce(g.name, g.granary), coalesce(g.capacity_t, 3000), coalesce(g.grain, 'wheat'),
                  coalesce(g.type, 'flat'), g.length_m, g.width_m
           FROM depots d JOIN granaries g ON g.depot = d.code
           WHERE g.active AND (%s::text[] IS NULL OR d.code = ANY(%s))
           ORDER BY d.code, g.granary""", (codes, codes)).fetchall()
    out: dict[str, SeedDepot] = {}
    for code, name, p, c, k, *g in rows:
        depot = out.setdefault(code, SeedDepot(code, name, {"province": p, "city": c, "county": k}))
        depot.granaries.append(SeedGranary(*g))
    return list(out.values())


class Seeder:
    def __init__(self, conn, settings, seed: int, end_month: date):
        self.conn = conn
        self.settings = settings
        self.seed = seed
        self.m0 = add_months(end_month, -11)
        self.end = add_months(end_month, 1) - timedelta(days=1)
        self.limits = IntakeLimits.from_settings(settings)
        self.tolerance = D(str(settings.stocktake_tolerance_pct))
        self.tally = Tally()
        self.execute = executor(settings)

    def rng(self, *parts) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def day(self, month: int, day: int) -> date:
        return add_months(self.m0, month) + timedelta(days=day - 1)

    def at(self, on: date, hour: float) -> datetime:
        return datetime.combine(on, datetime.min.time(), UTC) - LOCAL + timedelta(hours=hour)

    # --- one granary ----------------------------------------------------------------------

    def granary(self, d: SeedDepot, gi: int, g: SeedGranary, di: int) -> None:
        variety = VARIETY.get(g.grain, "wheat")
        safe = float(self.limits.safe_moisture(variety) or 13.0)
        r = self.rng(d.code, g.code)
        keeper = f"keeper-{d.code}"
        self.old_lot(d, g, variety, safe, r, over_loss=(di == 0 and gi == 0))
        lot = self.new_lot(d, g, variety, safe, r, keeper, refuse_wet=(gi == 1))
        self.rotate(d, g, lot, variety, safe, r, keeper)
        self.count(d, g, lot, variety, r, disagree=(di == 1 and gi == 1) or (di == 0 and gi == 1 and len(
            self.depots) == 1))
        for month in range(12):
            for dd in (5, 20):
                inspections.record(self.conn, d.code, keeper, {
                    "kind": "round", "granary": g.code, "inspected_on": self.day(month, dd),
                    "checks": {"colour": "正常", "smell": "正常", "insects": "未发现",
                               "condensation": "有" if (month, dd, gi) == (2, 20, 0) else "无",
                               "hand_temps_c": [round(r.uniform(8, 22), 1) for _ in range(3)]}})
                self.tally.inspections += 1

    def old_lot(self, d, g, variety, safe, r, over_loss: bool) -> None:
        card = add_months(self.m0, -15)
        code = f"{d.code}-{g.code}-{card.year}{card.month:02d}"
        lot = store.create_lot(self.conn, f"keeper-{d.code}", {
            "lot": code, "depot": d.code, "granary": g.code, "category": "raw_grain", "variety": variety,
            "harvest_year": card.year if card.month >= 6 else card.year - 1, "card_established": card,
            "grade": "二等"})
        q_in = D(str(round(g.capacity_t * r.uniform(0.6, 0.75), 1)))
        w_in, i_in = D(str(round(safe - 0.6, 1))), D("0.8")
        w_out, i_out = w_in - D("0.3"), D("0.7")
        self.move(lot, "in", q_in, w_in, i_in, card + timedelta(days=9), "入库汇总")
        mr = moisture_reduction(q_in, w_in, w_out)
        ir = impurity_reduction(q_in, mr, i_in, i_out)
        natural = q_in * (D("0.005") if over_loss else D(str(round(r.uniform(0.0005, 0.0015), 4))))
        q_out = (q_in - mr - ir - natural).quantize(D("0.001"))
        parts = [(q_out * D(share)).quantize(D("0.001")) for share in ("0.4", "0.35")]
        parts.append(q_out - sum(parts))
        for n, q in enumerate(parts):
            self.move(lot, "out", q, w_out, i_out, self.day(0, 2 + n), f"轮换出库{n + 1}")
        result = store.settle_lot(self.conn, lot, f"manager-{d.code}", self.day(0, 6))
        if result.storage_accident:
            alerts.storage_accident(self.conn, lot, result)
        self.tally.settlements += 1

    def new_lot(self, d, g, variety, safe, r, keeper, refuse_wet: bool) -> dict:
        card = self.m0
        lot = store.create_lot(self.conn, keeper, {
            "lot": f"{d.code}-{g.code}-{card.year}{card.month:02d}", "depot": d.code, "granary": g.code,
            "category": "raw_grain", "variety": variety, "grade": "二等",
            "harvest_year": card.year if card.month >= 6 else card.year - 1, "card_established": card})
        self.tally.lots += 2
        n = r.randint(10, 13)
        target = g.capacity_t * r.uniform(0.7, 0.8)
        for k in range(n):
            arrived = self.at(self.day(k * 60 // n // 30, 8 + (k * 60 // n) % 20), 8 + r.uniform(0, 8))
            code = batches.register(self.conn, keeper, {
                "depot": d.code, "direction": "in", "category": "raw_grain", "variety": variety,
                "harvest_year": lot["harvest_year"], "arrived_at": arrived,
                "vehicle": f"湘A{r.randint(10000, 99999)}"})["code"]
            self.tally.batches += 1
            batch = {"code": code}
            batches.record_test(self.conn, batch, f"inspector-{d.code}", {"kind": "sampling"},
                                arrived + timedelta(minutes=10))
            moisture, impurity = round(safe - r.uniform(0.2, 1.2), 1), round(r.uniform(0.3, 0.9), 1)
            if k == 2:
                impurity = 1.4
            if k == 4:
                moisture = round(safe + 1.2, 1)
            if k == 6 and refuse_wet:
                moisture = round(safe + 3.5, 1)
            t = arrived + timedelta(minutes=40)
            batches.record_test(self.conn, batch, f"inspector-{d.code}", {
                "kind": "physical", "moisture_pct": moisture, "impurity_pct": impurity,
                "test_weight_g_l": TEST_WEIGHT.get(variety, 700), "grade": "二等"}, t)
            if k == 2 or (k == 6 and refuse_wet):
                reason = "杂质超标，退回" if k == 2 else "水分高于安全水分3个百分点以上，退回"
                batches.decide(self.conn, batch, keeper, "refused", reason, t + timedelta(minutes=20))
                self.tally.refused += 1
                continue
            if k == 4:
                batches.decide(self.conn, batch, keeper, "pretreatment", "水分偏高，烘干后复检", t + timedelta(minutes=20))
                t += timedelta(hours=6)
                batches.record_test(self.conn, batch, f"inspector-{d.code}", {
                    "kind": "physical", "moisture_pct": round(safe - 0.3, 1), "impurity_pct": impurity,
                    "test_weight_g_l": TEST_WEIGHT.get(variety, 700), "grade": "二等"}, t)
            batches.record_test(self.conn, batch, f"inspector-{d.code}", {"kind": "chemical", "passed": True},
                                t + timedelta(minutes=30))
            q = D(str(round(target / n * r.uniform(0.9, 1.1), 1)))
            batches.accept(self.conn, batch, keeper, lot["lot"], q, (t + LOCAL).date(), self.limits,
                           at=t + timedelta(hours=r.uniform(1.5, 4)))
            self.tally.movements += 1
        return lot

    def rotate(self, d, g, lot, variety, safe, r, keeper) -> None:
        for n, month in enumerate((7, 9)):
            arrived = self.at(self.day(month, 12 + n), 9)
            code = batches.register(self.conn, keeper, {
                "depot": d.code, "direction": "out", "category": "raw_grain", "variety": variety,
                "arrived_at": arrived, "vehicle": f"湘B{r.randint(10000, 99999)}"})["code"]
            batches.record_test(self.conn, {"code": code}, f"inspector-{d.code}", {
                "kind": "physical", "moisture_pct": round(safe - 0.9, 1), "impurity_pct": 0.6}, arrived)
            book = store.balance_t(store.effective(store.movements(self.conn, lot["lot"])))
            q = (book * D(str(round(r.uniform(0.05, 0.08), 3)))).quantize(D("0.1"))
            batches.accept(self.conn, {"code": code}, keeper, lot["lot"], q, self.day(month, 12 + n),
                           self.limits, at=arrived + timedelta(hours=3))
            self.tally.batches += 1
            self.tally.movements += 1

    def count(self, d, g, lot, variety, r, disagree: bool) -> None:
        on = self.day(10, 15)
        book = counts.book_at(self.conn, lot, on)
        w_now = (book.moisture_in_pct - D("0.3")).quantize(D("0.1"))
        probe = compare(book, D(1), on, w_now, D("0.6"), packaged=False, tolerance_pct=self.tolerance)
        delta = D("-0.045") if disagree else D(str(round(r.uniform(-0.012, 0.012), 4)))
        target = probe.adjusted_book_t * (1 + delta)
        tw, k = D(TEST_WEIGHT.get(variety, 700)), D("1.02")
        volume = target * 1000 / (tw * k)
        body = {"date": on, "method": "measure", "test_weight_g_l": tw, "correction_factor": k,
                "moisture_pct": w_now, "impurity_pct": D("0.6")}
        if g.type == "flat" and g.length_m and g.width_m:
            length, width = D(str(g.length_m)), D(str(g.width_m))
            body |= {"shape": "flat", "length_m": length, "width_m": width,
                     "height_m": (volume / (length * width)).quantize(D("0.01"))}
        else:
            diameter = D(str(g.width_m or 10))
            area = D("3.14159265358979") * diameter * diameter / 4
            body |= {"shape": "round", "diameter_m": diameter, "height_m": (volume / area).quantize(D("0.01"))}
        counts.record(self.conn, lot, f"keeper-{d.code}", body, self.tolerance)
        self.tally.counts += 1

    def move(self, lot, direction, q, w, i, on, voucher) -> None:
        store.add_movement(self.conn, lot, f"keeper-{lot['depot']}", {
            "direction": direction, "date": on, "quantity_t": q, "moisture_pct": w, "impurity_pct": i,
            "voucher": voucher}, exception_approved=True)
        self.tally.movements += 1

    # --- one depot and the region ---------------------------------------------------------

    def depot(self, d: SeedDepot, di: int) -> None:
        for gi, g in enumerate(d.granaries):
            self.granary(d, gi, g, di)
        r = self.rng(d.code)
        for month in range(12):
            self.conn.execute("INSERT INTO energy_entries (depot, month, kwh, by_user) VALUES (%s, %s, %s, %s)",
                              (d.code, add_months(self.m0, month), round(r.uniform(3000, 6000), 1), f"manager-{d.code}"))
        held: dict[str, D] = {}
        for v, t in self.conn.execute(
                """SELECT l.variety, sum(b.in_t - b.out_t - b.loss_t) FROM lots l JOIN lot_book b ON b.lot = l.lot
                   WHERE l.depot = %s AND l.settled_at IS NULL GROUP BY 1 ORDER BY 1""", (d.code,)):
            held[v] = t
        for n, (variety, tonnes) in enumerate(sorted(held.items())):
            factor = D("0.9") if n % 2 == 0 else D("1.15")      # one below stock, one above
            self.plan("depot", d.code, variety, (tonnes * factor).quantize(D("1")),
                      f"sup-{d.region.get('city')}", approve=True, depot=d.code)
        due = self.day(10, 25) if di % 2 else self.day(4, 30)
        check = inspections.record(self.conn, d.code, f"sup-{d.region.get('city')}", {
            "kind": "supervisory", "granary": d.granaries[0].code, "inspected_on": due - timedelta(days=15),
            "findings": "仓内照明线路老化，粮面有少量结露痕迹", "rectification_due": due})
        if not di % 2:
            inspections.close(self.conn, d.code, check["id"], due - timedelta(days=3), "已更换线路并通风", f"manager-{d.code}")
        self.tally.inspections += 1

    def plan(self, kind, scope, variety, quantity, requester, approve: bool, depot=None) -> None:
        row = approvals.request(self.conn, "plan_change", requester, f"plan:{kind}:{scope}:{variety}",
                                {"scope_kind": kind, "scope": scope, "variety": variety, "quantity_t": quantity,
                                 "previous_t": None}, "年度储备计划", depot=depot,
                                region=None if depot else scope)
        self.tally.approvals += 1
        if approve:
            approver = User("chief-supervisor", "admin", "000000", True, frozenset({"supervisor"}))
            approvals.decide_and_apply(self.conn, row, approver, True, "同意", self.execute)

    def run(self, depots: list[SeedDepot]) -> Tally:
        self.depots = depots
        for di, d in enumerate(depots):
            self.depot(d, di)
        totals: dict[str, D] = {}
        provinces = sorted({d.region.get("province") for d in depots if d.region.get("province")})
        for v, t in self.conn.execute(
                """SELECT l.variety, sum(b.in_t - b.out_t - b.loss_t) FROM lots l JOIN lot_book b ON b.lot = l.lot
                   WHERE l.depot = ANY(%s) AND l.settled_at IS NULL GROUP BY 1 ORDER BY 1""",
                ([d.code for d in depots],)):
            totals[v] = t
        for province in provinces:
            for variety, tonnes in totals.items():
                self.plan("region", province, variety, (tonnes * D("1.05")).quantize(D("1")),
                          f"sup-{province}", approve=True)
            # a plan change still waiting for its second pair of eyes
            first = next(iter(totals), None)
            if first:
                self.plan("region", province, first, (totals[first] * D("1.10")).quantize(D("1")),
                          f"sup-{province}-deputy", approve=False)
        self.pending_correction(depots)
        inspections.overdue_job(self.conn, self.settings, datetime.now(UTC))
        alerts.stock_rules_job(self.conn, self.settings)
        return self.tally

    def pending_correction(self, depots: list[SeedDepot]) -> None:
        """One weighbridge correction approved by the depot manager, one still pending."""
        for n, d in enumerate(depots[:2]):
            lot = store.get_lot(self.conn, f"{d.code}-{d.granaries[0].code}-{self.m0.year}{self.m0.month:02d}")
            first = next(m for m in store.effective(store.movements(self.conn, lot["lot"])) if m["direction"] == "in")
            payload = {"lot": lot["lot"], "movement_id": first["id"], "date": first["date"],
                       "quantity_t": first["quantity_t"] - D("0.5"), "moisture_pct": first["moisture_pct"],
                       "impurity_pct": first["impurity_pct"], "voucher": first["voucher"],
                       "batch_code": first["batch_code"], "reason": "地磅复核，毛重误记 0.5 t"}
            row = approvals.request(self.conn, "correction", f"keeper-{d.code}", f"lot:{lot['lot']}", payload,
                                    payload["reason"], depot=d.code)
            self.tally.approvals += 1
            if n == 0:
                manager = User(f"manager-{d.code}", "depot", d.code, True, frozenset({"manager"}))
                approvals.decide_and_apply(self.conn, row, manager, True, "核对磅单无误", self.execute)


def seeded(conn, depots: list[SeedDepot]) -> bool:
    """Whether the seed ran for these depots already (their batches exist)."""
    return conn.execute("SELECT 1 FROM intake_batches WHERE depot = ANY(%s) LIMIT 1",
                        ([d.code for d in depots],)).fetchone() is not None


def seed_business(conn, settings, depots: list[SeedDepot], seed: int, end_month: date) -> Tally:
    # The depots first, committed: the business then holds only key-share locks on their rows,
    # so a layout arriving meanwhile (the demo's edges) is not kept waiting.
    with conn.transaction():
        for d in depots:
            ensure_depot(conn, d)
    with conn.transaction():
        return Seeder(conn, settings, seed, end_month).run(depots)

"""The Chinese names depot staff read for the codes central stores (rule, severity, alarm
state, handling step, grain variety). Every report, message and page text that names one of
these codes takes its name from here, so one code never reads two ways; an unknown code
reads as itself rather than failing a report."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RULE_NAMES = {
    "grain_temp_high": "粮温超限", "grain_temp_mean_high": "平均粮温超限", "hotspot": "局部发热",
    "temp_rise": "粮温异常上升", "condensation_risk": "结露风险", "indoor_humidity_high": "仓湿过高",
    "sensor_fault": "传感器故障", "depot_offline": "库点离线", "camera_offline": "摄像机离线",
    "inspection_overdue": "检测超期", "insect_treatment_overdue": "虫害处理超期",
    "rectification_overdue": "整改超期", "storage_accident": "储存事故（超耗）",
    "stock_below_plan": "库存低于计划", "shelf_life": "保质期预警",
    "granary_over_capacity": "超设计仓容", "stock_discrepancy": "账实不符",
}
SEVERITY_NAMES = {"alarm": "报警", "warning": "预警"}
STATE_NAMES = {"active": "未处理", "acknowledged": "已确认", "cleared": "已解除", "open": "未解除"}
ACTION_NAMES = {"ack": "确认", "plan": "处置方案", "approve": "审批", "execute": "执行",
                "result": "处置结果"}
# Variety keys as lots, batches, plans and settings spell them (domain.md §8).
VARIETY_NAMES = {
    "wheat": "小麦", "paddy": "稻谷", "indica_paddy": "籼稻", "japonica_paddy": "粳稻",
    "maize": "玉米", "corn": "玉米", "soybean": "大豆", "rice": "大米", "flour": "面粉",
    "rapeseed": "油菜籽", "edible_oil": "食用植物油", "peanut": "花生",
}
CATEGORY_NAMES = {"raw_grain": "原粮", "oilseed": "油料", "edible_oil": "食用植物油",
                  "finished_grain": "成品粮"}
DIRECTION_NAMES = {"in": "入库", "out": "出库"}
# A lot's ledger entries and the fields they (and a settlement) carry, as a lot card reads.
LEDGER_ACTIONS = {"created": "建卡", "movement": "出入库", "correction": "更正", "transfer": "移库",
                  "settled": "核销结算"}
FIELD_NAMES = {
    "lot": "货位", "depot": "库点", "granary": "仓房", "category": "类别", "variety": "品种",
    "grade": "等级", "harvest_year": "收获年度", "card_established": "建卡年月", "id": "序号",
    "direction": "方向", "date": "日期", "quantity_t": "数量（吨）", "moisture_pct": "水分 %",
    "impurity_pct": "杂质 %", "voucher": "凭证号", "batch_code": "批次", "correction_of": "更正序号",
    "reason": "原因", "from": "原仓房", "to": "新仓房", "approval_ref": "批准文号",
    "cleared_on": "出清日期", "months_stored": "储存月数", "quantity_in_t": "入库数量（吨）",
    "quantity_out_t": "出库数量（吨）", "moisture_reduction_t": "水分减量（吨）",
    "impurity_reduction_t": "杂质减量（吨）", "natural_loss_t": "自然损耗（吨）",
    "natural_loss_rate_pct": "自然损耗率 %", "norm_rate_pct": "损耗定额 %",
    "allowed_loss_t": "定额损耗（吨）", "over_loss_t": "超耗（吨）", "storage_accident": "储存事故",
}
_VALUE_NAMES = {"variety": VARIETY_NAMES, "category": CATEGORY_NAMES, "direction": DIRECTION_NAMES}

DEFAULT_TIMEZONE = "Asia/Shanghai"


def _name(names: dict[str, str], code: str | None) -> str:
    return "—" if code is None else names.get(code, code)


def rule_name(code: str | None) -> str:
    return _name(RULE_NAMES, code)


def severity_name(code: str | None) -> str:
    return _name(SEVERITY_NAMES, code)


def state_name(code: str | None) -> str:
    return _name(STATE_NAMES, code)


def action_name(code: str | None) -> str:
    return _name(ACTION_NAMES, code)


def variety_name(code: str | None) -> str:
    if code is None:
        return "—"
    return VARIETY_NAMES.get(code) or VARIETY_NAMES.get(code.lower(), code)


def local_time(ts: datetime | None, tz: str | None) -> str:
    """'2026-11-22 16:05' in the depot's zone (an aware timestamp; naive ones are taken as
    already local), the way staff write a time on a record."""
    if ts is None:
        return "—"
    if ts.tzinfo is not None:
        try:
            ts = ts.astimezone(ZoneInfo(tz or DEFAULT_TIMEZONE))
        except (ZoneInfoNotFoundError, ValueError):
            ts = ts.astimezone(ZoneInfo(DEFAULT_TIMEZONE))
    return ts.strftime("%Y-%m-%d %H:%M")


def field_name(key: str) -> str:
    return FIELD_NAMES.get(key, key)


def field_value(key: str, value) -> str:
    """A stored value as staff read it: codes by name, yes/no in words, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    names = _VALUE_NAMES.get(key)
    return names.get(value, str(value)) if names and isinstance(value, str) else str(value)

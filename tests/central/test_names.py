"""The one code → Chinese dictionary of central and the depot-local times of reports."""

from __future__ import annotations

from datetime import UTC, datetime

from central.alarms.scheduled.jobs import TIME_RULES
from central.lots.alerts import STOCK_RULES
from central.rules.names import RULE_NAMES, local_time, rule_name, state_name, variety_name
from central.rules.scan_rules import SCAN_RULES


def test_times_read_in_the_depot_zone():
    at = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    assert local_time(at, "Asia/Shanghai") == "2026-11-22 07:30"      # the next day at the depot
    assert local_time(at, "Asia/Urumqi") == "2026-11-22 05:30"
    assert local_time(at, None) == local_time(at, "Nowhere/Else") == "2026-11-22 07:30"
    assert local_time(datetime(2026, 11, 21, 9, 0), "Asia/Urumqi") == "2026-11-21 09:00"
    assert local_time(None, "Asia/Shanghai") == "—"


def test_codes_read_in_chinese_and_unknown_codes_as_themselves():
    assert (rule_name("condensation_risk"), state_name("acknowledged")) == ("结露风险", "已确认")
    assert variety_name("wheat") == variety_name("Wheat") == "小麦"
    assert variety_name("豆油") == "豆油" and rule_name("new_rule") == "new_rule"


def test_every_rule_has_a_chinese_name():
    assert {*SCAN_RULES, *TIME_RULES, *STOCK_RULES, "storage_accident"} - set(RULE_NAMES) == set()

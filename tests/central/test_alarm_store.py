"""Alarm lifecycle against real PostgreSQL: raise, re-raise without duplicate, escalate,
acknowledge, clear only after the hysteresis, concurrent raises, history and outbox."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from central.alarms.state import store
from central.db.pool import connect
from central.rules.model import Finding
from central.rules.thresholds import Thresholds
from tests.central.api_support import tag

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def hot(severity="warning", value=3.5, subject="P01/C4/L2"):
    threshold = 3.0 if severity == "warning" else 5.0
    return Finding("hotspot", subject, severity, value, threshold, f"hot {value}", "P01")


def open_count(conn, depot, rule="hotspot"):
    return conn.execute("SELECT count(*) FROM alarms WHERE depot = %s AND rule = %s "
                        "AND state <> 'cleared'", (depot, rule)).fetchone()[0]


def changes_of(conn, alarm_id):
    return [h["change"] for h in store.history(conn, alarm_id)]


def test_raise_then_reraise_updates_the_same_alarm(conn):
    depot = f"AL{tag()}"
    change, first = store.raise_or_update(conn, depot, "P01", hot(value=3.5), T0)
    assert change == "opened" and first["state"] == "active" and first["severity"] == "warning"
    change, again = store.raise_or_update(conn, depot, "P01", hot(value=4.0), T0 + timedelta(hours=1))
    assert change == "updated" and again["id"] == first["id"]
    assert again["value"] == 4.0 and again["updated_at"] == T0 + timedelta(hours=1)
    assert again["opened_at"] == T0
    change, _ = store.raise_or_update(conn, depot, "P01", hot(value=4.0), T0 + timedelta(hours=2))
    assert change == "unchanged"
    assert open_count(conn, depot) == 1
    assert changes_of(conn, first["id"]) == ["opened", "updated"]


def test_warning_escalates_to_alarm_and_reactivates_an_acknowledged_one(conn):
    depot = f"AL{tag()}"
    _, a = store.raise_or_update(conn, depot, "P01", hot("warning", 3.5), T0)
    acked = store.acknowledge(conn, a["id"], "zhang", "looking", T0 + timedelta(minutes=5))
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "zhang"
    assert acked["ack_note"] == "looking"
    change, b = store.raise_or_update(conn, depot, "P01", hot("alarm", 5.5), T0 + timedelta(hours=1))
    assert change == "escalated" and b["id"] == a["id"]
    assert b["severity"] == "alarm" and b["threshold"] == 5.0 and b["state"] == "active"
    # back to a warning-sized difference: stays an alarm (never silently de-escalates)
    _, c = store.raise_or_update(conn, depot, "P01", hot("warning", 3.2), T0 + timedelta(hours=2))
    assert c["severity"] == "alarm" and c["threshold"] == 5.0


def test_clears_only_after_condition_stays_false_for_the_hysteresis(conn):
    depot = f"AL{tag()}"
    _, a = store.raise_or_update(conn, depot, "P01", hot(), T0)
    hyst = 30
    first = store.condition_false(conn, depot, "hotspot", a["subject"], T0 + timedelta(minutes=10), hyst)
    assert [c for c, _ in first] == ["condition_false"] and first[0][1]["state"] == "active"
    # 29 min false: still open
    assert store.condition_false(conn, depot, "hotspot", a["subject"],
                                 T0 + timedelta(minutes=39), hyst) == []
    assert store.get_alarm(conn, a["id"])["state"] == "active"
    # true again: the false period restarts
    store.raise_or_update(conn, depot, "P01", hot(), T0 + timedelta(minutes=40))
    store.condition_false(conn, depot, "hotspot", a["subject"], T0 + timedelta(minutes=50), hyst)
    assert store.condition_false(conn, depot, "hotspot", a["subject"],
                                 T0 + timedelta(minutes=79), hyst) == []
    done = store.condition_false(conn, depot, "hotspot", a["subject"], T0 + timedelta(minutes=80), hyst)
    assert [c for c, _ in done] == ["cleared"]
    row = store.get_alarm(conn, a["id"])
    assert row["state"] == "cleared" and row["cleared_at"] == T0 + timedelta(minutes=80)
    # a new occurrence opens a new alarm; the cleared one stays as it was
    change, b = store.raise_or_update(conn, depot, "P01", hot(), T0 + timedelta(hours=3))
    assert change == "opened" and b["id"] != a["id"]
    with pytest.raises(store.AlarmError):
        store.acknowledge(conn, a["id"], "zhang", None)


def test_report_marks_the_rest_of_the_rule_false_in_scope_only(conn):
    depot = f"AL{tag()}"
    th = Thresholds(clear_hysteresis_min=0)
    store.report(conn, depot, "hotspot", "P01", [hot(subject="P01/C1/L1"), hot(subject="P01/C2/L1")], T0, th)
    store.report(conn, depot, "hotspot", "P02", [Finding("hotspot", "P02/C1/L1", "warning", 3.1, 3.0,
                                                         "x", "P02")], T0, th)
    out = store.report(conn, depot, "hotspot", "P01", [hot(subject="P01/C2/L1")],
                       T0 + timedelta(minutes=1), th)
    assert [(c, a["subject"]) for c, a in out] == [("cleared", "P01/C1/L1")]
    open_now = conn.execute("SELECT subject FROM alarms WHERE depot = %s AND state <> 'cleared' "
                            "ORDER BY subject", (depot,)).fetchall()
    assert [s for (s,) in open_now] == ["P01/C2/L1", "P02/C1/L1"]


def test_actions_are_recorded_with_user_and_time(conn):
    depot = f"AL{tag()}"
    _, a = store.raise_or_update(conn, depot, "P01", hot(), T0)
    store.add_action(conn, a["id"], "plan", "ventilate tonight", "li", T0 + timedelta(minutes=1))
    store.add_action(conn, a["id"], "approve", "ok", "wang", T0 + timedelta(minutes=2))
    acts = store.actions(conn, a["id"])
    assert [(x["kind"], x["by"], x["at"]) for x in acts] == [
        ("plan", "li", T0 + timedelta(minutes=1)), ("approve", "wang", T0 + timedelta(minutes=2))]
    with pytest.raises(store.AlarmError):
        store.add_action(conn, a["id"], "pray", "x", "li")
    assert changes_of(conn, a["id"]) == ["opened", "action", "action"]
    kinds = conn.execute("SELECT change FROM alarm_outbox WHERE alarm_id = %s ORDER BY id",
                         (a["id"],)).fetchall()
    assert [k for (k,) in kinds] == ["opened", "action", "action"]


def test_two_connections_raising_at_once_open_one_alarm(url):
    depot = f"AL{tag()}"
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker(value):
        try:
            with connect(url) as c, c.transaction():
                barrier.wait(5)
                results.append(store.raise_or_update(c, depot, "P01", hot(value=value), T0)[0])
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(v,)) for v in (3.5, 3.6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert sorted(results) == ["opened", "updated"]
    with connect(url) as c:
        assert open_count(c, depot) == 1


def test_many_alarms_in_one_call_each_with_its_own_change(conn):
    depot = f"AL{tag()}"
    store.raise_or_update(conn, depot, "P01", hot("warning", 3.5, "P01/C1/L1"), T0)
    store.raise_or_update(conn, depot, "P01", hot("warning", 3.5, "P01/C2/L1"), T0)
    whole = Finding("grain_temp_mean_high", "P01", "alarm", 21, 20, "mean 21", "P01")  # an int
    out = store.raise_many(conn, [
        (depot, "P01", hot("warning", 3.5, "P01/C1/L1")),        # same: unchanged
        (depot, "P01", hot("alarm", 5.5, "P01/C2/L1")),          # escalated
        (depot, "P01", hot("warning", 3.1, "P01/C3/L1")),        # opened
        (depot, None, whole),                                    # granary from the finding
    ], T0 + timedelta(hours=1))
    assert [c for c, _ in out] == ["unchanged", "escalated", "opened", "opened"]
    assert out[3][1]["granary"] == "P01" and out[3][1]["value"] == 21.0
    hyst = store.mark_false_many(conn, [
        (depot, "hotspot", "P01/C1/L1", 0), (depot, "hotspot", "P01/C3/L1", 60),
        (depot, "hotspot", "P01/C9/L9", 0)],                     # never open: nothing
        T0 + timedelta(hours=2))
    assert [(c, a["subject"]) for c, a in hyst] == [("cleared", "P01/C1/L1"),
                                                    ("condition_false", "P01/C3/L1")]
    assert changes_of(conn, out[1][1]["id"]) == ["opened", "escalated"]
    assert open_count(conn, depot) == 2


def test_a_report_of_many_scopes_writes_only_what_changes(conn):
    depot = f"AL{tag()}"
    store.raise_or_update(conn, depot, "P02", Finding("hotspot", "P02/C1/L1", "warning", 3.2, 3.0,
                                                      "x", "P02"), T0)
    reports = [
        store.Report(depot, "P01", {"hotspot": [hot(subject="P01/C1/L1")]}, {}, 0),
        store.Report(depot, "P02", {"hotspot": []}, {"hotspot": {"P02/C1/L1"}}, 0),
        store.Report(depot, "P03", {"hotspot": []}, {}, 0),
    ]
    out = store.report_many(conn, reports, T0 + timedelta(minutes=5))
    assert [(c, a["subject"]) for c, a in out] == [("opened", "P01/C1/L1"),
                                                   ("cleared", "P02/C1/L1")]
    outbox = conn.execute("SELECT change FROM alarm_outbox WHERE depot = %s ORDER BY id",
                          (depot,)).fetchall()
    assert [c for (c,) in outbox] == ["opened", "opened", "cleared"]
    assert store.report_many(conn, [], T0) == []


def test_two_workers_marking_the_same_alarms_false_both_complete(url):
    """Opposite orders, overlapping transactions: the second waits for the first (rows are
    locked in id order), neither fails, every alarm is marked once."""
    depot = f"AL{tag()}"
    subjects = [f"P01/C{c}/L1" for c in range(1, 41)]
    with connect(url, autocommit=True) as c:
        store.raise_many(c, [(depot, "P01", hot(subject=s)) for s in subjects], T0)
    barrier = threading.Barrier(2)
    errors = []

    def worker(order, hold):
        try:
            with connect(url) as c, c.transaction():
                barrier.wait(5)
                store.mark_false_many(c, [(depot, "hotspot", s, 60) for s in order],
                                      T0 + timedelta(minutes=1))
                time.sleep(hold)  # keep the locks while the other one runs
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(subjects, 0.3)),
               threading.Thread(target=worker, args=(subjects[::-1], 0.3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    with connect(url) as c:
        false_since = c.execute("SELECT count(*) FROM alarms WHERE depot = %s AND "
                                "condition_false_since IS NOT NULL", (depot,)).fetchone()[0]
    assert false_since == 40


def test_approval_refused_to_the_author_of_the_plan_it_approves():
    from central.alarms.state.store import approval_refused

    assert approval_refused("approve", "li", "li")
    assert not approval_refused("approve", "wang", "li")
    assert not approval_refused("approve", "li", None)  # no plan yet: nothing of theirs
    assert not approval_refused("execute", "li", "li")  # only approval needs other eyes

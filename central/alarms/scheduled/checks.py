"""The database side of the time-driven rules: fetch what each pure rule of
`central.rules.time_rules` needs and return its findings. No alarm is written here."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from central.alarms.state import inspections
from central.alarms.state.thresholds_store import ThresholdBook
from central.lots import grain_state
from central.rules import time_rules
from central.rules.model import Finding, point_subject
from central.settings import Settings

STUCK_SUFFIX = "/stuck"
HEATING_RULES = ("hotspot", "temp_rise")


def is_stuck_subject(subject: str) -> bool:
    return subject.endswith(STUCK_SUFFIX)


def _add(out, depot: str, finding: Finding | None) -> None:
    if finding is not None:
        out[depot][finding.rule].append(finding)


def depot_offline_findings(conn, books, now: datetime, out) -> None:
    rows = conn.execute(
        """SELECT d.code, d.state, d.last_telemetry,
                  EXISTS (SELECT 1 FROM depot_status s WHERE s.depot = d.code
                          AND s.ts = d.status_ts AND s.state = 'offline') AS will
           FROM depots d""").fetchall()
    for depot, state, last_telemetry, will in rows:
        th = books[depot].for_granary(None)
        _add(out, depot, time_rules.depot_offline("offline" if state == "offline" and will else None,
                                                  last_telemetry, now, th))


def camera_offline_findings(conn, books, now: datetime, out) -> None:
    cam_granary = {(d, c): g for d, c, g in conn.execute(
        "SELECT depot, unnest(cameras), granary FROM granaries").fetchall()}
    rows = conn.execute(
        """SELECT DISTINCT ON (depot, subject) depot, subject, kind, ts FROM events
           WHERE kind IN ('camera_offline', 'camera_online') AND subject <> ''
           ORDER BY depot, subject, ts DESC""").fetchall()
    for depot, camera, kind, ts in rows:
        if kind == "camera_offline":
            granary = cam_granary.get((depot, camera))
            _add(out, depot, time_rules.camera_offline(camera, granary, ts, now,
                                                       books[depot].for_granary(granary)))


def humidity_findings(conn, books, now: datetime, out) -> None:
    longest = max([b.for_granary(None).indoor_rh_hold_min for b in books.values()] + [120.0])
    series: dict[tuple[str, str], list] = defaultdict(list)
    for depot, granary, ts, rh in conn.execute(
            """SELECT depot, granary, ts, rh_pct FROM air_readings
               WHERE place = 'indoor' AND rh_pct IS NOT NULL AND ts > %s AND ts <= %s
               ORDER BY depot, granary, ts""",
            (now - timedelta(minutes=4 * longest), now)).fetchall():
        series[(depot, granary)].append((ts, round(rh, 2)))
    for (depot, granary), points in series.items():
        th = books[depot].for_granary(granary)
        _add(out, depot, time_rules.indoor_humidity_high(granary, points, now, th))


def inspection_findings(conn, books, now: datetime, out, settings=None) -> None:
    heating = {(d, g) for d, g in conn.execute(
        "SELECT DISTINCT depot, granary FROM alarms WHERE state <> 'cleared' AND rule = ANY(%s)",
        (list(HEATING_RULES),)).fetchall()}
    rows = conn.execute(
        """SELECT m.depot, m.granary, m.max_c, m.last_complete_at FROM alarm_scan_marks m
           JOIN granaries g ON g.depot = m.depot AND g.granary = m.granary WHERE g.active""").fetchall()
    # the lots' grain, where recorded: safety class by moisture, new grain checked twice as often
    grain = grain_state.granary_grain_state(conn, settings or Settings())
    for depot, granary, max_c, last_complete in rows:
        th = books[depot].for_granary(granary)
        if max_c is None:
            continue
        grain_class, card = grain.get((depot, granary), (th.safety_class, None))
        new = card is not None and grain_state.is_new_grain(card, now.date(), th.new_grain_months)
        days = time_rules.check_interval_days(max_c, grain_class, th,
                                              heating=(depot, granary) in heating, new_grain=new)
        _add(out, depot, time_rules.inspection_overdue(granary, last_complete, days, now))


# The message reaches depot staff: the grade as they name it (domain.md §5).
GRADE_NAMES = {"basically_free": "基本无虫粮", "ordinary": "一般虫粮", "serious": "严重虫粮",
               "dangerous": "危险虫粮"}


def insect_findings(conn, now: datetime, out) -> None:
    today = now.date()
    for row in inspections.latest_per_granary(conn):
        deadline = row["deadline"]
        if deadline is None or row["treated_on"] is not None or deadline >= today:
            continue
        late = (today - deadline).days
        _add(out, row["depot"], Finding(
            "insect_treatment_overdue", row["granary"], "alarm", float(late), None,
            f"{row['inspected_on']} 检查为{GRADE_NAMES.get(row['grade'], row['grade'])}，应于 "
            f"{deadline} 前处理，已超期 {late} 天", row["granary"]))


def time_findings(conn, books, now: datetime, settings=None) -> dict[str, dict[str, list[Finding]]]:
    out: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    depot_offline_findings(conn, books, now, out)
    camera_offline_findings(conn, books, now, out)
    humidity_findings(conn, books, now, out)
    inspection_findings(conn, books, now, out, settings)
    insect_findings(conn, now, out)
    return out


def depots_with_recent_readings(conn, now: datetime, days: int = 8) -> list[str]:
    return [d for (d,) in conn.execute(
        "SELECT code FROM depots WHERE last_telemetry >= %s", (now - timedelta(days=days),)).fetchall()]


def _daily_values(conn, depot: str, now: datetime) -> dict[tuple, list]:
    """Per point: the last valid reading of each of the last four 24-hour windows."""
    daily: dict[tuple, list] = defaultdict(lambda: [None] * 4)
    for granary, cable, layer, k, temp in conn.execute(
            """SELECT DISTINCT ON (granary, cable, layer, k) granary, cable, layer, k, temp_x100
               FROM (SELECT granary, cable, layer, ts, temp_x100,
                            floor(extract(epoch FROM (%(now)s - ts)) / 86400)::int AS k
                     FROM grain_readings
                     WHERE depot = %(d)s AND ts > %(now)s - interval '4 days' AND ts <= %(now)s
                       AND NOT fault AND temp_x100 IS NOT NULL) r
               ORDER BY granary, cable, layer, k, ts DESC""",
            {"d": depot, "now": now}).fetchall():
        daily[(granary, cable, layer)][k] = temp / 100  # stored in hundredths
    return daily


def _stuck(conn, depot: str, book: ThresholdBook, now: datetime) -> list[Finding]:
    span = max(book.for_granary(None).sensor_stuck_days, 0.01)
    start = now - timedelta(days=span)
    out = []
    for granary, cable, layer, low, high, n, first in conn.execute(
            """SELECT granary, cable, layer, min(temp_x100) FILTER (WHERE ts >= %(start)s),
                      max(temp_x100) FILTER (WHERE ts >= %(start)s),
                      count(*) FILTER (WHERE ts >= %(start)s), min(ts)
               FROM grain_readings
               WHERE depot = %(d)s AND ts >= %(start)s - interval '1 day' AND ts <= %(now)s
                 AND NOT fault AND temp_x100 IS NOT NULL
               GROUP BY granary, cable, layer""",
            {"d": depot, "start": start, "now": now}).fetchall():
        if n < 2 or low != high or first > start:  # must reach back the whole span
            continue
        th = book.for_granary(granary)
        value = low / 100  # stored in hundredths
        subject = point_subject(granary, cable, layer) + STUCK_SUFFIX
        found = time_rules.sensor_stuck(subject, granary, [(first, value), (start, value), (now, value)],
                                        now, th)
        if found is not None:
            out.append(found)
    return out


def point_findings(conn, depot: str, book: ThresholdBook, now: datetime) -> tuple[list, list]:
    """(temp_rise findings, stuck-sensor findings) of one depot."""
    rise = []
    for (granary, cable, layer), daily in _daily_values(conn, depot, now).items():
        found = time_rules.temp_rise(point_subject(granary, cable, layer), granary, daily,
                                     book.for_granary(granary))
        if found is not None:
            rise.append(found)
    return rise, _stuck(conn, depot, book, now)

"""The fortnightly grain-condition report of a granary (粮情报告): for each day the morning
record (the first reading of each sensor between 08:00 and 10:00 depot time), per-layer
min/max/mean, the 三温两湿, and the alarms of the period with their handling."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MORNING = (time(8, 0), time(10, 0))


def _r(value) -> float | None:
    return None if value is None else round(float(value), 2)


def morning_layers(conn, depot: str, granary: str, tz: str, start: date, days: int) -> list[tuple]:
    """(day, layer, min, max, mean) of the morning record of each day."""
    return conn.execute(
        """WITH w AS (
             SELECT DISTINCT ON (day, cable, layer) day, cable, layer, temp_x100 FROM (
               SELECT (ts AT TIME ZONE %(tz)s)::date AS day, cable, layer, temp_x100, ts
               FROM grain_readings
               WHERE depot = %(depot)s AND granary = %(granary)s AND NOT fault AND temp_x100 IS NOT NULL
                 AND ts >= %(start)s AND ts < %(end)s
                 AND (ts AT TIME ZONE %(tz)s)::time >= %(t0)s AND (ts AT TIME ZONE %(tz)s)::time < %(t1)s
             ) x ORDER BY day, cable, layer, ts)
           SELECT day, layer, min(temp_x100)::float8 / 100, max(temp_x100)::float8 / 100,
                  avg(temp_x100::float8) / 100 FROM w
           GROUP BY day, layer ORDER BY day, layer""",
        _window(depot, granary, tz, start, days)).fetchall()


def morning_air(conn, depot: str, granary: str, tz: str, start: date, days: int) -> dict[tuple, tuple]:
    """(day, place) → (temp_c, rh_pct) of the first air reading of each morning."""
    rows = conn.execute(
        """SELECT DISTINCT ON (day, place) day, place, temp_c, rh_pct FROM (
             SELECT (ts AT TIME ZONE %(tz)s)::date AS day, place, temp_c, rh_pct, ts
             FROM air_readings
             WHERE depot = %(depot)s AND (granary = %(granary)s OR place = 'outdoor')
               AND ts >= %(start)s AND ts < %(end)s
               AND (ts AT TIME ZONE %(tz)s)::time >= %(t0)s AND (ts AT TIME ZONE %(tz)s)::time < %(t1)s
           ) x ORDER BY day, place, ts""", _window(depot, granary, tz, start, days)).fetchall()
    return {(day, place): (t, rh) for day, place, t, rh in rows}


def period_alarms(conn, depot: str, granary: str, tz: str, start: date, days: int) -> list[dict]:
    p = _window(depot, granary, tz, start, days)
    alarms = conn.execute(
        """SELECT id, rule, subject, severity, state, message, opened_at, cleared_at FROM alarms
           WHERE depot = %(depot)s AND (granary = %(granary)s OR granary IS NULL)
             AND opened_at < %(end)s AND (cleared_at IS NULL OR cleared_at >= %(start)s)
           ORDER BY opened_at""", p).fetchall()
    out = []
    for alarm_id, rule, subject, severity, state, message, opened, cleared in alarms:
        actions = conn.execute("SELECT kind, text, by_user, at FROM alarm_actions WHERE alarm_id = %s "
                               "ORDER BY id", (alarm_id,)).fetchall()
        out.append({"id": alarm_id, "rule": rule, "subject": subject, "severity": severity,
                    "state": state, "message": message, "opened_at": opened, "cleared_at": cleared,
                    "actions": [{"kind": k, "text": t, "by": b, "at": a} for k, t, b, a in actions]})
    return out


def _window(depot: str, granary: str, tz: str, start: date, days: int) -> dict:
    zone = ZoneInfo(tz)
    return {"depot": depot, "granary": granary, "tz": tz, "t0": MORNING[0], "t1": MORNING[1],
            "start": datetime.combine(start, time(0), zone),
            "end": datetime.combine(start + timedelta(days=days), time(0), zone)}


def daily_rows(layers: list[tuple], air: dict[tuple, tuple], start: date, days: int) -> list[dict]:
    """One row a day: granary min/max/mean over the layers, each layer, and the air."""
    by_day: dict[date, list[tuple]] = {}
    for day, layer, lo, hi, mean in layers:
        by_day.setdefault(day, []).append((layer, lo, hi, mean))
    rows = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        entries = by_day.get(day, [])
        indoor = air.get((day, "indoor"), (None, None))
        outdoor = air.get((day, "outdoor"), (None, None))
        rows.append({
            "day": day.isoformat(),
            "grain_min": _r(min((e[1] for e in entries), default=None)),
            "grain_max": _r(max((e[2] for e in entries), default=None)),
            "grain_mean": _r(sum(e[3] for e in entries) / len(entries)) if entries else None,
            "layers": [{"layer": e[0], "min": _r(e[1]), "max": _r(e[2]), "mean": _r(e[3])} for e in entries],
            "indoor_temp_c": _r(indoor[0]), "indoor_rh_pct": _r(indoor[1]),
            "outdoor_temp_c": _r(outdoor[0]), "outdoor_rh_pct": _r(outdoor[1]),
        })
    return rows


def granary_report(conn, depot: str, granary: str, tz: str, start: date, days: int) -> dict:
    layers = morning_layers(conn, depot, granary, tz, start, days)
    air = morning_air(conn, depot, granary, tz, start, days)
    return {"depot": depot, "granary": granary, "from": start.isoformat(), "days": days,
            "timezone": tz, "morning_window": "08:00-10:00",
            "days_rows": daily_rows(layers, air, start, days),
            "alarms": period_alarms(conn, depot, granary, tz, start, days)}


DAY_COLUMNS = ("day", "grain_min", "grain_max", "grain_mean", "indoor_temp_c", "indoor_rh_pct",
               "outdoor_temp_c", "outdoor_rh_pct")
DAY_HEADERS = ("日期", "最低粮温 ℃", "最高粮温 ℃", "平均粮温 ℃", "仓温 ℃", "仓湿 %RH", "气温 ℃", "气湿 %RH")


def csv_rows(report: dict) -> tuple[list[str], list[list]]:
    """Flat rows: one per day and layer (layer blank = the whole granary)."""
    columns = ["日期", "层", "最低粮温 ℃", "最高粮温 ℃", "平均粮温 ℃", "仓温 ℃", "仓湿 %RH",
               "气温 ℃", "气湿 %RH"]
    rows = []
    for d in report["days_rows"]:
        air = [d["indoor_temp_c"], d["indoor_rh_pct"], d["outdoor_temp_c"], d["outdoor_rh_pct"]]
        rows.append([d["day"], "", d["grain_min"], d["grain_max"], d["grain_mean"], *air])
        rows += [[d["day"], x["layer"], x["min"], x["max"], x["mean"], *air] for x in d["layers"]]
    return columns, rows

"""Reading alarms for the API: the scoped list and one alarm with its actions."""

from __future__ import annotations

from datetime import datetime

from psycopg.rows import dict_row

from central.alarms.state.store import ALARM_FIELDS

STATES = ("active", "acknowledged", "cleared", "open")


def list_alarms(conn, scope_where: str, scope_params: list, *, state: str | None = None,
                depot: str | None = None, rule: str | None = None, since: datetime | None = None,
                limit: int = 1000) -> list[dict]:
    """Alarms of the depots matching `scope_where` (a condition on depots `d`), newest change
    first. `state='open'` means active or acknowledged; `since` filters on updated_at."""
    where, params = [scope_where], list(scope_params)
    if state == "open":
        where.append("a.state <> 'cleared'")
    elif state:
        where.append("a.state = %s")
        params.append(state)
    for column, value in (("a.depot", depot), ("a.rule", rule)):
        if value:
            where.append(f"{column} = %s")
            params.append(value)
    if since is not None:
        where.append("a.updated_at >= %s")
        params.append(since)
    cols = ", ".join(f"a.{c}" for c in ALARM_FIELDS)
    sql = (f"SELECT {cols} FROM alarms a JOIN depots d ON d.code = a.depot "
           f"WHERE {' AND '.join(where)} ORDER BY a.updated_at DESC, a.id DESC LIMIT %s")
    return conn.cursor(row_factory=dict_row).execute(sql, [*params, limit]).fetchall()

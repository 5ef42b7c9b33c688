"""The commands issued to a depot's edge and the edge's answers, kept in `depot_commands`
(migration 0070) rather than in one API process's memory: they survive a restart, and every
API process (and the device page behind any of them) shows the same list.

Two writers meet here, in either order: the API records a command before it publishes it,
and the result (`cmd/result`) is recorded by the ingest hook `on_result` and by the API's
own short-lived listener (so a deployment without ingest hooks still sees answers). Both
writes are upserts on the command id, so a result that overtakes its command, or arrives
twice, leaves one row with both halves.

The table is bounded: rows past `commands_retention_days` are pruned by the retention job
(central/jobs.apply_retention → `prune`), and a faulty or hostile edge answering ids central
never issued can hold at most RESULT_ONLY_CAP such result-only rows per depot (the rest are
dropped: a result that overtakes its command is the rare race, not a stream).
"""

from __future__ import annotations

from datetime import UTC, datetime

from psycopg.rows import dict_row

ACTION_NAMES = {"scan_now": "立即巡检", "snapshot": "立即抓拍", "republish_layout": "重发布局",
                "live_start": "实时查看", "live_stop": "结束实时查看"}
RECENT = 20
# Result-only rows (no command issued here yet) kept per depot; see the module notes.
RESULT_ONLY_CAP = 200


def record_issued(conn, command, issued_by: str | None) -> None:
    """The command as published (before the broker has it: see the module notes)."""
    conn.execute(
        """INSERT INTO depot_commands (id, depot, action, granary, issued_by, issued_at)
           VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (id) DO UPDATE SET action = EXCLUDED.action, granary = EXCLUDED.granary,
               issued_by = EXCLUDED.issued_by, issued_at = EXCLUDED.issued_at""",
        (str(command.id), command.depot, command.action, command.granary, issued_by,
         command.issued_at))


def forget(conn, command_id: str) -> None:
    """A command that never reached the broker was not issued."""
    conn.execute("DELETE FROM depot_commands WHERE id = %s AND done_at IS NULL", (command_id,))


def record_result(conn, depot: str, result, received_at: datetime | None = None) -> None:
    """The edge's answer for a command id of `depot` (a result naming another depot's
    command is not recorded against it; one for an id not issued is kept only while the
    depot holds fewer than RESULT_ONLY_CAP result-only rows)."""
    conn.execute(
        """INSERT INTO depot_commands (id, depot, state, ok, detail, done_at, result_at)
           SELECT %(id)s, %(depot)s, %(state)s, %(ok)s, %(detail)s, %(done)s, %(at)s
           WHERE EXISTS (SELECT 1 FROM depot_commands WHERE id = %(id)s)
              OR (SELECT count(*) FROM (SELECT 1 FROM depot_commands
                                        WHERE depot = %(depot)s AND action IS NULL
                                        LIMIT %(cap)s) x) < %(cap)s
           ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, ok = EXCLUDED.ok,
               detail = EXCLUDED.detail, done_at = EXCLUDED.done_at,
               result_at = coalesce(depot_commands.result_at, EXCLUDED.result_at)
           WHERE depot_commands.depot = EXCLUDED.depot""",
        {"id": str(result.id), "depot": depot, "state": "done" if result.ok else "failed",
         "ok": result.ok, "detail": result.detail, "done": result.done_at,
         "at": received_at or datetime.now(UTC), "cap": RESULT_ONLY_CAP})


def prune(conn, retention_days: int) -> int:
    """Delete the commands (and stray results) older than `retention_days` by when they were
    issued or, for a result-only row, received; returns how many."""
    return conn.execute(
        """DELETE FROM depot_commands
           WHERE coalesce(issued_at, result_at) < now() - make_interval(days => %s)""",
        (retention_days,)).rowcount


def on_result(conn, depot: str, message) -> None:
    """Ingest hook for `cmd/result` (central/wiring.py): record the edge's answer."""
    record_result(conn, depot, message)


def entry(row: dict) -> dict:
    """A stored command as the API shows it."""
    action = row["action"]
    return {
        "id": str(row["id"]), "depot": row["depot"], "action": action,
        "action_name": ACTION_NAMES.get(action, "其他指令") if action else "其他指令",
        "granary": row["granary"], "issued_by": row["issued_by"], "issued_at": row["issued_at"],
        "state": row["state"],
        "result": None if row["ok"] is None else {
            "ok": row["ok"], "detail": row["detail"], "done_at": row["done_at"]},
    }


def get(conn, command_id: str) -> dict | None:
    row = conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM depot_commands WHERE id = %s", (command_id,)).fetchone()
    return None if row is None else entry(row)


def recent(conn, depot: str, limit: int = RECENT) -> list[dict]:
    """The depot's latest commands, newest first (a result whose command was not issued
    through the API sorts by when it arrived)."""
    rows = conn.cursor(row_factory=dict_row).execute(
        """SELECT * FROM depot_commands WHERE depot = %s
           ORDER BY coalesce(issued_at, result_at) DESC, id LIMIT %s""",
        (depot, limit)).fetchall()
    return [entry(r) for r in rows]

"""Insect inspections (domain.md §5): record one, grade it, keep its treatment deadline;
mark it treated. `overdue(conn, today)` lists the inspections whose deadline has passed
without treatment and without a newer inspection of the same granary."""

from __future__ import annotations

from datetime import date

from psycopg.rows import dict_row

from central.rules.insects import insect_grade

_COLUMNS = ("id, depot, granary, inspected_on, pests_per_kg, major_per_kg, quarantine_found, "
            "species, grain_temp_c, grade, deadline, treated_on, by_user AS by, recorded_at")


def granary_max_temp(conn, depot: str, granary: str) -> float | None:
    """The highest grain temperature of the granary's latest scan (for the 15 °C rule)."""
    row = conn.execute(
        """SELECT max(temp_x100) FROM grain_readings
           WHERE depot = %s AND granary = %s AND NOT fault AND ts = (
               SELECT max(ts) FROM grain_readings WHERE depot = %s AND granary = %s)""",
        (depot, granary, depot, granary)).fetchone()
    return None if row is None or row[0] is None else row[0] / 100  # stored in hundredths


def record(conn, depot: str, granary: str, inspected_on: date, pests_per_kg: float,
           major_per_kg: float, quarantine_found: bool, species: list[str],
           grain_temp_c: float | None, user: str) -> dict:
    if grain_temp_c is None:
        grain_temp_c = granary_max_temp(conn, depot, granary)
    grade = insect_grade(pests_per_kg, major_per_kg, quarantine_found, inspected_on, grain_temp_c)
    return conn.cursor(row_factory=dict_row).execute(
        f"""INSERT INTO insect_inspections (depot, granary, inspected_on, pests_per_kg,
              major_per_kg, quarantine_found, species, grain_temp_c, grade, deadline, by_user)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",
        (depot, granary, inspected_on, pests_per_kg, major_per_kg, quarantine_found, species,
         grain_temp_c, grade.grade, grade.deadline, user)).fetchone()


def mark_treated(conn, depot: str, granary: str, inspection_id: int, treated_on: date) -> dict | None:
    return conn.cursor(row_factory=dict_row).execute(
        f"""UPDATE insect_inspections SET treated_on = %s
            WHERE id = %s AND depot = %s AND granary = %s RETURNING {_COLUMNS}""",
        (treated_on, inspection_id, depot, granary)).fetchone()


def list_for(conn, depot: str, granary: str, limit: int = 100) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        f"SELECT {_COLUMNS} FROM insect_inspections WHERE depot = %s AND granary = %s "
        "ORDER BY inspected_on DESC, id DESC LIMIT %s", (depot, granary, limit)).fetchall()


def latest_per_granary(conn) -> list[dict]:
    """The newest inspection of every granary (a newer one supersedes an older deadline)."""
    return conn.cursor(row_factory=dict_row).execute(
        f"""SELECT DISTINCT ON (depot, granary) {_COLUMNS} FROM insect_inspections
            ORDER BY depot, granary, inspected_on DESC, id DESC""").fetchall()

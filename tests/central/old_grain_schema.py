"""A database as it was before migration 0060 (grain temperatures as `temp_c real`, a
`received_at` per reading, the aggregates reading temp_c), for the conversion tests of both
storage paths."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from central.db import aggregates, plain, storage, timescale
from central.db import migrate as migrate_module

# The grain aggregate definitions before 0060, verbatim.
OLD_GRAIN_VALUES = """min(temp_c) AS temp_min, max(temp_c) AS temp_max,
           avg(temp_c::float8) AS temp_mean, sum(temp_c::float8) AS temp_sum, count(temp_c) AS n"""
OLD_GRAIN_WHERE = "temp_c IS NOT NULL AND NOT fault AND (flags & 1) = 0"
OLD_COLUMNS = "depot, granary, cable, layer, ts, temp_c, fault, batch, flags, received_at"
CONVERSION = 60


def old_aggregates() -> list:
    return [replace(a, values=OLD_GRAIN_VALUES, where=OLD_GRAIN_WHERE)
            if a.source == "grain_readings" else a for a in aggregates.AGGREGATES]


def migrate_before_conversion(url: str, settings, monkeypatch, tmp_path: Path) -> list[str]:
    """Migrate `url` with the migration files before 0060 and the old aggregate definitions;
    the monkeypatch is undone afterwards, so the next `migrate` is today's."""
    old_dir = tmp_path / "migrations_before_0060"
    old_dir.mkdir()
    for path in migrate_module.MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) < CONVERSION:
            shutil.copy(path, old_dir / path.name)
    old = old_aggregates()
    for module in (timescale, plain, storage):
        monkeypatch.setattr(module, "AGGREGATES", old)
    try:
        return migrate_module.migrate(url, settings, directory=old_dir)
    finally:
        monkeypatch.undo()


def columns(conn, table: str = "grain_readings") -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s", (table,)).fetchall()}


def aggregate_rows(conn, depot: str) -> dict[str, list[tuple]]:
    """Every grain aggregate's rows of `depot`, in key order."""
    out = {}
    for agg in aggregates.AGGREGATES:
        if agg.source != "grain_readings":
            continue
        keys = ", ".join((*agg.keys, "bucket"))
        out[agg.name] = conn.execute(
            f"SELECT {keys}, temp_min, temp_max, temp_mean, temp_sum, n FROM {agg.name} "
            f"WHERE depot = %s ORDER BY {keys}", (depot,)).fetchall()
    return out


def same_values(before: dict, after: dict) -> list[str]:
    """Where the aggregates differ beyond float4 noise (°C to two decimals must agree)."""
    problems = []
    for name, rows in before.items():
        if len(rows) != len(after[name]):
            problems.append(f"{name}: {len(rows)} rows before, {len(after[name])} after")
            continue
        for old, new in zip(rows, after[name], strict=True):
            keys = len(old) - 5
            if old[:keys] != new[:keys] or old[-1] != new[-1] or any(
                    abs(a - b) > 1e-4 for a, b in zip(old[keys:-1], new[keys:-1], strict=True)):
                problems.append(f"{name}: {old} became {new}")
    return problems

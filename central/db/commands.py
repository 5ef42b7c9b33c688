"""`grainlink central migrate`: bring the database schema up to date."""

from __future__ import annotations

import logging
import sys


def register_migrate(subparsers) -> None:
    """Add the `migrate` subcommand to central's subparsers."""
    p = subparsers.add_parser("migrate", help="create or update the database schema",
                              description="Apply pending migrations (idempotent).")
    p.add_argument("--settings", metavar="FILE", help="settings file (YAML)")
    p.add_argument("--database-url", help="PostgreSQL URL (setting database_url)")
    p.set_defaults(func=migrate_command)


def command_settings(path, log_format: str = "%(asctime)s %(levelname)s %(name)s %(message)s",
                     **overrides):
    """Settings for a `grainlink central` command, with logging set up; None (the problem
    printed) when a setting is bad."""
    from central.settings import SettingsError, load_settings

    try:
        settings = load_settings(path, **overrides)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    logging.basicConfig(level=logging.INFO, format=log_format)
    return settings


def apply_migrations(settings) -> list[str] | None:
    """Bring the schema up to date; None (the problem printed) when it cannot."""
    import psycopg

    from central.db.migrate import MigrationError, migrate

    try:
        return migrate(settings.database_url, settings)
    except (MigrationError, psycopg.Error) as exc:
        print(f"error: migrate: {str(exc).strip()}", file=sys.stderr)
        return None


def migrate_command(args) -> int:
    overrides = {"database_url": args.database_url} if args.database_url else {}
    settings = command_settings(args.settings, "%(levelname)s %(name)s %(message)s", **overrides)
    if settings is None:
        return 2
    done = apply_migrations(settings)
    if done is None:
        return 1
    print("applied: " + ", ".join(done) if done else "schema is up to date")
    return 0

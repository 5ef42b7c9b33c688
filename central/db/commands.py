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


def migrate_command(args) -> int:
    import psycopg

    from central.db.migrate import MigrationError, migrate
    from central.settings import SettingsError, load_settings

    overrides = {"database_url": args.database_url} if args.database_url else {}
    try:
        settings = load_settings(args.settings, **overrides)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    try:
        done = migrate(settings.database_url, settings)
    except (MigrationError, psycopg.Error) as exc:
        print(f"error: migrate: {str(exc).strip()}", file=sys.stderr)
        return 1
    print("applied: " + ", ".join(done) if done else "schema is up to date")
    return 0

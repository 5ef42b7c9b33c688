"""One database session for an operator's command (`grainlink central user|depot …`): the
settings, one autocommit connection, and the errors an operator can act on said in Chinese
instead of a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run_on_database(args, action: Callable, *, application: str,
                    refusals: tuple[type[Exception], ...] = (), missing: str = "所需的表") -> int:
    """`action(conn, settings)` on a fresh connection; exit code 2 for what the command
    refused (`refusals`, bad settings), 1 for a database that is unreachable or unmigrated."""
    import psycopg

    from central.db.pool import connect
    from central.settings import SettingsError, load_settings

    try:
        settings = load_settings(getattr(args, "settings", None))
        with connect(settings.database_url, autocommit=True, application_name=application) as conn:
            return action(conn, settings)
    except (SettingsError, *refusals) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except psycopg.errors.UndefinedTable:
        print(f"错误：数据库里没有{missing}，请先运行 `grainlink central migrate`", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"错误：连不上数据库：{exc}".rstrip(), file=sys.stderr)
        return 1

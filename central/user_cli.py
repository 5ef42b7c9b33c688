"""`grainlink central user add|list|revoke`: manage API users and their tokens."""

from __future__ import annotations

import argparse
import sys

from central.users import ROLES


def register_user(subparsers) -> None:
    """Add the `user` subcommand group to central's subparsers."""
    user = subparsers.add_parser("user", help="API users and tokens: add, list, revoke",
                                 description="API users and their bearer tokens.")
    user.add_argument("--settings", metavar="FILE", help="settings file (YAML)")
    user.set_defaults(func=lambda _a: (user.print_help(), 2)[1])
    actions = user.add_subparsers(dest="user_command", metavar="ACTION")

    add = actions.add_parser("add", help="create a user and print its token once")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--scope", required=True,
                     help="region code (admin 000000, province 430000, city 430100, "
                          "county 430102) or a depot code for role depot")
    add.add_argument("--read-only", action="store_true", help="a viewer: no writes")
    add.set_defaults(func=_add)

    lst = actions.add_parser("list", help="list users (never tokens)")
    lst.set_defaults(func=_list)

    revoke = actions.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("name")
    revoke.set_defaults(func=_revoke)


def _connect(args):
    from central.db.pool import connect
    from central.settings import load_settings

    settings = load_settings(getattr(args, "settings", None))
    return connect(settings.database_url, autocommit=True, application_name="grainlink-user")


def _run(args, action) -> int:
    import psycopg

    from central.settings import SettingsError
    from central.users import UserError

    try:
        with _connect(args) as conn:
            return action(conn)
    except (UserError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except psycopg.errors.UndefinedTable:
        print("error: the users table is missing: run `grainlink central migrate` first",
              file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach the database: {exc}".rstrip(), file=sys.stderr)
        return 1


def _add(args: argparse.Namespace) -> int:
    from central.users import add_user

    def action(conn) -> int:
        token = add_user(conn, args.name, args.role, args.scope, can_write=not args.read_only)
        access = "read-only" if args.read_only else "read-write"
        print(f"user {args.name}: role {args.role}, scope {args.scope}, {access}", file=sys.stderr)
        print("token (shown once; only its hash is stored):", file=sys.stderr)
        print(token)
        return 0

    return _run(args, action)


def _list(args: argparse.Namespace) -> int:
    from central.users import list_users

    def action(conn) -> int:
        for u in list_users(conn):
            state = f"revoked {u.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if u.revoked_at else "active"
            access = "write" if u.can_write else "read"
            print(f"{u.name}\t{u.role}\t{u.scope}\t{access}\t{state}")
        return 0

    return _run(args, action)


def _revoke(args: argparse.Namespace) -> int:
    from central.users import revoke_user

    def action(conn) -> int:
        revoke_user(conn, args.name)
        print(f"user {args.name}: token revoked", file=sys.stderr)
        return 0

    return _run(args, action)

"""`grainlink central user add|grant|revoke|list`: API users, their job roles and tokens."""

from __future__ import annotations

import argparse
import sys

from central.users import JOB_ROLES, ROLES


def register_user(subparsers) -> None:
    """Add the `user` subcommand group to central's subparsers."""
    user = subparsers.add_parser("user", help="API users, roles and tokens: add, grant, revoke, list",
                                 description="API users and their bearer tokens.")
    user.add_argument("--settings", metavar="FILE", help="settings file (YAML)")
    user.set_defaults(func=lambda _a: (user.print_help(), 2)[1])
    actions = user.add_subparsers(dest="user_command", metavar="ACTION")

    add = actions.add_parser("add", help="create a user and print its token once")
    add.add_argument("name")
    add.add_argument("--role", required=True, metavar="ROLE[,ROLE]", type=_role_list,
                     help=f"job roles ({', '.join(JOB_ROLES)}; several comma-separated) or an "
                          f"old role name ({', '.join(ROLES)})")
    add.add_argument("--scope", required=True,
                     help="region code (admin 000000, province 430000, city 430100, "
                          "county 430102) or a depot code for role depot")
    add.add_argument("--read-only", action="store_true", help="a viewer: no writes")
    add.set_defaults(func=_add)

    lst = actions.add_parser("list", help="list users (never tokens)")
    lst.set_defaults(func=_list)

    grant = actions.add_parser("grant", help="grant a job role within the user's scope")
    grant.add_argument("name")
    grant.add_argument("--role", required=True, choices=JOB_ROLES)
    grant.set_defaults(func=_grant)

    revoke = actions.add_parser("revoke", help="revoke a job role (--role), or the user's token")
    revoke.add_argument("name")
    revoke.add_argument("--role", choices=JOB_ROLES, help="revoke only this job role")
    revoke.set_defaults(func=_revoke)


def _role_list(text: str) -> str:
    known = (*ROLES, *JOB_ROLES)
    for name in text.split(","):
        if name.strip() not in known:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {name.strip()!r} (choose from {', '.join(dict.fromkeys(known))})")
    return text


def _run(args, action) -> int:
    from central.db.cli_session import run_on_database
    from central.users import UserError

    return run_on_database(args, lambda conn, _settings: action(conn),
                           application="grainlink-user", refusals=(UserError,),
                           missing=" users 表")


def _add(args: argparse.Namespace) -> int:
    from central.users import add_user

    def action(conn) -> int:
        token = add_user(conn, args.name, args.role, args.scope, can_write=not args.read_only)
        access = "只读" if args.read_only else "可读写"
        print(f"用户 {args.name}：角色 {args.role}，范围 {args.scope}，{access}", file=sys.stderr)
        print("令牌（只显示这一次，库里只存它的散列）：", file=sys.stderr)
        print(token)
        return 0

    return _run(args, action)


def _list(args: argparse.Namespace) -> int:
    from central.users import list_users

    def action(conn) -> int:
        for u in list_users(conn):
            state = f"revoked {u.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if u.revoked_at else "active"
            access = "write" if u.can_write else "read"
            roles = ",".join(u.roles) or "-"
            # job roles last: scripts reading the first columns keep working
            print(f"{u.name}\t{u.role}\t{u.scope}\t{access}\t{state}\t{roles}")
        return 0

    return _run(args, action)


def _grant(args: argparse.Namespace) -> int:
    from central.users import change_role

    def action(conn) -> int:
        roles = change_role(conn, args.name, args.role, grant=True)
        print(f"用户 {args.name}：岗位角色 {','.join(roles)}", file=sys.stderr)
        return 0

    return _run(args, action)


def _revoke(args: argparse.Namespace) -> int:
    from central.users import change_role, revoke_user

    def action(conn) -> int:
        if args.role:
            roles = change_role(conn, args.name, args.role, grant=False)
            print(f"用户 {args.name}：岗位角色 {','.join(roles) or '（无，只读）'}", file=sys.stderr)
            return 0
        revoke_user(conn, args.name)
        print(f"用户 {args.name}：令牌已吊销", file=sys.stderr)
        return 0

    return _run(args, action)

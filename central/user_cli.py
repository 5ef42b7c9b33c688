"""`grainlink central user add|grant|revoke|list`: API users, their job roles and tokens."""

from __future__ import annotations

import argparse
import sys

from central.users import JOB_ROLES, ROLES


def register_user(subparsers) -> None:
    """Add the `user` subcommand group to central's subparsers."""
    user = subparsers.add_parser("user", help="API 用户、岗位角色与令牌：add、grant、revoke、list、history",
                                 description="API 用户及其访问令牌（库里只存令牌的散列）。")
    user.add_argument("--settings", metavar="FILE", help="设置文件（YAML）")
    user.set_defaults(func=lambda _a: (user.print_help(), 2)[1])
    actions = user.add_subparsers(dest="user_command", metavar="ACTION")

    add = actions.add_parser("add", help="新建用户，并只打印一次它的令牌")
    add.add_argument("name")
    add.add_argument("--role", required=True, metavar="ROLE[,ROLE]", type=_role_list,
                     help=f"岗位角色（{', '.join(JOB_ROLES)}，多个用逗号分隔）或旧角色名"
                          f"（{', '.join(ROLES)}）")
    add.add_argument("--scope", required=True,
                     help="行政区划代码（admin 000000，省 430000，市 430100，县 430102），"
                          "库点用户为库点编码")
    add.add_argument("--read-only", action="store_true", help="只读用户：不能写入")
    add.set_defaults(func=_add)

    lst = actions.add_parser("list", help="列出用户（从不显示令牌）：名称、范围类别、范围、读写、状态、岗位角色")
    lst.set_defaults(func=_list)

    grant = actions.add_parser("grant", help="在用户的范围内授予一个岗位角色（追加一条授予记录）")
    grant.add_argument("name")
    grant.add_argument("--role", required=True, type=_one_role, metavar="ROLE",
                       help=f"岗位角色：{', '.join(JOB_ROLES)}")
    grant.set_defaults(func=_grant)

    revoke = actions.add_parser("revoke", help="撤销一个岗位角色（--role，追加一条撤销记录），或吊销用户的令牌")
    revoke.add_argument("name")
    revoke.add_argument("--role", type=_one_role, metavar="ROLE", help="只撤销这个岗位角色")
    revoke.set_defaults(func=_revoke)

    history = actions.add_parser("history", help="列出用户岗位角色的每一次授予与撤销（谁的、何时）")
    history.add_argument("name")
    history.set_defaults(func=_history)


def _role_list(text: str) -> str:
    known = (*ROLES, *JOB_ROLES)
    for name in text.split(","):
        if name.strip() not in known:
            raise argparse.ArgumentTypeError(
                f"无效的角色 {name.strip()!r}（可选：{', '.join(dict.fromkeys(known))}）")
    return text


def _one_role(text: str) -> str:
    if text not in JOB_ROLES:
        raise argparse.ArgumentTypeError(f"无效的岗位角色 {text!r}（可选：{', '.join(JOB_ROLES)}）")
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
            state = f"已吊销 {u.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if u.revoked_at else "在用"
            access = "可读写" if u.can_write else "只读"
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


CHANGE_NAMES = {"grant": "授予", "revoke": "撤销"}


def _history(args: argparse.Namespace) -> int:
    from central.users import role_history

    def action(conn) -> int:
        changes = role_history(conn, args.name)
        if not changes:
            print(f"用户 {args.name} 没有岗位角色记录", file=sys.stderr)
            return 1
        for change, role, scope, at in changes:
            print(f"{at:%Y-%m-%dT%H:%M:%SZ}\t{CHANGE_NAMES.get(change, change)}\t{role}\t{scope}")
        return 0

    return _run(args, action)

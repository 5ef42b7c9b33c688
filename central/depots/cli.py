"""`grainlink central depot add|list|approve|dismiss`: depot identity from provisioning."""

from __future__ import annotations

import argparse
import sys


def register_depot(subparsers) -> None:
    """Add the `depot` subcommand group to central's subparsers."""
    depot = subparsers.add_parser(
        "depot", help="登记的库点和暂存的布局：登记、列出、批准、驳回",
        description="中心从部署登记得知每个库点的代码和所属地区；与之不符的布局"
                    "暂存在这里，等待主管处理。")
    depot.add_argument("--settings", metavar="FILE", help="设置文件（YAML）")
    depot.set_defaults(func=lambda _a: (depot.print_help(), 2)[1])
    actions = depot.add_subparsers(dest="depot_command", metavar="ACTION")

    add = actions.add_parser("add", help="在所属县登记一个库点代码")
    add.add_argument("code", help="库点代码（即它在消息服务器上的用户名）")
    add.add_argument("--region", required=True, metavar="COUNTY_CODE",
                     help="6 位县级行政区划代码，如 430102（省、市由它推出）")
    add.add_argument("--name", help="库点名称，如 长沙第一粮库")
    add.add_argument("--update", action="store_true",
                     help="把已登记的库点改到这个地区")
    add.add_argument("--source", choices=("cli", "inventory"), default="cli",
                     help=argparse.SUPPRESS)  # the Ansible central role says "inventory"
    add.set_defaults(func=_add)

    lst = actions.add_parser("list", help="已登记的库点；加 --pending 则列出暂存的布局")
    lst.add_argument("--pending", action="store_true", help="等待主管处理的布局")
    lst.add_argument("--all", action="store_true", help="与 --pending 同用：也列出已处理的")
    lst.set_defaults(func=_list)

    approve = actions.add_parser("approve", help="批准一个待处理布局：按其地区登记库点"
                                 "并应用该布局")
    approve.add_argument("id", type=int, help="待处理布局的编号（见 list --pending）")
    approve.set_defaults(func=_approve)

    dismiss = actions.add_parser("dismiss", help="驳回一个待处理布局（不做任何改动）")
    dismiss.add_argument("id", type=int, help="待处理布局的编号（见 list --pending）")
    dismiss.set_defaults(func=_dismiss)


def _run(args, action) -> int:
    from central.db.cli_session import run_on_database
    from central.depots.store import ProvisionError

    return run_on_database(args, action, application="grainlink-depot",
                           refusals=(ProvisionError,), missing="粮库登记表")


OUTCOMES = {"added": "已登记", "updated": "已更新", "unchanged": "无变化"}


def _add(args) -> int:
    from central.depots.store import provision

    def action(conn, _settings) -> int:
        outcome = provision(conn, args.code, args.region, args.name, source=args.source,
                            update=args.update)
        print(f"粮库 {args.code}：{OUTCOMES.get(outcome, outcome)}（县级代码 {args.region}）",
              file=sys.stderr)
        print(outcome)  # added | updated | unchanged: for scripts (the Ansible role reads it)
        return 0

    return _run(args, action)


def _list(args) -> int:
    from central.depots.identity import REASONS
    from central.depots.store import list_pending, list_registered

    def action(conn, _settings) -> int:
        if args.pending:
            for p in list_pending(conn, include_resolved=args.all):
                when = f"{p.received_at:%Y-%m-%dT%H:%M:%SZ}"
                print(f"{p.id}\t{p.depot}\t{REASONS.get(p.reason, p.reason)}\t{when}\t"
                      f"{p.resolution or '待处理'}\t{p.detail}")
        else:
            for d in list_registered(conn):
                print(f"{d.code}\t{d.region.province}\t{d.region.city}\t{d.region.county}\t"
                      f"{d.source}\t{d.name or ''}")
        return 0

    return _run(args, action)


def _approve(args) -> int:
    from central.depots.identity import LayoutPolicy
    from central.depots.store import approve

    def action(conn, settings) -> int:
        depot = approve(conn, args.id, LayoutPolicy.from_settings(settings))
        print(f"待处理布局 {args.id}：已批准，粮库 {depot} 已登记并更新",
              file=sys.stderr)
        return 0

    return _run(args, action)


def _dismiss(args) -> int:
    from central.depots.store import dismiss

    def action(conn, _settings) -> int:
        depot = dismiss(conn, args.id)
        print(f"粮库 {depot} 的待处理布局 {args.id}：已驳回", file=sys.stderr)
        return 0

    return _run(args, action)

"""The `grainlink` command: one entry point, one subcommand group per part of the system.

Each group lives beside the code it drives (`edge/cli/`, `central/cli.py`, ...) and exposes
`register(parser)`, which adds its subcommands; a subcommand sets `func(args) -> int`.
Group modules keep heavy imports inside their handlers so `grainlink --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys

import central.cli
import edge.cli
import grainlink.demo.cli
import protocols.cli
import simulators.cli
from grainlink import argparse_zh

# (group name, module that registers it, one-line help)
GROUPS = [
    ("edge", edge.cli, "库点边缘代理：运行、检查配置、探测分机、状态、历史读数"),
    ("central", central.cli, "中心服务：服务、入库、迁移、用户、库点、生成业务数据"),
    ("sim", simulators.cli, "设备模拟器：整个模拟库点、模拟摄像机"),
    ("demo", grainlink.demo.cli, "一条命令运行缩小版的模拟省级系统，从设备到页面"),
    ("protocols", protocols.cli, "契约代码：寄存器配置、消息 Schema"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grainlink",
        description="grainlink：储备粮库粮情监测。",
    )
    groups = parser.add_subparsers(dest="group", metavar="GROUP")
    for name, module, help_text in GROUPS:
        sub = groups.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(func=_help_of(sub))
        module.register(sub)
    return parser


def _help_of(parser: argparse.ArgumentParser):
    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def main(argv: list[str] | None = None) -> int:
    argparse_zh.install()  # before the parser is built: argparse words its help titles then
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

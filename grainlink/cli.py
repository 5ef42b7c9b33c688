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

# (group name, module that registers it, one-line help)
GROUPS = [
    ("edge", edge.cli, "the depot edge agent: run, check a configuration, probe a unit, status, history"),
    ("central", central.cli, "the central service: serve, ingest, migrate, users, depots, seed"),
    ("sim", simulators.cli, "device simulators: a whole simulated depot"),
    ("demo", grainlink.demo.cli, "a simulated province in miniature, end to end, in one command"),
    ("protocols", protocols.cli, "the contracts as code: register profiles, message schemas"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grainlink",
        description="grainlink: grain-condition monitoring for reserve depots.",
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

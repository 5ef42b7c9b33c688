"""Subcommands of this group (filled in by the issue that builds it)."""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_subparsers(dest="command", metavar="COMMAND")

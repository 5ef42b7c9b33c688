"""Subcommands of `grainlink central`: serve, ingest, migrate, user, depot."""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # central-api: serve, user
    from central.serve import register_serve
    from central.user_cli import register_user

    register_serve(sub)
    register_user(sub)
    from central.depots.cli import register_depot

    register_depot(sub)
    from central.seed.cli import register_seed

    register_seed(sub)
    # central-ingest: migrate, ingest
    from central.db.commands import register_migrate
    from central.ingest.commands import register_ingest

    register_migrate(sub)
    register_ingest(sub)

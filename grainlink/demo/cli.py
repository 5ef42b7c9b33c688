"""`grainlink demo`: the whole system on one machine (see grainlink/demo/run.py)."""

from __future__ import annotations

import argparse
from pathlib import Path


def default_state_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("grainlink")) / "demo"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="the dashboard's port (default 8000)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="where the database, broker and agents keep their state "
                             "(default: the user's data folder, grainlink/demo)")
    parser.add_argument("--speed", type=float, default=3600.0,
                        help="simulated seconds per real second (default 3600: an hour a second)")
    parser.add_argument("--stop-after", type=float, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args) -> int:
    from grainlink.demo.run import run_demo

    if not 1 <= args.port <= 65535:
        print(f"error: --port {args.port} is not a TCP port")
        return 2
    state_dir = (args.state_dir or default_state_dir()).resolve()
    print(f"grainlink demo: state in {state_dir}", flush=True)
    return run_demo(state_dir, args.port, args.speed, log=lambda m: print(m, flush=True),
                    stop_after=args.stop_after)

"""`grainlink edge run|check|status|scan`."""

from __future__ import annotations

import argparse
import json
import sys


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the agent: poll, buffer, forward")
    run.add_argument("config", help="the depot YAML file")
    run.add_argument("--metrics-port", type=int, default=None, help="override agent.metrics_port")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="validate the depot file; list every problem")
    check.add_argument("config")
    check.set_defaults(func=cmd_check)

    status = sub.add_parser("status", help="granaries, buffer and buses of the running agent")
    status.add_argument("config")
    status.add_argument("--json", action="store_true", help="print the raw JSON")
    status.set_defaults(func=cmd_status)

    scan = sub.add_parser("scan", help="probe a bus: which addresses answer and what they are")
    scan.add_argument("config")
    scan.add_argument("--bus", required=True, help="bus name from the depot file")
    scan.add_argument("--addresses", default=None, help="e.g. 1-20,30 (default: the configured units)")
    scan.add_argument("--profile", default=None, help="profile to probe with (default: configured, else lst1812)")
    scan.add_argument("--timeout", type=float, default=None, help="seconds per request (default: the bus's)")
    scan.set_defaults(func=cmd_scan)


def _load(path: str):
    from edge.config import load_config
    from protocols.depot.loader import ConfigErrors

    try:
        return load_config(path)
    except ConfigErrors as errors:
        for problem in errors.errors:
            print(problem, file=sys.stderr)
        n = len(errors.errors)
        print(f"{path}: {n} problem{'s' if n != 1 else ''}; nothing started", file=sys.stderr)
        return None


def cmd_check(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    if cfg is None:
        return 1
    for warning in cfg.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    depot = cfg.depot
    units = sum(len(b.units) for b in depot.buses)
    cables = sum(len(g.cable_list()) for g in depot.granaries)
    points = sum(c.layers for g in depot.granaries for c in g.cable_list())
    print(f"{args.config}: ok: depot {cfg.code}, {len(depot.granaries)} granaries, {cables} cables, "
          f"{points} points, {len(depot.buses)} buses, {units} units")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import signal
    import threading

    from edge.agent import EdgeAgent
    from edge.jsonlog import setup_logging

    cfg = _load(args.config)
    if cfg is None:
        return 1
    setup_logging(cfg.depot.agent.log_level)
    agent = EdgeAgent(cfg, metrics_port=args.metrics_port)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    agent.start()
    try:
        done.wait()
    finally:
        agent.stop()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from edge.status_cli import fetch_status, format_status

    cfg = _load(args.config)
    if cfg is None:
        return 1
    data, origin = fetch_status(cfg)
    if data is None:
        print(origin, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(format_status(data, origin))
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from edge.probe import parse_addresses, probe_bus

    cfg = _load(args.config)
    if cfg is None:
        return 1
    try:
        bus = cfg.depot.bus(args.bus)
    except KeyError:
        names = ", ".join(b.name for b in cfg.depot.buses) or "none"
        print(f"no bus {args.bus!r} in {args.config} (buses: {names})", file=sys.stderr)
        return 2
    try:
        addresses = parse_addresses(args.addresses) if args.addresses else [u.address for u in bus.units]
    except ValueError as exc:
        print(f"--addresses: {exc}", file=sys.stderr)
        return 2
    if not addresses:
        addresses = list(range(1, 248))
    found = 0
    for line, answered in probe_bus(cfg, bus, addresses, args.profile, args.timeout):
        found += answered
        print(line, flush=True)
    print(f"{found} of {len(addresses)} addresses answered on bus {bus.name}")
    return 0 if found else 1

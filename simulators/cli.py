"""`grainlink sim ...`: device simulators."""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    depot = commands.add_parser(
        "depot",
        help="start every simulated device of one depot file and run until stopped",
        description="Start every Modbus unit and T/RH transmitter of the depot file (TCP "
        "servers and RTU buses on pseudo-terminals), print where each listens, then "
        "'ready'; run until SIGINT/SIGTERM.",
    )
    depot.add_argument("--config", required=True, help="the depot YAML file")
    depot.add_argument("--speed", type=float, help="override simulation.speed")
    depot.add_argument("--seed", type=int, help="override simulation.seed")
    depot.set_defaults(func=run_depot)

    inject = commands.add_parser(
        "inject", help="start a scenario in a running `sim depot` (needs simulation.control_socket)",
        description='Example: grainlink sim inject --config depot.yaml \'{"kind": "hotspot", '
        '"granary": "P01", "cable": 40, "layer": 3, "rate_c_per_day": 2}\'')
    inject.add_argument("--config", required=True, help="the depot YAML file")
    inject.add_argument("scenario", help="the scenario as JSON (as in simulation.scenarios)")
    inject.set_defaults(func=run_inject)
    clear = commands.add_parser("clear", help="end scenarios in a running `sim depot`")
    clear.add_argument("--config", required=True, help="the depot YAML file")
    clear.add_argument("--id", type=int, help="the id `inject` printed (default: all)")
    clear.add_argument("--kind", help="every scenario of this kind")
    clear.set_defaults(func=run_clear)
    __import__("simulators.onvif.cli", fromlist=["add_parser"]).add_parser(commands)


def _control(config_path: str, request: dict) -> int:
    import json

    from protocols.depot.loader import ConfigErrors, resolve_path
    from simulators.control import send
    from simulators.load import load_sim_depot

    try:
        _config, settings = load_sim_depot(config_path)
    except ConfigErrors as exc:
        print(f"grainlink sim: the depot file has problems:\n{exc}", file=sys.stderr)
        return 2
    if not settings.control_socket:
        print(f"grainlink sim: {config_path} has no simulation.control_socket", file=sys.stderr)
        return 2
    path = resolve_path(config_path, settings.control_socket)
    try:
        reply = send(path, request)
    except OSError as exc:
        print(f"grainlink sim: no simulator answers on {path}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(reply, ensure_ascii=False))
    return 0 if reply.get("ok") else 1


def run_inject(args: argparse.Namespace) -> int:
    import json

    try:
        scenario = json.loads(args.scenario)
    except json.JSONDecodeError as exc:
        print(f"grainlink sim inject: scenario is not JSON: {exc}", file=sys.stderr)
        return 2
    return _control(args.config, {"cmd": "inject", "scenario": scenario})


def run_clear(args: argparse.Namespace) -> int:
    return _control(args.config, {"cmd": "clear", "id": args.id, "kind": args.kind})


def run_depot(args: argparse.Namespace) -> int:
    from protocols.depot.loader import ConfigErrors
    from simulators.depot import SimulatedDepot
    from simulators.load import load_sim_depot

    try:
        config, settings = load_sim_depot(args.config)
    except ConfigErrors as exc:
        print(f"grainlink sim depot: the depot file has problems:\n{exc}", file=sys.stderr)
        return 2
    changes = {k: v for k, v in (("speed", args.speed), ("seed", args.seed)) if v is not None}
    if changes:
        settings = settings.model_copy(update=changes)
    depot = SimulatedDepot(config, settings, config_source=args.config)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        endpoints = depot.start()
    except OSError as exc:
        print(f"grainlink sim depot: cannot start a device: {exc}", file=sys.stderr)
        return 1
    try:
        for endpoint in endpoints:
            print(endpoint.line())
        if depot.control_path:
            print(f"control on unix {depot.control_path}")
        print(f"depot {config.depot.code}: simulated time from "
              f"{depot.clock.start.isoformat()} at x{depot.clock.speed:g}")
        print("ready", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        depot.stop()
    print("stopped", flush=True)
    return 0

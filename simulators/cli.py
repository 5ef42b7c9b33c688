"""`grainlink sim ...`: device simulators."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from protocols.os_zh import os_reason


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    depot = commands.add_parser(
        "depot",
        help="启动一个库点配置文件里的全部模拟设备，直到被停止",
        description="启动库点配置文件里的每个 Modbus 分机和温湿度变送器（TCP 服务和"
        "伪终端上的 RTU 总线），逐个打印监听位置，然后打印 'ready'；一直运行到 SIGINT/SIGTERM。",
    )
    depot.add_argument("--config", required=True, help="库点配置文件（YAML）")
    depot.add_argument("--speed", type=float, help="替代 simulation.speed")
    depot.add_argument("--seed", type=int, help="替代 simulation.seed")
    depot.set_defaults(func=run_depot)

    inject = commands.add_parser(
        "inject", help="在运行中的 `sim depot` 里启动一个场景（需要 simulation.control_socket）",
        description='例：grainlink sim inject --config depot.yaml \'{"kind": "hotspot", '
        '"granary": "P01", "cable": 40, "layer": 3, "rate_c_per_day": 2}\'')
    inject.add_argument("--config", required=True, help="库点配置文件（YAML）")
    inject.add_argument("scenario", help="场景，JSON 格式（与 simulation.scenarios 中的写法相同）")
    inject.set_defaults(func=run_inject)
    clear = commands.add_parser("clear", help="结束运行中的 `sim depot` 里的场景")
    clear.add_argument("--config", required=True, help="库点配置文件（YAML）")
    clear.add_argument("--id", type=int, help="`inject` 打印的编号（默认：全部）")
    clear.add_argument("--kind", help="这一类的全部场景")
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
        print(f"grainlink sim：库点配置文件有问题：\n{exc}", file=sys.stderr)
        return 2
    if not settings.control_socket:
        print(f"grainlink sim：{config_path} 没有设置 simulation.control_socket", file=sys.stderr)
        return 2
    path = resolve_path(config_path, settings.control_socket)
    try:
        reply = send(path, request)
    except OSError as exc:
        print(f"grainlink sim：{path} 上没有模拟器应答：{os_reason(exc)}", file=sys.stderr)
        return 1
    print(json.dumps(reply, ensure_ascii=False))
    return 0 if reply.get("ok") else 1


def run_inject(args: argparse.Namespace) -> int:
    import json

    try:
        scenario = json.loads(args.scenario)
    except json.JSONDecodeError as exc:
        print(f"grainlink sim inject：场景不是 JSON：第 {exc.colno} 列，{exc.msg}", file=sys.stderr)
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
        print(f"grainlink sim depot：库点配置文件有问题：\n{exc}", file=sys.stderr)
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
        print(f"grainlink sim depot：无法启动设备：{exc}", file=sys.stderr)
        return 1
    try:
        for endpoint in endpoints:
            print(endpoint.line())
        if depot.control_path:
            print(f"控制接口：unix {depot.control_path}")
        print(f"库点 {config.depot.code}：模拟时间从 "
              f"{depot.clock.start.isoformat()} 开始，{depot.clock.speed:g} 倍速")
        print("ready", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        depot.stop()
    print("stopped", flush=True)
    return 0

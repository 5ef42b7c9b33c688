"""`grainlink edge run|check|status|history|probe`.

`probe` asks a bus which addresses answer; it keeps its old name `scan` as an alias, though
"scan" otherwise means a unit's pass over its cables."""

from __future__ import annotations

import argparse
import json
import sys


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="运行边缘代理：轮询、缓存、转发")
    run.add_argument("config", help="库点配置文件（YAML）")
    run.add_argument("--metrics-port", type=int, default=None, help="替代 agent.metrics_port")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="检查库点配置文件，列出每一处问题")
    check.add_argument("config", help="库点配置文件（YAML）")
    check.set_defaults(func=cmd_check)

    status = sub.add_parser("status", help="运行中代理的仓房、缓存和总线状态")
    status.add_argument("config", help="库点配置文件（YAML）")
    status.add_argument("--json", action="store_true", help="输出原始 JSON")
    status.set_defaults(func=cmd_status)

    history = sub.add_parser("history", help="边缘数据库里保存的读数（现场查看，无需外网）")
    history.add_argument("config", help="库点配置文件（YAML）")
    history.add_argument("--granary", default=None, help="只看一个仓房（默认：整个库点）")
    history.add_argument("--since", default="24h", help="往前看多久，如 6h、3d（默认 24h）")
    history.set_defaults(func=cmd_history)

    probe = sub.add_parser("probe", aliases=["scan"],
                           help="探测总线：哪些地址有应答、各是什么设备")
    probe.add_argument("config", help="库点配置文件（YAML）")
    probe.add_argument("--bus", required=True, help="库点配置文件里的总线名称")
    probe.add_argument("--addresses", default=None, help="如 1-20,30（默认：配置里的分机）")
    probe.add_argument("--profile", default=None, help="探测用的寄存器配置（默认：配置里的，没有则 lst1812）")
    probe.add_argument("--timeout", type=float, default=None, help="每次请求的超时秒数（默认：总线的设置）")
    probe.set_defaults(func=cmd_probe)


def _load(path: str):
    from edge.config import load_config
    from protocols.depot.loader import ConfigErrors

    try:
        return load_config(path)
    except ConfigErrors as errors:
        for problem in errors.errors:
            print(problem, file=sys.stderr)
        n = len(errors.errors)
        print(f"{path}: 共 {n} 处问题，未启动任何部分", file=sys.stderr)
        return None


def cmd_check(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    if cfg is None:
        return 1
    for warning in cfg.warnings:
        print(f"警告：{warning}", file=sys.stderr)
    depot = cfg.depot
    units = sum(len(b.units) for b in depot.buses)
    cables = sum(len(g.cable_list()) for g in depot.granaries)
    points = sum(c.layers for g in depot.granaries for c in g.cable_list())
    print(f"{args.config}: 正常：库点 {cfg.code}，{len(depot.granaries)} 个仓房，{cables} 根电缆，"
          f"{points} 个测点，{len(depot.buses)} 条总线，{units} 个分机")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import signal
    import threading

    from edge.agent import EdgeAgent
    from edge.cli.jsonlog import setup_logging

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
    from edge.cli.status import fetch_status, format_status

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


def cmd_history(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from edge.cli.history import format_history, read_history
    from protocols.depot.durations import parse_duration
    from protocols.timefmt import format_ts, utc_now

    cfg = _load(args.config)
    if cfg is None:
        return 1
    try:
        since = utc_now() - timedelta(seconds=parse_duration(args.since))
    except ValueError as exc:
        print(f"--since：{exc}", file=sys.stderr)
        return 2
    if args.granary and args.granary not in {g.code for g in cfg.depot.granaries}:
        print(f"--granary：{args.config} 中没有仓房 {args.granary}", file=sys.stderr)
        return 2
    kept = read_history(cfg, args.granary, since)
    if kept is None:
        print(f"没有边缘数据库 {cfg.outbox_path}：代理从未在此运行", file=sys.stderr)
        return 1
    grain, air = kept
    print(f"库点 {cfg.code}{'  仓房 ' + args.granary if args.granary else ''}  "
          f"自 {format_ts(since)} 起：{len(grain)} 次电缆扫描，{len(air)} 条温湿度")
    if grain or air:
        print(format_history(grain, air))
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from edge.cli.probe import parse_addresses, probe_bus

    cfg = _load(args.config)
    if cfg is None:
        return 1
    try:
        bus = cfg.depot.bus(args.bus)
    except KeyError:
        names = "、".join(b.name for b in cfg.depot.buses) or "无"
        print(f"--bus：{args.config} 中没有总线 {args.bus!r}（已有总线：{names}）", file=sys.stderr)
        return 2
    try:
        addresses = parse_addresses(args.addresses) if args.addresses else [u.address for u in bus.units]
    except ValueError as exc:
        print(f"--addresses：{exc}", file=sys.stderr)
        return 2
    if not addresses:
        addresses = list(range(1, 248))
    found = 0
    for line, answered in probe_bus(cfg, bus, addresses, args.profile, args.timeout):
        found += answered
        print(line, flush=True)
    print(f"总线 {bus.name}：{len(addresses)} 个地址中有 {found} 个应答")
    return 0 if found else 1

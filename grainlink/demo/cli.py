"""`grainlink demo`: the whole system on one machine (see grainlink/demo/run.py)."""

from __future__ import annotations

import argparse
from pathlib import Path


def default_state_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("grainlink")) / "demo"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="页面端口（默认 8000）")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="数据库、消息服务器和代理存放状态的文件夹"
                             "（默认：用户数据文件夹下的 grainlink/demo）")
    parser.add_argument("--speed", type=float, default=3600.0,
                        help="每一真实秒对应的模拟秒数（默认 3600：一秒一小时）")
    parser.add_argument("--stop-after", type=float, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args) -> int:
    from grainlink.demo.run import run_demo

    if not 1 <= args.port <= 65535:
        print(f"错误：--port {args.port} 不是有效的 TCP 端口")
        return 2
    state_dir = (args.state_dir or default_state_dir()).resolve()
    print(f"grainlink demo：状态文件夹 {state_dir}", flush=True)
    return run_demo(state_dir, args.port, args.speed, log=lambda m: print(m, flush=True),
                    stop_after=args.stop_after)

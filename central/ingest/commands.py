"""`grainlink central ingest`: run one ingest worker until SIGTERM/SIGINT.

The command, not the worker, tunes the interpreter for ingest (runtime.py): those settings
are process-wide, and a worker started elsewhere (a test, a benchmark) must not change them
silently."""

from __future__ import annotations

import signal
import threading


def register_ingest(subparsers) -> None:
    """Add the `ingest` subcommand to central's subparsers."""
    p = subparsers.add_parser("ingest", help="运行一个入库进程（MQTT → PostgreSQL）",
                              description="订阅各库点的主题，把收到的消息存入数据库，"
                              "直到收到 SIGTERM 或 SIGINT。")
    p.add_argument("--settings", metavar="FILE", help="设置文件（YAML）")
    p.add_argument("--client-id", help="MQTT 客户端 ID（设置项 mqtt_client_id）；"
                   "保持不变，代理服务器才会保留会话")
    p.add_argument("--shared", action="store_true",
                   help="使用共享订阅（设置项 ingest_shared_subscription），多个入库进程分担消息")
    p.add_argument("--no-migrate", action="store_true", help="启动前不执行数据库迁移")
    p.set_defaults(func=ingest_command)


def ingest_command(args) -> int:
    from central.db.commands import apply_migrations, command_settings

    overrides: dict = {}
    if args.client_id:
        overrides["mqtt_client_id"] = args.client_id
    if args.shared:
        overrides["ingest_shared_subscription"] = True
    settings = command_settings(args.settings, **overrides)
    if settings is None:
        return 2
    if not args.no_migrate and apply_migrations(settings) is None:
        return 1
    return run_until_signal(settings)


def run_until_signal(settings) -> int:
    from central import wiring
    from central.ingest.runtime import tune_interpreter

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    tune_interpreter()
    worker = wiring.ingest_worker(settings)
    worker.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        worker.stop()
    return 0

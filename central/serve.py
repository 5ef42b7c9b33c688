"""`grainlink central serve`: the API, the ingest worker and the scheduled jobs in one process.

The parts come from central/wiring.py. Order: migrate (unless skipped), start the ingest
worker thread and the jobs, serve HTTP until SIGTERM/SIGINT, then stop the server (finishing
requests), the jobs and the worker (which commits and acknowledges what it holds), and close
the pool.

When it runs ingest in-process (the default; `--no-ingest` does not), `serve` tunes the
interpreter for ingest (central/ingest/runtime.py) and so for the API in the same process.
"""

from __future__ import annotations

import logging
import signal
import threading

log = logging.getLogger("central.serve")


def register_serve(subparsers) -> None:
    """Add the `serve` subcommand to central's subparsers."""
    p = subparsers.add_parser("serve", help="在一个进程中运行 API、入库和定时任务",
                              description="运行 API、入库进程和定时任务，直到收到 SIGTERM 或 SIGINT。")
    p.add_argument("--settings", metavar="FILE", help="设置文件（YAML）")
    p.add_argument("--host", help="监听地址（设置项 api_host）")
    p.add_argument("--port", type=int, help="监听端口（设置项 api_port）")
    p.add_argument("--no-ingest", action="store_true", help="不运行入库进程（另有 `central ingest` 时）")
    p.add_argument("--no-jobs", action="store_true", help="不运行定时任务")
    p.add_argument("--no-migrate", action="store_true", help="启动前不执行数据库迁移")
    p.set_defaults(func=serve_command)


def serve_command(args) -> int:
    from central.db.commands import command_settings

    overrides = {k: v for k, v in (("api_host", args.host), ("api_port", args.port)) if v is not None}
    if args.no_ingest:
        overrides["serve_ingest"] = False
    if args.no_jobs:
        overrides["serve_jobs"] = False
    settings = command_settings(args.settings, **overrides)
    if settings is None:
        return 2
    return serve(settings, migrate_first=not args.no_migrate)


def serve(settings, migrate_first: bool = True) -> int:
    """Run everything until a signal; returns the process exit code."""
    import uvicorn

    from central import wiring

    if migrate_first:
        from central.db.commands import apply_migrations

        if apply_migrations(settings) is None:
            return 1

    # uvicorn handles SIGINT/SIGTERM itself and, once shut down, re-raises the signal to the
    # handler it found: ours only takes note, so the cleanup below runs (the default SIGTERM
    # handler would kill the process with the worker's batch unacknowledged).
    # A signal before uvicorn took over (while the worker starts) is remembered, not lost.
    stop_requested = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop_requested.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    worker = _start_ingest(settings) if settings.serve_ingest else None
    scheduler = wiring.start_scheduler(settings) if settings.serve_jobs else None
    notifier = wiring.start_notifier(settings) if settings.serve_jobs else None
    try:
        app = wiring.build_app(settings)
        config = uvicorn.Config(app, host=settings.api_host, port=settings.api_port,
                                log_level="info", access_log=False, lifespan="on")
        if not stop_requested.is_set():
            uvicorn.Server(config).run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if notifier is not None:
            notifier.stop()
        if worker is not None:
            worker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("serve stopped")
    return 0


def _start_ingest(settings):
    from central import wiring
    from central.ingest.runtime import tune_interpreter

    # Process-wide, so the API in this process runs with it too (see the module notes).
    log.info("ingest runs in this process: interpreter tuned for it (central/ingest/runtime.py)")
    tune_interpreter()
    worker = wiring.ingest_worker(settings)
    worker.start()
    return worker

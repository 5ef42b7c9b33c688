"""`grainlink central ingest`: run one ingest worker until SIGTERM/SIGINT.

The command, not the worker, tunes the interpreter for ingest (runtime.py): those settings
are process-wide, and a worker started elsewhere (a test, a benchmark) must not change them
silently."""

from __future__ import annotations

import signal
import threading


def register_ingest(subparsers) -> None:
    """Add the `ingest` subcommand to central's subparsers."""
    p = subparsers.add_parser("ingest", help="run an ingest worker (MQTT -> PostgreSQL)",
                              description="Subscribe to depot topics and store what arrives.")
    p.add_argument("--settings", metavar="FILE", help="settings file (YAML)")
    p.add_argument("--client-id", help="MQTT client id (setting mqtt_client_id); keep it "
                   "stable so the broker keeps the session")
    p.add_argument("--shared", action="store_true",
                   help="use the shared subscription (setting ingest_shared_subscription)")
    p.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
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

"""Test entry point: a stand-in agent that fills the outbox with scans and publishes it.

Run as a subprocess by the kill tests: it may be SIGKILLed at any moment and restarted; it
continues from the outbox (scans already numbered are not created again) and exits once it
has created `--scans` scans and the broker has acknowledged all of them.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from edge.outbox.outbox import Outbox
from edge.uplink.broker import BrokerSettings
from edge.uplink.uplink import Uplink
from tests.edge.scan_samples import T0, granary_scan


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--depot", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--scans", type=int, default=100)
    p.add_argument("--interval", type=float, default=0.0)
    p.add_argument("--keepalive", type=int, default=30)
    p.add_argument("--max-inflight", type=int, default=10)
    p.add_argument("--linger", type=float, default=0.0, help="stay connected this long at the end")
    args = p.parse_args(argv)

    outbox = Outbox(args.db, args.depot)
    settings = BrokerSettings.from_url(
        args.url, keepalive_s=args.keepalive, max_inflight=args.max_inflight,
        reconnect_min_s=0.1, reconnect_max_s=0.5,
    )
    uplink = Uplink(settings, args.depot, outbox)
    uplink.start()
    print("started", flush=True)
    while outbox.last_batch < args.scans:
        n = outbox.last_batch
        outbox.add_telemetry(*granary_scan(f"P{n % 20 + 1:02d}", T0 + timedelta(hours=n),
                                           cables=20))
        uplink.kick()
        if args.interval:
            time.sleep(args.interval)
    while outbox.stats().pending:
        time.sleep(0.02)
    print("drained", flush=True)
    time.sleep(args.linger)
    uplink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

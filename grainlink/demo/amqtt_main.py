"""`python -m grainlink.demo.amqtt_main CONFIG.json`: the embedded amqtt broker, in its own
process, until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys


async def _serve(config: dict) -> None:
    from amqtt.broker import Broker

    broker = Broker(config)
    await broker.start()
    print("broker started", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await broker.shutdown()
    print("broker stopped", flush=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m grainlink.demo.amqtt_main CONFIG.json", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with open(argv[0], encoding="utf-8") as f:
        config = json.load(f)
    asyncio.run(_serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

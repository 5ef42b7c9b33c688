"""When things run: APScheduler timers hand work to one worker thread per bus.

Each bus has its own single-thread queue, so requests on a bus never overlap and a slow or
dead bus only ever delays itself. The timers only enqueue; a job already waiting in a bus's
queue is not queued twice (a slow bus skips a round instead of piling up).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor as JobPool
from apscheduler.schedulers.background import BackgroundScheduler

from protocols.timefmt import utc_now

log = logging.getLogger(__name__)


class BusWorkers:
    """One single-thread executor per bus, with de-duplication of queued jobs by key."""

    def __init__(self, bus_names: list[str]):
        self._pools = {name: ThreadPoolExecutor(1, thread_name_prefix=f"bus-{name}") for name in bus_names}
        self._queued: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def submit(self, bus: str, key: str, fn: Callable[[], object]) -> Future | None:
        """Queue `fn` on `bus`; None when the same key is already waiting there."""
        with self._lock:
            if (bus, key) in self._queued:
                return None
            self._queued.add((bus, key))

        def run():
            with self._lock:
                self._queued.discard((bus, key))
            return fn()

        return self._pools[bus].submit(run)

    def shutdown(self, wait: bool = True) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=wait, cancel_futures=True)


class EdgeScheduler:
    """Named periodic jobs: `every(name, seconds, fn)`; `bus_every` runs on a bus's worker."""

    def __init__(self, workers: BusWorkers, clock: Callable[[], datetime] = utc_now):
        self.workers = workers
        self.clock = clock
        self.scheduler = BackgroundScheduler(
            executors={"default": JobPool(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )

    def every(self, name: str, seconds: float, fn: Callable[[], object], start_now: bool = True,
              stagger_s: float = 0.0) -> None:
        # APScheduler 3 pauses a job added with next_run_time=None: leave it out to start
        # one interval from now.
        first = {"next_run_time": self.clock() + timedelta(seconds=stagger_s)} if start_now else {}
        self.scheduler.add_job(
            _guarded(name, fn), "interval", seconds=seconds, id=name, name=name,
            replace_existing=True, **first,
        )

    def bus_every(self, name: str, bus: str, seconds: float, fn: Callable[[], object],
                  start_now: bool = True, stagger_s: float = 0.0) -> None:
        def enqueue() -> None:
            if self.workers.submit(bus, name, _guarded(name, fn)) is None:
                log.warning("%s: previous run still queued on bus %s; skipping this round", name, bus,
                            extra={"job": name, "bus": bus})

        self.every(name, seconds, enqueue, start_now=start_now, stagger_s=stagger_s)

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.workers.shutdown(wait=True)

    def jobs(self) -> list[str]:
        return [job.id for job in self.scheduler.get_jobs()]


def _guarded(name: str, fn: Callable[[], object]) -> Callable[[], object]:
    """Jobs log their failures instead of dying silently inside a pool thread."""

    def run():
        try:
            return fn()
        except Exception:
            log.exception("job %s failed", name, extra={"job": name})
            return None

    return run

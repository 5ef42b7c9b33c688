"""When things run: one timer thread hands work to one worker thread per bus.

Each bus has its own single-thread queue, so requests on a bus never overlap and a slow or
dead bus only ever delays itself. The timers only enqueue; a job already waiting in a bus's
queue is not queued twice (a slow bus skips a round instead of piling up).

The timers run on the monotonic clock: a depot box often boots with a wrong wall clock that
NTP later steps by hours, which must neither fire a burst of jobs nor stall them. (A timer
thread of our own, not APScheduler: the agent used a fraction of it at a megabyte and a half
of memory and four more threads.)
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

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


@dataclass
class _Job:
    name: str
    seconds: float
    fn: Callable[[], object]
    next_at: float  # monotonic
    running: bool = False


class EdgeScheduler:
    """Named periodic jobs: `every(name, seconds, fn)`; `bus_every` runs on a bus's worker.

    Jobs run on a small pool; a job still running when it is due again skips that round, and
    rounds missed while the box was busy are run once, not caught up one by one."""

    def __init__(self, workers: BusWorkers, clock: Callable[[], datetime] = utc_now,
                 mono: Callable[[], float] = time.monotonic):
        self.workers = workers
        self.clock = clock  # the wall clock, for callers that log times; timers use `mono`
        self._mono = mono
        self._jobs: dict[str, _Job] = {}
        self._cond = threading.Condition()
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="job")
        self._thread: threading.Thread | None = None
        self._stopping = False

    def every(self, name: str, seconds: float, fn: Callable[[], object], start_now: bool = True,
              stagger_s: float = 0.0) -> None:
        with self._cond:
            first = self._mono() + (stagger_s if start_now else seconds)
            self._jobs[name] = _Job(name, float(seconds), _guarded(name, fn), first)
            self._cond.notify()

    def bus_every(self, name: str, bus: str, seconds: float, fn: Callable[[], object],
                  start_now: bool = True, stagger_s: float = 0.0) -> None:
        def enqueue() -> None:
            if self.workers.submit(bus, name, _guarded(name, fn)) is None:
                log.warning("%s: previous run still queued on bus %s; skipping this round", name, bus,
                            extra={"job": name, "bus": bus})

        self.every(name, seconds, enqueue, start_now=start_now, stagger_s=stagger_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self._cond:
            while not self._stopping:
                now = self._mono()
                for job in self._jobs.values():
                    if job.next_at > now:
                        continue
                    # the next slot after now, on the job's own grid (missed rounds coalesce)
                    job.next_at += job.seconds * (1 + math.floor((now - job.next_at) / job.seconds))
                    if not job.running:
                        job.running = True
                        self._pool.submit(self._call, job)
                soonest = min((j.next_at for j in self._jobs.values()), default=now + 60.0)
                self._cond.wait(timeout=max(0.0, soonest - now))

    def _call(self, job: _Job) -> None:
        try:
            job.fn()
        finally:
            with self._cond:
                job.running = False

    def shutdown(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.workers.shutdown(wait=True)

    def jobs(self) -> list[str]:
        with self._cond:
            return list(self._jobs)


def _guarded(name: str, fn: Callable[[], object]) -> Callable[[], object]:
    """Jobs log their failures instead of dying silently inside a pool thread."""

    def run():
        try:
            return fn()
        except Exception:
            log.exception("job %s failed", name, extra={"job": name})
            return None

    return run

"""Interpreter settings for a process whose main work is ingest, applied explicitly by the
command that runs it (`grainlink central ingest`, `serve` when it runs ingest in-process, the
benchmarks), never by a worker: they are process-wide. bench/central_ingest.py and
bench/alarms_latency.py measure their effect (the README's table has the figures).

- The cyclic garbage collector. A worker holds up to a broker window of decoded messages
  (hundreds of thousands of small objects, none in a cycle); with the default thresholds
  every 700 allocations start a collection and the full ones walk all of them. Collections
  every 50,000 allocations, and objects that live as long as the process (modules,
  settings) moved out of the collector's view.
- The GIL switch interval. The writer thread waits for the GIL after every database round
  trip while the network thread decodes; a shorter interval shortens each wait.
"""

from __future__ import annotations

import gc
import sys
import threading

GC_THRESHOLDS = (50_000, 20, 100)
SWITCH_INTERVAL_S = 0.0005

_applied = threading.Event()


def tune_interpreter() -> None:
    """Apply the settings above; later calls do nothing."""
    if _applied.is_set():
        return
    _applied.set()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL_S)

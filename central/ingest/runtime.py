"""Interpreter settings for a process that runs an ingest worker (`central serve`,
`central ingest`, the benchmarks), applied once when the first worker starts.

Measured with bench/central_ingest.py and bench/alarms_latency.py on 2 cores, both about
+20 % readings/s:

- The cyclic garbage collector. A worker holds up to a broker window of decoded messages
  (hundreds of thousands of small objects, none in a cycle); with the default thresholds
  every 700 allocations start a collection and the full ones walk all of them (~140 ms
  each, dozens per minute). Collections every 50,000 allocations, and objects that live
  as long as the process (modules, settings) moved out of the collector's view.
- The GIL switch interval. The writer thread waits for the GIL after every database round
  trip while the network thread decodes; 0.5 ms instead of 5 ms shortens each wait.
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

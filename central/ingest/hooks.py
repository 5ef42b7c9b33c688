"""Hooks other parts plug into ingest (the alarm rules, camera stills).

Decision: hooks run INSIDE the ingest transaction, after the batch's rows are inserted and
before the commit, each in its own savepoint. So a hook sees the new readings, its own writes
commit atomically with them (alarm state never lags the data it was computed from), and a
redelivery that is rolled back re-runs it. A hook that raises is logged and counted
(`grainlink_ingest_hook_errors_total`), its savepoint rolled back, and the readings still
commit: a bug in a rule must never stop data from being stored. A lost database connection
inside a hook fails the whole batch, which is retried.

- `register_scan_hook(fn(conn, depot, telemetry))`: once per NEW telemetry message (a
  redelivered batch number that is already stored does not call it again).
- `register_batch_scan_hook(fn(conn, [(depot, telemetry, prepared), ...]))`: once per ingest
  transaction with all of its new telemetry messages (one call instead of one per message:
  the alarm rules fetch what they need for a whole batch in a few queries); `prepared` is
  the dict of the preparers' results for that message.
- `register_telemetry_preparer(name, fn(telemetry))`: as each telemetry message is decoded,
  on the worker's network thread, outside any transaction and never with the database:
  work a batch hook would otherwise do while the batch's transaction waits (the alarm
  rules' per-scan figures). What it returns reaches the batch scan hooks with the message,
  as `prepared[name]`; a preparer that raises is logged and counted, and the hook then
  does the work itself.
- `register_message_hook(kind, fn(conn, depot, message))`: for other kinds (`snapshot`,
  `cmd/result`, `events`, `layout`, `status`); the worker subscribes to `snapshot` and
  `cmd/result` only when a hook for them is registered.

Modules named in `HOOK_MODULES` (or `GRAINLINK_INGEST_HOOK_MODULES`, comma-separated) are
imported when a worker starts so they can register themselves; a missing one is skipped.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable

from central.metrics import INGEST_HOOK_ERRORS

log = logging.getLogger("central.ingest.hooks")

HOOK_MODULES = ("central.alarms.ingest_hook", "central.cameras.ingest_hook")

ScanHook = Callable[..., None]
_lock = threading.Lock()
_scan_hooks: list[ScanHook] = []
_batch_scan_hooks: list[Callable[..., None]] = []
_message_hooks: dict[str, list[Callable[..., None]]] = {}
_preparers: dict[str, Callable[[object], object]] = {}


def register_scan_hook(fn: ScanHook) -> ScanHook:
    """Call `fn(conn, depot, telemetry)` for each new telemetry message (usable as decorator)."""
    with _lock:
        if fn not in _scan_hooks:
            _scan_hooks.append(fn)
    return fn


def register_batch_scan_hook(fn: Callable[..., None]) -> Callable[..., None]:
    """Call `fn(conn, [(depot, telemetry), ...])` once per transaction with its new telemetry."""
    with _lock:
        if fn not in _batch_scan_hooks:
            _batch_scan_hooks.append(fn)
    return fn


def batch_scan_hooks() -> list[Callable[..., None]]:
    with _lock:
        return list(_batch_scan_hooks)


def register_telemetry_preparer(name: str, fn: Callable[[object], object]) -> None:
    with _lock:
        _preparers[name] = fn


def unregister_telemetry_preparer(name: str) -> None:
    with _lock:
        _preparers.pop(name, None)


def prepare_telemetry(message) -> dict[str, object]:
    """Every preparer's result for one decoded telemetry message (see the module notes)."""
    with _lock:
        preparers = list(_preparers.items())
    out = {}
    for name, fn in preparers:
        try:
            out[name] = fn(message)
        except Exception:
            INGEST_HOOK_ERRORS.inc(hook=name)
            log.exception("telemetry preparer %s failed for depot %s", name,
                          getattr(message, "depot", "?"))
    return out


def unregister_scan_hook(fn: ScanHook) -> None:
    with _lock:
        if fn in _scan_hooks:
            _scan_hooks.remove(fn)


def register_message_hook(kind: str, fn: Callable[..., None]) -> Callable[..., None]:
    """Call `fn(conn, depot, message)` for each message of topic kind `kind`."""
    with _lock:
        hooks = _message_hooks.setdefault(kind, [])
        if fn not in hooks:
            hooks.append(fn)
    return fn


def unregister_message_hook(kind: str, fn: Callable[..., None]) -> None:
    with _lock:
        if fn in _message_hooks.get(kind, []):
            _message_hooks[kind].remove(fn)


def scan_hooks() -> list[ScanHook]:
    with _lock:
        return list(_scan_hooks)


def message_hooks(kind: str) -> list[Callable[..., None]]:
    with _lock:
        return list(_message_hooks.get(kind, []))


def hooked_kinds() -> set[str]:
    with _lock:
        return {k for k, v in _message_hooks.items() if v}


def load_hook_modules(names: tuple[str, ...] | None = None) -> list[str]:
    """Import the hook modules that exist; returns those imported."""
    if names is None:
        extra = os.environ.get("GRAINLINK_INGEST_HOOK_MODULES", "")
        names = HOOK_MODULES + tuple(n.strip() for n in extra.split(",") if n.strip())
    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                continue  # that part is not installed here
            log.exception("ingest hook module %s failed to import", name)
            continue
        except Exception:
            log.exception("ingest hook module %s failed to import", name)
            continue
        loaded.append(name)
    return loaded

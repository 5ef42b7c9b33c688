"""What other parts run inside ingest (the alarm rules, camera stills), handed to the worker.

`central/wiring.py` builds one `IngestHooks` and passes it to `IngestWorker`; nothing here is
global, so a test builds the hooks it wants the same way.

Decision: hooks run INSIDE the ingest transaction, after the batch's rows are inserted and
before the commit, each in its own savepoint. So a hook sees the new readings, its own writes
commit atomically with them (alarm state never lags the data it was computed from), and a
redelivery that is rolled back re-runs it. A hook that raises is logged and counted
(`grainlink_ingest_hook_errors_total`), its savepoint rolled back, and the readings still
commit: a bug in a rule must never stop data from being stored. A lost database connection
inside a hook fails the whole batch, which is retried.

- `batch`: `fn(conn, [(depot, telemetry, prepared), ...])`, once per ingest transaction with
  all of its NEW telemetry messages (a redelivered batch number that is already stored is
  not passed again); one call instead of one per message, so the alarm rules fetch what
  they need for a whole batch in a few queries. `prepared` is the dict of the preparers'
  results for that message.
- `preparers`: name → `fn(telemetry)`, run as each telemetry message is decoded, on the
  worker's network thread, outside any transaction and never with the database: work a
  batch hook would otherwise do while the batch's transaction waits (the alarm rules'
  per-scan figures). What it returns reaches the batch hooks as `prepared[name]`; a
  preparer that raises is logged and counted, and the hook then does the work itself.
- `messages`: kind → `[fn(conn, depot, message)]` for other kinds (`snapshot`, `cmd/result`,
  `events`, `layout`, `status`); the worker subscribes to `snapshot` and `cmd/result` only
  when a hook for them is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from central.metrics import INGEST_HOOK_ERRORS

log = logging.getLogger("central.ingest.hooks")

BatchHook = Callable[[object, list], None]
MessageHook = Callable[[object, str, object], None]
Preparer = Callable[[object], object]


@dataclass(frozen=True)
class IngestHooks:
    batch: Sequence[BatchHook] = ()
    preparers: Mapping[str, Preparer] = field(default_factory=dict)
    messages: Mapping[str, Sequence[MessageHook]] = field(default_factory=dict)

    def kinds(self) -> set[str]:
        """Message kinds that have at least one hook."""
        return {kind for kind, fns in self.messages.items() if fns}

    def for_kind(self, kind: str) -> Sequence[MessageHook]:
        return self.messages.get(kind, ())

    def prepare(self, message) -> dict[str, object]:
        """Every preparer's result for one decoded telemetry message (see the module notes)."""
        out = {}
        for name, fn in self.preparers.items():
            try:
                out[name] = fn(message)
            except Exception:
                INGEST_HOOK_ERRORS.inc(hook=name)
                log.exception("telemetry preparer %s failed for depot %s", name,
                              getattr(message, "depot", "?"))
        return out


NO_HOOKS = IngestHooks()

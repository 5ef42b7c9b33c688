"""Grain-condition alarms, by concern (the rules themselves are pure functions in central/rules/):

- `evaluate/`: at ingest, inside the transaction that stores the readings: a new scan →
  its figures (`scan_source`, `quiet`, `layout_cache`) → the scan rules → alarm state
  (`ingest_hook`).
- `scheduled/`: the time-based checks the scheduler runs (`jobs`, `checks`).
- `state/`: what is stored: alarms and their history (`store`, `queries`), thresholds
  (`thresholds_store`), insect inspections (`inspections`).
- `notify/`: alarm changes out to MQTT and webhooks from the alarms' outbox.
- `advice.py`: the advice beside a granary's latest readings (never an alarm).
"""
